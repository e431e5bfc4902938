using Confluent.Kafka;

namespace Brook.Broker.Tests.Groups;

/// <summary>Groups and committed offsets kept on disk across a broker restart.</summary>
public sealed class GroupRestartTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-groups-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private BrokerOptions DiskOptions() => new()
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        DataDirectory = _dataDir,
        Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
    };

    private static IConsumer<string, string> GroupConsumer(BrookBroker broker) => Clients.Consumer(broker, c =>
    {
        c.GroupId = "restart-group";
        c.SessionTimeoutMs = 6000;
        c.HeartbeatIntervalMs = 300;
    });

    private static List<ConsumeResult<string, string>> Read(IConsumer<string, string> consumer, int count)
    {
        var read = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (read.Count < count)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Read {read.Count} of {count} records before the deadline.");
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) read.Add(r);
        }
        return read;
    }

    [Fact]
    public async Task Committed_offsets_survive_a_broker_restart_and_a_new_consumer_resumes_from_them()
    {
        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            await Clients.CreateTopicAsync(broker, "restart-topic", 1);
            using (var producer = Clients.Producer(broker))
            {
                for (var i = 0; i < 10; i++) producer.Produce("restart-topic", new Message<string, string> { Key = "k", Value = "v" + i });
                Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
            }
            using var consumer = GroupConsumer(broker);
            consumer.Subscribe("restart-topic");
            var read = Read(consumer, 6);
            consumer.Commit(read[5]); // next record to read: offset 6
            consumer.Close();
        }

        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            using var admin = Clients.Admin(broker);
            var listed = await admin.ListConsumerGroupsAsync();
            Assert.Contains(listed.Valid, g => g.GroupId == "restart-group" && g.State == ConsumerGroupState.Empty);
            var offsets = Assert.Single(await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("restart-group", null)]));
            Assert.Equal(6, Assert.Single(offsets.Partitions).Offset.Value);

            using var consumer = GroupConsumer(broker);
            consumer.Subscribe("restart-topic");
            var next = Read(consumer, 1)[0];
            Assert.Equal(6, next.Offset.Value);
            Assert.Equal("v6", next.Message.Value);
            consumer.Close();
        }
    }
}
