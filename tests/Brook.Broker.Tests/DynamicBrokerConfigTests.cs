using Brook.Protocol.Messages;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Broker.Tests;

/// <summary>
/// Dynamic broker configs (AlterConfigs / IncrementalAlterConfigs on BROKER resources) through Confluent.Kafka's admin
/// client and kafkajs: per broker and as the cluster default, refused when read-only or unknown, applied at once to
/// produce and topic defaults, kept across a restart, and described with Kafka's sources and synonyms.
/// </summary>
public sealed class DynamicBrokerConfigTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-dyncfg-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    /// <summary>The value the storage layer applies to a topic's partitions (retention, segment rolling), as it describes it.</summary>
    private static string StorageValue(BrookBroker broker, string topic, string name) => broker.Store.DescribeTopicConfigs(topic).Single(e => e.Name == name).Value;

    private static ConfigResource Broker(string name = "1") => new() { Type = ResourceType.Broker, Name = name };

    private static Task SetAsync(IAdminClient admin, ConfigResource resource, params (string Name, string? Value, AlterConfigOpType Op)[] changes) =>
        admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [resource] = changes.Select(c => new ConfigEntry { Name = c.Name, Value = c.Value, IncrementalOperation = c.Op }).ToList(),
        });

    [Fact]
    public async Task A_per_broker_change_takes_effect_at_once_and_is_described_as_a_dynamic_broker_config()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "dyn", 1);
        using var admin = Clients.Admin(broker);

        // message.max.bytes is the broker default of every topic's max.message.bytes: a large record is refused at once.
        await SetAsync(admin, Broker(), ("message.max.bytes", "2000", AlterConfigOpType.Set), ("log.retention.ms", "3600000", AlterConfigOpType.Set));
        using (var producer = Clients.Producer(broker, c => c.MessageTimeoutMs = 10_000))
        {
            var tooLarge = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync("dyn", new Message<string, string> { Key = "k", Value = new string('x', 5000) }));
            Assert.Equal(ErrorCode.MsgSizeTooLarge, tooLarge.Error.Code);
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("dyn", new Message<string, string> { Key = "k", Value = "small" })).Status);
        }

        var brokerConfigs = (await admin.DescribeConfigsAsync([Broker()]))[0].Entries;
        Assert.Equal(("2000", ConfigSource.DynamicBrokerConfig), (brokerConfigs["message.max.bytes"].Value, brokerConfigs["message.max.bytes"].Source));
        Assert.Equal("1", brokerConfigs["default.replication.factor"].Value);
        Assert.True(brokerConfigs["auto.create.topics.enable"].IsReadOnly);
        Assert.False(brokerConfigs["log.retention.ms"].IsReadOnly);

        var topic = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "dyn" }]))[0].Entries["retention.ms"];
        Assert.Equal(("3600000", ConfigSource.DynamicBrokerConfig), (topic.Value, topic.Source));
        Assert.Equal([("log.retention.ms", ConfigSource.DynamicBrokerConfig), ("log.retention.hours", ConfigSource.DefaultConfig)],
            topic.Synonyms.Select(s => (s.Name, s.Source)));
        Assert.Equal("3600000", StorageValue(broker, "dyn", "retention.ms"));

        // DELETE puts the static value back.
        await SetAsync(admin, Broker(), ("message.max.bytes", null, AlterConfigOpType.Delete));
        brokerConfigs = (await admin.DescribeConfigsAsync([Broker()]))[0].Entries;
        Assert.Equal(("1048588", ConfigSource.DefaultConfig), (brokerConfigs["message.max.bytes"].Value, brokerConfigs["message.max.bytes"].Source));
    }

    [Fact]
    public async Task Cluster_defaults_are_stored_apart_and_lose_to_the_broker_s_own()
    {
        await using var broker = await BrookBroker.StartAsync();
        // Confluent.Kafka and kafkajs refuse an empty resource name themselves, so the cluster default (what
        // kafka-configs --entity-default sends) goes over the wire by hand; the per-broker side uses kafkajs.
        using var raw = await RawClient.ConnectAsync(broker);
        var altered = await raw.SendAsync<IncrementalAlterConfigsResponse>(new IncrementalAlterConfigsRequest
        {
            Resources =
            [
                new IncrementalAlterConfigsRequest.AlterConfigsResource
                {
                    ResourceType = 4,
                    ResourceName = "",
                    Configs =
                    [
                        new IncrementalAlterConfigsRequest.AlterableConfig { Name = "log.retention.hours", ConfigOperation = 0, Value = "2" },
                        new IncrementalAlterConfigsRequest.AlterableConfig { Name = "max.connections", ConfigOperation = 0, Value = "900" },
                    ],
                },
            ],
        }, 1);
        Assert.Equal((0, null), (altered.Responses[0].ErrorCode, altered.Responses[0].ErrorMessage));
        var defaults = await raw.SendAsync<DescribeConfigsResponse>(new DescribeConfigsRequest
        {
            Resources = [new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = "" }],
        }, 4);
        Assert.Equal(["log.retention.hours=2@3", "max.connections=900@3"], defaults.Results[0].Configs.Select(c => $"{c.Name}={c.Value}@{c.ConfigSource}"));

        var result = await ExternalClients.KafkaJsAsync(broker.BootstrapServers, """
            await admin.alterConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'max.connections', value: '800' }] }] });
            const d = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }] });
            const show = r => Object.fromEntries(r.configEntries.filter(e => ['log.retention.hours', 'max.connections'].includes(e.configName)).map(e => [e.configName, e.configValue + '@' + e.configSource]));
            out({ own: show(d.resources[0]) });
            """);
        Assert.Equal("800@2", result!["own"]!["max.connections"]!.GetValue<string>());
        Assert.Equal("2@3", result["own"]!["log.retention.hours"]!.GetValue<string>());
        // Another broker id is not this broker (clients route such a request to that broker; sent here, it is refused).
        var other = await raw.SendAsync<IncrementalAlterConfigsResponse>(new IncrementalAlterConfigsRequest
        {
            Resources = [new IncrementalAlterConfigsRequest.AlterConfigsResource { ResourceType = 4, ResourceName = "7", Configs = [new() { Name = "max.connections", Value = "1" }] }],
        }, 1);
        Assert.Equal((short)Protocol.ErrorCode.InvalidRequest, other.Responses[0].ErrorCode);
        Assert.Equal(800, ((Network.ConnectionLimits)broker.Services.GetService(typeof(Network.ConnectionLimits))!).MaxConnections);
        await Clients.CreateTopicAsync(broker, "two-hours", 1);
        Assert.Equal("7200000", StorageValue(broker, "two-hours", "retention.ms"));
    }

    [Fact]
    public async Task Append_and_subtract_change_list_configs_as_Kafka_does()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "policies", 1);
        using var admin = Clients.Admin(broker);
        var topic = new ConfigResource { Type = ResourceType.Topic, Name = "policies" };

        // With no override, APPEND starts from the config's default (delete), as Kafka does.
        await SetAsync(admin, topic, ("cleanup.policy", "compact", AlterConfigOpType.Append));
        Assert.Equal("delete,compact", (await admin.DescribeConfigsAsync([topic]))[0].Entries["cleanup.policy"].Value);
        await SetAsync(admin, topic, ("cleanup.policy", "compact", AlterConfigOpType.Append));
        Assert.Equal("delete,compact", (await admin.DescribeConfigsAsync([topic]))[0].Entries["cleanup.policy"].Value);
        await SetAsync(admin, topic, ("cleanup.policy", "delete", AlterConfigOpType.Subtract));
        Assert.Equal("compact", (await admin.DescribeConfigsAsync([topic]))[0].Entries["cleanup.policy"].Value);
        Assert.Equal("compact", broker.Store.GetTopic("policies")!.Configs["cleanup.policy"]);

        // The same on a broker-level list, and a non-list config is refused.
        await SetAsync(admin, Broker(), ("log.cleanup.policy", "compact", AlterConfigOpType.Append));
        Assert.Equal("delete,compact", (await admin.DescribeConfigsAsync([Broker()]))[0].Entries["log.cleanup.policy"].Value);
        var notAList = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => SetAsync(admin, topic, ("retention.ms", "1", AlterConfigOpType.Append)));
        Assert.Equal(ErrorCode.InvalidConfig, notAList.Results[0].Error.Code);
    }

    [Fact]
    public async Task Read_only_unknown_and_invalid_configs_are_refused_with_a_clear_message()
    {
        await using var broker = await BrookBroker.StartAsync();
        using var admin = Clients.Admin(broker);

        var readOnly = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => SetAsync(admin, Broker(), ("auto.create.topics.enable", "false", AlterConfigOpType.Set)));
        Assert.Equal(ErrorCode.InvalidRequest, readOnly.Results[0].Error.Code);
        Assert.Contains("Cannot update these configs dynamically", readOnly.Results[0].Error.Reason, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => SetAsync(admin, Broker(), ("log.retention.hour", "1", AlterConfigOpType.Set)));
        Assert.Contains("did you mean log.retention.hours?", unknown.Results[0].Error.Reason, StringComparison.Ordinal);

        var invalid = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => SetAsync(admin, Broker(), ("log.retention.ms", "soon", AlterConfigOpType.Set)));
        Assert.Contains("log.retention.ms", invalid.Results[0].Error.Reason, StringComparison.Ordinal);

        Assert.Empty(broker.Services.GetService(typeof(BrokerConfig)) is BrokerConfig config ? config.Dynamic.Broker : throw new InvalidOperationException());
    }

    [Fact]
    public async Task Dynamic_configs_survive_a_restart()
    {
        var options = new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = _dataDir };
        await using (var broker = await BrookBroker.StartAsync(options))
        {
            using var admin = Clients.Admin(broker);
            await admin.AlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [Broker()] = [new ConfigEntry { Name = "log.segment.bytes", Value = "1048576" }],
            });
            await SetAsync(admin, Broker(), ("log.cleaner.threads", "2", AlterConfigOpType.Set));
        }
        await using (var broker = await BrookBroker.StartAsync(options))
        {
            await Clients.CreateTopicAsync(broker, "after-restart", 1);
            using var admin = Clients.Admin(broker);
            var own = (await admin.DescribeConfigsAsync([Broker()]))[0].Entries;
            Assert.Equal(("1048576", ConfigSource.DynamicBrokerConfig), (own["log.segment.bytes"].Value, own["log.segment.bytes"].Source));
            Assert.Equal(("2", ConfigSource.DynamicBrokerConfig), (own["log.cleaner.threads"].Value, own["log.cleaner.threads"].Source));
            Assert.Equal("1048576", StorageValue(broker, "after-restart", "segment.bytes"));
        }
    }

    [Fact]
    public async Task Kafkajs_alters_and_describes_broker_configs_and_gets_no_synonyms_unless_it_asks()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "js-topic", 1);
        var result = await ExternalClients.KafkaJsAsync(broker.BootstrapServers, """
            await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'log.retention.ms', value: '7200000' }] }] });
            const plain = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1' }, { type: ConfigResourceTypes.TOPIC, name: 'js-topic' }] });
            const withSynonyms = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'js-topic', configNames: ['retention.ms'] }] });
            const entry = (r, n) => r.configEntries.find(e => e.configName === n);
            out({
              brokerRetention: entry(plain.resources[0], 'log.retention.ms').configValue,
              errorMessages: plain.resources.map(r => r.errorMessage),
              synonymCounts: plain.resources.flatMap(r => r.configEntries.map(e => e.configSynonyms.length)).reduce((a, b) => a + b, 0),
              synonyms: entry(withSynonyms.resources[0], 'retention.ms').configSynonyms.map(s => s.configName + '=' + s.configValue + '@' + s.configSource),
            });
            """);
        Assert.Equal("7200000", result!["brokerRetention"]!.GetValue<string>());
        Assert.All(result["errorMessages"]!.AsArray(), m => Assert.Null(m));
        Assert.Equal(0, result["synonymCounts"]!.GetValue<int>());
        Assert.Equal(["log.retention.ms=7200000@2", "log.retention.hours=168@5"], result["synonyms"]!.AsArray().Select(s => s!.GetValue<string>()));
    }
}
