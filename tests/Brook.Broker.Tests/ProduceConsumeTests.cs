using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Broker.Tests;

public sealed class ProduceConsumeTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Confluent_producer_and_consumer_round_trip_keys_values_and_headers(CompressionType compression)
    {
        var topic = "orders-" + compression.ToString().ToLowerInvariant();
        await Clients.CreateTopicAsync(_broker, topic, partitions: 3);

        using (var producer = Clients.Producer(_broker, c => c.CompressionType = compression))
        {
            for (var i = 0; i < 300; i++)
            {
                var headers = new Headers { { "seq", Encoding.UTF8.GetBytes(i.ToString()) } };
                producer.Produce(topic, new Message<string, string> { Key = "k" + (i % 10), Value = "value-" + i, Headers = headers });
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var received = Clients.ConsumeAll(_broker, topic, partitions: 3, expected: 300);
        Assert.Equal(300, received.Count);
        Assert.Equal(Enumerable.Range(0, 300).Select(i => "value-" + i).Order(), received.Select(m => m.Message.Value).Order());
        foreach (var m in received)
        {
            var seq = Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes("seq"));
            Assert.Equal("value-" + seq, m.Message.Value);
            Assert.Equal("k" + (int.Parse(seq) % 10), m.Message.Key);
        }
        // Keys hash to one partition each, and offsets within a partition are dense from 0.
        foreach (var partition in received.GroupBy(m => m.Partition.Value))
            Assert.Equal(Enumerable.Range(0, partition.Count()).Select(i => (long)i), partition.Select(m => m.Offset.Value).Order());
    }

    [Fact]
    public async Task Produce_to_a_missing_topic_without_auto_creation_fails_with_unknown_topic()
    {
        await using var broker = await BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            Configs = { ["auto.create.topics.enable"] = "false" },
        });
        using var admin = Clients.Admin(broker);
        var metadata = admin.GetMetadata("no-such-topic", TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, metadata.Topics[0].Error.Code);
        Assert.DoesNotContain(broker.Store.ListTopics(), t => t.Name == "no-such-topic");

        // librdkafka fails the message with the broker's error once the metadata propagation window has passed.
        using var producer = Clients.Producer(broker, c => c.Set("topic.metadata.propagation.max.ms", "500"));
        var ex = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync("no-such-topic", new Message<string, string> { Key = "k", Value = "v" }));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, ex.Error.Code);
    }

    [Fact]
    public async Task Metadata_auto_creates_a_topic_when_enabled()
    {
        using var producer = Clients.Producer(_broker);
        var report = await producer.ProduceAsync("auto-created", new Message<string, string> { Key = "k", Value = "v" });
        Assert.Equal(PersistenceStatus.Persisted, report.Status);
        Assert.Equal(0, report.Offset.Value);
        using var admin = Clients.Admin(_broker);
        var metadata = admin.GetMetadata("auto-created", TimeSpan.FromSeconds(10));
        Assert.Single(metadata.Topics[0].Partitions);
    }

    [Fact]
    public async Task Oversized_message_is_rejected_with_message_too_large()
    {
        await Clients.CreateTopicAsync(_broker, "small", 1, new Dictionary<string, string> { ["max.message.bytes"] = "2000" });
        using var producer = Clients.Producer(_broker, c => c.MessageMaxBytes = 1_000_000);
        var ex = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync("small", new Message<string, string> { Key = "k", Value = new string('x', 10_000) }));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, ex.Error.Code);
    }

    [Fact]
    public async Task Admin_creates_describes_and_deletes_topics()
    {
        using var admin = Clients.Admin(_broker);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-a", NumPartitions = 4, ReplicationFactor = 1 }]);
        var duplicate = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-a", NumPartitions = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, duplicate.Results[0].Error.Code);

        var badReplication = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-b", NumPartitions = 1, ReplicationFactor = 3 }]));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, badReplication.Results[0].Error.Code);

        var description = await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames(["admin-a"]));
        Assert.Equal(4, description.TopicDescriptions[0].Partitions.Count);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "admin-a", IncreaseTo = 6 }]);
        var metadata = admin.GetMetadata("admin-a", TimeSpan.FromSeconds(10));
        Assert.Equal(6, metadata.Topics[0].Partitions.Count);

        await admin.DeleteTopicsAsync(["admin-a"]);
        var all = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(all.Topics, t => t.Topic == "admin-a");
    }

    [Fact]
    public async Task Watermarks_and_offsets_for_times_follow_the_log()
    {
        await Clients.CreateTopicAsync(_broker, "times", 1);
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        using (var producer = Clients.Producer(_broker))
        {
            for (var i = 0; i < 10; i++)
                await producer.ProduceAsync("times", new Message<string, string> { Key = "k", Value = "v" + i, Timestamp = new Timestamp(start.AddMinutes(i)) });
        }
        using var consumer = Clients.Consumer(_broker);
        var tp = new TopicPartition("times", 0);
        var watermarks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
        Assert.Equal(0, watermarks.Low.Value);
        Assert.Equal(10, watermarks.High.Value);
        var found = consumer.OffsetsForTimes([new TopicPartitionTimestamp(tp, new Timestamp(start.AddMinutes(4).AddSeconds(30)))], TimeSpan.FromSeconds(10));
        Assert.Equal(5, found[0].Offset.Value);
    }
}
