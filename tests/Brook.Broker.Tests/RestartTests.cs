using Confluent.Kafka;

namespace Brook.Broker.Tests;

public sealed class RestartTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-restart-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private BrokerOptions DiskOptions() => new() { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = _dataDir };

    [Fact]
    public async Task Data_topics_and_identity_survive_a_restart_on_the_same_directory()
    {
        string clusterId;
        Protocol.KafkaUuid topicId;
        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            clusterId = broker.Node.ClusterId;
            await Clients.CreateTopicAsync(broker, "durable", 2, new Dictionary<string, string> { ["retention.ms"] = "86400000" });
            topicId = broker.Store.GetTopic("durable")!.TopicId;
            using var producer = Clients.Producer(broker, c => c.Acks = Acks.All);
            for (var i = 0; i < 500; i++)
                producer.Produce("durable", new Message<string, string> { Key = "k" + i, Value = "v" + i });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        await using (var broker = await BrookBroker.StartAsync(DiskOptions()))
        {
            Assert.Equal(clusterId, broker.Node.ClusterId);
            var topic = broker.Store.GetTopic("durable");
            Assert.NotNull(topic);
            Assert.Equal(topicId, topic.TopicId);
            Assert.Equal("86400000", topic.Configs["retention.ms"]);
            var received = Clients.ConsumeAll(broker, "durable", 2, expected: 500);
            Assert.Equal(Enumerable.Range(0, 500).Select(i => "v" + i).Order(), received.Select(r => r.Message.Value).Order());

            // Appends continue after the recovered end offset.
            using var producer = Clients.Producer(broker);
            var report = await producer.ProduceAsync(new TopicPartition("durable", 0), new Message<string, string> { Key = "k", Value = "after" });
            Assert.Equal(received.Count(r => r.Partition.Value == 0), report.Offset.Value);
        }
    }
}
