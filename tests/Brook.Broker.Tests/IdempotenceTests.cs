using Brook.Broker.Network;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using static Brook.Broker.Tests.RawProduce;
using ErrorCode = Brook.Protocol.ErrorCode;

namespace Brook.Broker.Tests;

public sealed class IdempotenceTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-idempotence-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private BrokerOptions DiskOptions() => new() { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = _dataDir };

    private static async Task<ProduceResponse.PartitionProduceResponse> ProduceAsync(RawClient client, string topic, byte[] records) =>
        (await client.SendAsync<ProduceResponse>(RawProduce.Request(topic, records), 9)).Responses[0].PartitionResponses[0];

    private static Task<InitProducerIdResponse> InitAsync(RawClient client, string? transactionalId = null, long producerId = -1, short epoch = -1, short version = 4) =>
        client.SendAsync<InitProducerIdResponse>(
            new InitProducerIdRequest { TransactionalId = transactionalId, TransactionTimeoutMs = 60_000, ProducerId = producerId, ProducerEpoch = epoch }, version);

    [Fact]
    public async Task InitProducerId_gives_each_idempotent_producer_a_new_id_and_transactional_ids_a_bumped_epoch()
    {
        await using var broker = await BrookBroker.StartAsync();
        using var client = await RawClient.ConnectAsync(broker);

        var first = await InitAsync(client);
        var second = await InitAsync(client, producerId: first.ProducerId, epoch: first.ProducerEpoch);
        Assert.Equal((short)ErrorCode.None, first.ErrorCode);
        Assert.True(first.ProducerId >= 0);
        Assert.Equal(0, first.ProducerEpoch);
        Assert.True(second.ProducerId > first.ProducerId);
        Assert.Equal(0, second.ProducerEpoch);

        var t0 = await InitAsync(client, "orders-app");
        var t1 = await InitAsync(client, "orders-app");
        Assert.Equal((short)ErrorCode.None, t1.ErrorCode);
        Assert.Equal(t0.ProducerId, t1.ProducerId);
        Assert.Equal(t0.ProducerEpoch + 1, t1.ProducerEpoch);
        Assert.NotEqual(t0.ProducerId, (await InitAsync(client, "other-app")).ProducerId);

        // KIP-360: the current id and epoch bump; a stale one is fenced (INVALID_PRODUCER_EPOCH before v4).
        var bumped = await InitAsync(client, "orders-app", t1.ProducerId, t1.ProducerEpoch);
        Assert.Equal(t1.ProducerEpoch + 1, bumped.ProducerEpoch);
        Assert.Equal((short)ErrorCode.ProducerFenced, (await InitAsync(client, "orders-app", t0.ProducerId, t0.ProducerEpoch)).ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidProducerEpoch, (await InitAsync(client, "orders-app", t0.ProducerId, t0.ProducerEpoch, version: 3)).ErrorCode);
        // A retry of the bump whose answer was lost gets the same answer again.
        var retried = await InitAsync(client, "orders-app", t1.ProducerId, t1.ProducerEpoch);
        Assert.Equal((bumped.ProducerId, bumped.ProducerEpoch), (retried.ProducerId, retried.ProducerEpoch));

        Assert.Equal((short)ErrorCode.InvalidRequest, (await InitAsync(client, "")).ErrorCode);
        var badTimeout = await client.SendAsync<InitProducerIdResponse>(new InitProducerIdRequest { TransactionalId = "x", TransactionTimeoutMs = 0 }, 4);
        Assert.Equal((short)ErrorCode.InvalidTransactionTimeout, badTimeout.ErrorCode);
    }

    [Fact]
    public async Task Producer_ids_are_never_reused_and_transactional_epochs_survive_a_restart()
    {
        long lastId;
        InitProducerIdResponse transactional;
        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            using var client = await RawClient.ConnectAsync(broker);
            lastId = (await InitAsync(client)).ProducerId;
            transactional = await InitAsync(client, "payments");
        }

        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            using var client = await RawClient.ConnectAsync(broker);
            var next = await InitAsync(client);
            Assert.True(next.ProducerId > Math.Max(lastId, transactional.ProducerId));
            var again = await InitAsync(client, "payments");
            Assert.Equal(transactional.ProducerId, again.ProducerId);
            Assert.Equal(transactional.ProducerEpoch + 1, again.ProducerEpoch);
        }
    }

    [Fact]
    public async Task The_same_idempotent_produce_request_sent_twice_is_appended_once()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "once", 1);
        using var client = await RawClient.ConnectAsync(broker);
        var producer = await InitAsync(client);
        var log = broker.Store.GetPartition("once", 0)!;
        await ProduceAsync(client, "once", Batch(producer.ProducerId, 0, 0));

        var records = Batch(producer.ProducerId, 0, 3);
        var first = await ProduceAsync(client, "once", records);
        var endAfterFirst = log.LogEndOffset;
        var second = await ProduceAsync(client, "once", records);

        Assert.Equal((short)ErrorCode.None, first.ErrorCode);
        Assert.Equal((short)ErrorCode.None, second.ErrorCode);
        Assert.Equal(3, first.BaseOffset);
        Assert.Equal(first.BaseOffset, second.BaseOffset);
        Assert.Equal(6, endAfterFirst);
        Assert.Equal(endAfterFirst, log.LogEndOffset);

        // Gaps and stale epochs are refused with Kafka's produce error codes.
        var gap = await ProduceAsync(client, "once", Batch(producer.ProducerId, 0, 10));
        Assert.Equal((short)ErrorCode.OutOfOrderSequenceNumber, gap.ErrorCode);
        Assert.Equal(0, (await ProduceAsync(client, "once", Batch(producer.ProducerId, 1, 0))).ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidProducerEpoch, (await ProduceAsync(client, "once", Batch(producer.ProducerId, 0, 6))).ErrorCode);
        Assert.Equal(9, log.LogEndOffset);
    }

    [Fact]
    public async Task A_retry_after_a_restart_is_still_recognised_as_a_duplicate()
    {
        long producerId;
        long baseOffset;
        var records = Array.Empty<byte>();
        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            await Clients.CreateTopicAsync(broker, "durable", 1);
            using var client = await RawClient.ConnectAsync(broker);
            producerId = (await InitAsync(client)).ProducerId;
            await ProduceAsync(client, "durable", Batch(producerId, 0, 0));
            records = Batch(producerId, 0, 3);
            baseOffset = (await ProduceAsync(client, "durable", records)).BaseOffset;
        }

        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            using var client = await RawClient.ConnectAsync(broker);
            var log = broker.Store.GetPartition("durable", 0)!;
            Assert.Equal(6, log.LogEndOffset);

            var retry = await ProduceAsync(client, "durable", records);

            Assert.Equal((short)ErrorCode.None, retry.ErrorCode);
            Assert.Equal(baseOffset, retry.BaseOffset);
            Assert.Equal(6, log.LogEndOffset);
            Assert.Equal((short)ErrorCode.OutOfOrderSequenceNumber, (await ProduceAsync(client, "durable", Batch(producerId, 0, 7))).ErrorCode);
            Assert.Equal(6, (await ProduceAsync(client, "durable", Batch(producerId, 0, 6))).BaseOffset);
        }
    }

    [Fact]
    public async Task An_idempotent_librdkafka_producer_delivers_every_message_once_and_in_order()
    {
        const int Partitions = 3;
        const int Count = 6000;
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "exactly", Partitions);

        using (var producer = Clients.Producer(broker, c =>
        {
            c.EnableIdempotence = true;
            c.Acks = Acks.All;
            c.MaxInFlight = 5;
            c.LingerMs = 2;
        }))
        {
            var errors = 0;
            for (var i = 0; i < Count; i++)
            {
                producer.Produce(new TopicPartition("exactly", i % Partitions), new Message<string, string> { Key = "k" + i, Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    report => { if (report.Error.IsError) Interlocked.Increment(ref errors); });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
            Assert.Equal(0, errors);
        }

        var received = Clients.ConsumeAll(broker, "exactly", Partitions, expected: Count);
        Assert.Equal(Count, received.Count);
        for (var p = 0; p < Partitions; p++)
        {
            var values = received.Where(r => r.Partition.Value == p).Select(r => int.Parse(r.Message.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(Enumerable.Range(0, Count / Partitions).Select(i => i * Partitions + p), values);
            // The producer really was idempotent: its batches carry a producer id and sequences.
            using var read = await broker.Store.GetPartition("exactly", p)!.ReadAsync(0, 1 << 20, true, long.MaxValue);
            var header = new RecordBatchHeader(read.Records.Span);
            Assert.True(header.ProducerId >= 0);
            Assert.Equal(0, header.BaseSequence);
        }
    }

    [Fact]
    public async Task A_produce_whose_response_was_lost_is_retried_by_librdkafka_without_a_duplicate()
    {
        const int Count = 500;
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "lossy", 1);
        var hooks = broker.Services.GetRequiredService<BrokerTestHooks>();
        var dropped = 0;
        // Lose the responses of the second and fifth produce requests after their records were appended.
        var produces = 0;
        hooks.DropResponse = apiKey =>
        {
            if (apiKey != ApiKeys.Produce) return false;
            var n = Interlocked.Increment(ref produces);
            if (n is not (2 or 5)) return false;
            Interlocked.Increment(ref dropped);
            return true;
        };

        using (var producer = Clients.Producer(broker, c =>
        {
            c.EnableIdempotence = true;
            c.Acks = Acks.All;
            c.LingerMs = 1;
            c.BatchNumMessages = 20;
        }))
        {
            var errors = 0;
            for (var i = 0; i < Count; i++)
            {
                producer.Produce(new TopicPartition("lossy", 0), new Message<string, string> { Key = "k", Value = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    report => { if (report.Error.IsError) Interlocked.Increment(ref errors); });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
            Assert.Equal(0, errors);
        }

        Assert.Equal(2, dropped);
        Assert.Equal(Count, broker.Store.GetPartition("lossy", 0)!.LogEndOffset);
        var received = Clients.ConsumeAll(broker, "lossy", 1, expected: Count);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), received.Select(r => r.Message.Value));
    }
}
