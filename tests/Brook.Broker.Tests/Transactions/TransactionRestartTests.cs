using Brook.Broker.Groups;
using Brook.Broker.Transactions;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using ErrorCode = Brook.Protocol.ErrorCode;

namespace Brook.Broker.Tests.Transactions;

/// <summary>Producer and transaction state on disk across broker restarts.</summary>
public sealed class TransactionRestartTests : IDisposable
{
    private const string Topic = "restart";
    private const string Group = "restart-group";
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-txn-restart-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private BrokerOptions DiskOptions(string cleanupIntervalMs = "10000") => new()
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        DataDirectory = _dataDir,
        Configs = { ["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = cleanupIntervalMs },
    };

    private static TransactionCoordinator Coordinator(BrookBroker broker) => broker.Services.GetRequiredService<TransactionCoordinator>();

    /// <summary>Writes: plain "p0", then a transaction with "t0","t1" and the group's offset 42, then plain "p1"; leaves it open.</summary>
    private static async Task<(long ProducerId, short Epoch)> OpenTransactionAsync(BrookBroker broker, int timeoutMs)
    {
        await Clients.CreateTopicAsync(broker, Topic, 1);
        using var client = await RawClient.ConnectAsync(broker);
        var txn = new TxnRequests(client, "restart-app");
        Assert.Equal(0, await txn.InitAsync(timeoutMs));
        Assert.Equal(0, await TxnRequests.ProducePlainAsync(client, Topic, "p0"));
        Assert.Equal(0, await txn.AddPartitionAsync(Topic));
        Assert.Equal(0, await txn.ProduceAsync(Topic, "t0", "t1"));
        Assert.Equal(0, await txn.AddOffsetsAsync(Group));
        Assert.Equal(0, await txn.CommitOffsetAsync(Group, Topic, 42));
        Assert.Equal(0, await TxnRequests.ProducePlainAsync(client, Topic, "p1"));
        var log = broker.Store.GetPartition(Topic, 0)!;
        Assert.Equal(1, log.LastStableOffset);
        Assert.Equal(4, log.HighWatermark);
        return (txn.ProducerId, txn.Epoch);
    }

    private static List<string> ReadCommitted(BrookBroker broker, int expected) =>
        Clients.ConsumeAll(broker, Topic, 1, expected, TimeSpan.FromSeconds(20)).Select(r => r.Message.Value).ToList();

    [Fact]
    public async Task An_open_transaction_survives_a_restart_and_is_committed_after_it()
    {
        (long ProducerId, short Epoch) producer;
        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            producer = await OpenTransactionAsync(broker, timeoutMs: 600_000);
        }

        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            var log = broker.Store.GetPartition(Topic, 0)!;
            Assert.Equal(1, log.LastStableOffset);
            Assert.Equal(4, log.HighWatermark);
            var state = Coordinator(broker).Describe("restart-app")!;
            Assert.Equal(TransactionState.Ongoing, state.State);
            Assert.Equal((producer.ProducerId, producer.Epoch), (state.ProducerId, state.Epoch));
            Assert.Contains(new TxnPartition(Topic, 0), state.Partitions);
            Assert.Equal(1, (await log.DescribeProducersAsync()).Single(p => p.ProducerId == producer.ProducerId).CurrentTxnStartOffset);
            using var client = await RawClient.ConnectAsync(broker);
            Assert.Equal((short)ErrorCode.UnstableOffsetCommit, (await TxnRequests.FetchOffsetAsync(client, Group, Topic, requireStable: true)).Error);
            Assert.Equal(((short)0, -1L), await TxnRequests.FetchOffsetAsync(client, Group, Topic, requireStable: false));

            var txn = new TxnRequests(client, "restart-app");
            txn.Resume(producer.ProducerId, producer.Epoch, nextSequence: 2);
            Assert.Equal(0, await txn.EndAsync(commit: true));

            Assert.Equal(5, log.LastStableOffset); // the marker is the fifth offset
            Assert.Equal(["p0", "t0", "t1", "p1"], ReadCommitted(broker, 4));
            Assert.Equal(((short)0, 42L), await TxnRequests.FetchOffsetAsync(client, Group, Topic, requireStable: true));
        }

        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            Assert.Equal(TransactionState.CompleteCommit, Coordinator(broker).Describe("restart-app")!.State);
            Assert.Equal(5, broker.Store.GetPartition(Topic, 0)!.LastStableOffset);
            using var client = await RawClient.ConnectAsync(broker);
            Assert.Equal(((short)0, 42L), await TxnRequests.FetchOffsetAsync(client, Group, Topic, requireStable: true));
            Assert.Empty(broker.Services.GetRequiredService<GroupCoordinator>().PendingTransactionalOffsets(Group, producer.ProducerId));
        }
    }

    [Fact]
    public async Task An_open_transaction_left_by_a_restart_is_aborted_by_its_timeout()
    {
        (long ProducerId, short Epoch) producer;
        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            producer = await OpenTransactionAsync(broker, timeoutMs: 1_000);
        }

        await using (var broker = await BrookBroker.StartAsync(DiskOptions(cleanupIntervalMs: "100")))
        {
            var coordinator = Coordinator(broker);
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (coordinator.Describe("restart-app")!.State != TransactionState.CompleteAbort)
            {
                Assert.True(DateTime.UtcNow < deadline, "The timeout never aborted the transaction.");
                await Task.Delay(20);
            }
            var log = broker.Store.GetPartition(Topic, 0)!;
            Assert.Equal(5, log.LastStableOffset);
            Assert.Equal([new Storage.AbortedTransaction(producer.ProducerId, 1, 4)], log.AbortedTransactions(0, 5));
            Assert.Equal(["p0", "p1"], ReadCommitted(broker, 2));
            using var client = await RawClient.ConnectAsync(broker);
            Assert.Equal(((short)0, -1L), await TxnRequests.FetchOffsetAsync(client, Group, Topic, requireStable: true));
            Assert.Equal(producer.Epoch + 1, coordinator.Describe("restart-app")!.Epoch);
        }

        // The aborted index is durable: after another restart read_committed still hides the aborted records.
        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            Assert.Equal(5, broker.Store.GetPartition(Topic, 0)!.LastStableOffset);
            Assert.Equal(["p0", "p1"], ReadCommitted(broker, 2));
            using var consumer = Clients.Consumer(broker, c => c.IsolationLevel = IsolationLevel.ReadUncommitted);
            consumer.Assign(new TopicPartitionOffset(Topic, 0, Offset.Beginning));
            var all = new List<string>();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (all.Count < 4 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) all.Add(r.Message.Value);
            }
            Assert.Equal(["p0", "t0", "t1", "p1"], all);
        }
    }
}
