using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Broker.Tests;

public sealed class AdminTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Topic_configs_are_described_with_sources_and_altered_incrementally()
    {
        await Clients.CreateTopicAsync(_broker, "configured", 1, new Dictionary<string, string> { ["retention.ms"] = "3600000" });
        using var admin = Clients.Admin(_broker);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = "configured" };

        var described = (await admin.DescribeConfigsAsync([resource]))[0];
        Assert.Equal("3600000", described.Entries["retention.ms"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, described.Entries["retention.ms"].Source);
        Assert.Equal("delete", described.Entries["cleanup.policy"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, described.Entries["cleanup.policy"].Source);

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] =
            [
                new ConfigEntry { Name = "cleanup.policy", Value = "compact", IncrementalOperation = AlterConfigOpType.Set },
                new ConfigEntry { Name = "retention.ms", IncrementalOperation = AlterConfigOpType.Delete },
            ],
        });
        described = (await admin.DescribeConfigsAsync([resource]))[0];
        Assert.Equal("compact", described.Entries["cleanup.policy"].Value);
        Assert.Equal("604800000", described.Entries["retention.ms"].Value);
        Assert.Equal("compact", _broker.Store.GetTopic("configured")!.Configs["cleanup.policy"]);
    }

    [Fact]
    public async Task Invalid_topic_configs_are_rejected()
    {
        using var admin = Clients.Admin(_broker);
        var ex = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = "bad-config", NumPartitions = 1, Configs = new() { ["cleanup.policy"] = "sometimes" } }]));
        Assert.Equal(ErrorCode.InvalidConfig, ex.Results[0].Error.Code);
        var unknown = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync(
            [new TopicSpecification { Name = "bad-config", NumPartitions = 1, Configs = new() { ["no.such.config"] = "1" } }]));
        Assert.Equal(ErrorCode.InvalidConfig, unknown.Results[0].Error.Code);
        Assert.Null(_broker.Store.GetTopic("bad-config"));
    }

    [Fact]
    public async Task Validate_only_creates_nothing()
    {
        using var admin = Clients.Admin(_broker);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = "dry-run", NumPartitions = 2 }], new CreateTopicsOptions { ValidateOnly = true });
        Assert.Null(_broker.Store.GetTopic("dry-run"));
    }

    [Fact]
    public async Task Broker_configs_and_cluster_are_described()
    {
        using var admin = Clients.Admin(_broker);
        var broker = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "1" }]))[0];
        Assert.Equal("true", broker.Entries["auto.create.topics.enable"].Value);
        Assert.True(broker.Entries.ContainsKey("log.retention.ms") || broker.Entries.ContainsKey("log.retention.hours"));

        var cluster = await admin.DescribeClusterAsync();
        Assert.Equal(_broker.Node.ClusterId, cluster.ClusterId);
        Assert.Single(cluster.Nodes);
        Assert.Equal(_broker.Node.NodeId, cluster.Controller.Id);
    }

    [Fact]
    public async Task Delete_records_moves_the_low_watermark()
    {
        await Clients.CreateTopicAsync(_broker, "trim", 1);
        using (var producer = Clients.Producer(_broker))
        {
            for (var i = 0; i < 20; i++) await producer.ProduceAsync("trim", new Message<string, string> { Key = "k", Value = "v" + i });
        }
        using var admin = Clients.Admin(_broker);
        var result = await admin.DeleteRecordsAsync([new TopicPartitionOffset("trim", 0, 12)]);
        Assert.Equal(12, result[0].Offset.Value);

        var received = Clients.ConsumeAll(_broker, "trim", 1, expected: 8);
        Assert.Equal(Enumerable.Range(12, 8).Select(i => "v" + i), received.Select(r => r.Message.Value));
        using var consumer = Clients.Consumer(_broker);
        Assert.Equal(12, consumer.QueryWatermarkOffsets(new TopicPartition("trim", 0), TimeSpan.FromSeconds(10)).Low.Value);
    }

    [Fact]
    public async Task Log_append_time_topics_stamp_the_broker_time()
    {
        await Clients.CreateTopicAsync(_broker, "stamped", 1, new Dictionary<string, string> { ["message.timestamp.type"] = "LogAppendTime" });
        var before = DateTime.UtcNow.AddSeconds(-5);
        using (var producer = Clients.Producer(_broker))
        {
            var report = await producer.ProduceAsync("stamped", new Message<string, string> { Key = "k", Value = "v", Timestamp = new Timestamp(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc)) });
            Assert.Equal(TimestampType.LogAppendTime, report.Timestamp.Type);
        }
        var received = Clients.ConsumeAll(_broker, "stamped", 1, expected: 1);
        Assert.Equal(TimestampType.LogAppendTime, received[0].Message.Timestamp.Type);
        Assert.True(received[0].Message.Timestamp.UtcDateTime > before);
    }
}
