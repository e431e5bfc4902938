using Brook.Broker.Transactions;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Broker.Tests.Transactions;

/// <summary>Transactions driven by Confluent.Kafka (librdkafka) producers and consumers against an embedded broker.</summary>
public sealed class TransactionClientTests : IAsyncLifetime
{
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30);
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs =
        {
            ["group.initial.rebalance.delay.ms"] = "0",
            ["transaction.abort.timed.out.transaction.cleanup.interval.ms"] = "100",
        },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private IProducer<string, string> TransactionalProducer(string transactionalId, int timeoutMs = 60_000) => Clients.Producer(_broker, c =>
    {
        c.TransactionalId = transactionalId;
        c.TransactionTimeoutMs = timeoutMs;
        c.MessageTimeoutMs = timeoutMs;
    });

    private List<string> ReadValues(string topic, IsolationLevel isolation, int expected, TimeSpan? timeout = null)
    {
        using var consumer = Clients.Consumer(_broker, c => c.IsolationLevel = isolation);
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow + (timeout ?? ClientTimeout);
        while (values.Count < expected && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) values.Add(r.Message.Value);
        }
        return values;
    }

    /// <summary>Reads until the consumer has reached the partition's end offset for its isolation level, then returns everything seen.</summary>
    private List<string> ReadToEnd(string topic, IsolationLevel isolation)
    {
        using var consumer = Clients.Consumer(_broker, c =>
        {
            c.IsolationLevel = isolation;
            c.EnablePartitionEof = true;
        });
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow + ClientTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null) continue;
            if (r.IsPartitionEOF) return values;
            values.Add(r.Message.Value);
        }
        throw new TimeoutException($"No end of partition for {topic} within {ClientTimeout}.");
    }

    private Storage.IPartitionLog Log(string topic) => _broker.Store.GetPartition(topic, 0)!;

    private TransactionCoordinator Coordinator => _broker.Services.GetRequiredService<TransactionCoordinator>();

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + ClientTimeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what}.");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Aborted_records_are_invisible_to_read_committed_and_visible_to_read_uncommitted()
    {
        await Clients.CreateTopicAsync(_broker, "payments", 1);
        using var producer = TransactionalProducer("payments-app");
        producer.InitTransactions(ClientTimeout);

        producer.BeginTransaction();
        for (var i = 0; i < 3; i++) await producer.ProduceAsync("payments", new Message<string, string> { Key = "k", Value = $"aborted-{i}" });
        producer.AbortTransaction(ClientTimeout);
        producer.BeginTransaction();
        for (var i = 0; i < 3; i++) await producer.ProduceAsync("payments", new Message<string, string> { Key = "k", Value = $"committed-{i}" });
        producer.CommitTransaction(ClientTimeout);

        Assert.Equal(["committed-0", "committed-1", "committed-2"], ReadToEnd("payments", IsolationLevel.ReadCommitted));
        Assert.Equal(["aborted-0", "aborted-1", "aborted-2", "committed-0", "committed-1", "committed-2"], ReadToEnd("payments", IsolationLevel.ReadUncommitted));
        // Two markers after six records; nothing is left open.
        Assert.Equal(8, Log("payments").HighWatermark);
        Assert.Equal(8, Log("payments").LastStableOffset);
        Assert.Equal(TransactionState.CompleteCommit, Coordinator.Describe("payments-app")!.State);
    }

    [Fact]
    public async Task An_open_transaction_holds_back_read_committed_consumers_at_the_last_stable_offset()
    {
        await Clients.CreateTopicAsync(_broker, "ledger", 1);
        using var transactional = TransactionalProducer("ledger-app");
        using var plain = Clients.Producer(_broker);
        transactional.InitTransactions(ClientTimeout);
        await plain.ProduceAsync("ledger", new Message<string, string> { Key = "k", Value = "before" });

        transactional.BeginTransaction();
        await transactional.ProduceAsync("ledger", new Message<string, string> { Key = "k", Value = "in-transaction" });
        await plain.ProduceAsync("ledger", new Message<string, string> { Key = "k", Value = "after" });

        Assert.Equal(1, Log("ledger").LastStableOffset);
        Assert.Equal(3, Log("ledger").HighWatermark);
        Assert.Equal(["before"], ReadToEnd("ledger", IsolationLevel.ReadCommitted));
        using (var consumer = Clients.Consumer(_broker, c => c.IsolationLevel = IsolationLevel.ReadCommitted))
        {
            // ListOffsets latest with read_committed answers the last stable offset.
            var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition("ledger", 0), ClientTimeout);
            Assert.Equal(1, watermarks.High.Value);
        }

        transactional.CommitTransaction(ClientTimeout);

        Assert.Equal(["before", "in-transaction", "after"], ReadValues("ledger", IsolationLevel.ReadCommitted, 3));
    }

    [Fact]
    public async Task A_second_producer_with_the_same_transactional_id_fences_the_first()
    {
        await Clients.CreateTopicAsync(_broker, "orders", 1);
        using var zombie = TransactionalProducer("orders-app");
        zombie.InitTransactions(ClientTimeout);
        zombie.BeginTransaction();
        await zombie.ProduceAsync("orders", new Message<string, string> { Key = "k", Value = "from-zombie" });
        var zombieEpoch = Coordinator.Describe("orders-app")!.Epoch;

        using var successor = TransactionalProducer("orders-app");
        successor.InitTransactions(ClientTimeout);
        Assert.True(Coordinator.Describe("orders-app")!.Epoch > zombieEpoch);

        var fenced = Assert.ThrowsAny<KafkaException>(() => zombie.CommitTransaction(ClientTimeout));
        Assert.True(fenced is KafkaException { Error.IsFatal: true } || fenced.Error.Code == Confluent.Kafka.ErrorCode.ProducerFenced, fenced.Error.ToString());

        successor.BeginTransaction();
        await successor.ProduceAsync("orders", new Message<string, string> { Key = "k", Value = "from-successor" });
        successor.CommitTransaction(ClientTimeout);

        Assert.Equal(["from-successor"], ReadToEnd("orders", IsolationLevel.ReadCommitted));
        Assert.Equal(["from-zombie", "from-successor"], ReadToEnd("orders", IsolationLevel.ReadUncommitted));
    }

    [Fact]
    public async Task A_stalled_transaction_is_aborted_when_its_timeout_passes()
    {
        await Clients.CreateTopicAsync(_broker, "stalled", 1);
        using var producer = TransactionalProducer("stalled-app", timeoutMs: 1_000);
        producer.InitTransactions(ClientTimeout);
        producer.BeginTransaction();
        await producer.ProduceAsync("stalled", new Message<string, string> { Key = "k", Value = "never-committed" });
        var epoch = Coordinator.Describe("stalled-app")!.Epoch;
        Assert.Equal(0, Log("stalled").LastStableOffset);

        await WaitUntilAsync(() => Coordinator.Describe("stalled-app")!.State == TransactionState.CompleteAbort, "the timeout to abort the transaction");

        Assert.Equal(epoch + 1, Coordinator.Describe("stalled-app")!.Epoch);
        Assert.Equal(2, Log("stalled").LastStableOffset); // the record and the abort marker
        Assert.Empty(ReadToEnd("stalled", IsolationLevel.ReadCommitted));
        Assert.ThrowsAny<KafkaException>(() => producer.CommitTransaction(ClientTimeout));
    }
}
