using System.Globalization;
using Brook.Storage;

namespace Brook.Broker;

/// <summary>The settings the produce and fetch paths need, resolved for one topic from its overrides and the broker defaults.</summary>
public sealed record TopicSettings(
    int MaxMessageBytes,
    int MinInsyncReplicas,
    bool LogAppendTime,
    long TimestampBeforeMaxMs,
    long TimestampAfterMaxMs,
    string CompressionType);

/// <summary>Broker-level configuration by Kafka name, with Kafka's defaults.</summary>
public sealed class BrokerConfig
{
    private readonly IReadOnlyDictionary<string, string> _values;

    public BrokerConfig(IReadOnlyDictionary<string, string> values)
    {
        _values = values;
    }

    public bool AutoCreateTopics => GetBool("auto.create.topics.enable", true);

    public int DefaultPartitions => GetInt("num.partitions", 1);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public bool GetBool(string name, bool fallback) => Get(name) is { } v && bool.TryParse(v, out var b) ? b : fallback;

    public int GetInt(string name, int fallback) => Get(name) is { } v && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : fallback;

    public long GetLong(string name, long fallback) => Get(name) is { } v && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? l : fallback;

    private string TopicValue(TopicMetadata topic, string topicName, string brokerName, string fallback) =>
        topic.Configs.TryGetValue(topicName, out var v) ? v : Get(brokerName) ?? fallback;

    public TopicSettings ForTopic(TopicMetadata topic)
    {
        static long L(string s) => long.Parse(s, CultureInfo.InvariantCulture);
        return new TopicSettings(
            MaxMessageBytes: (int)L(TopicValue(topic, "max.message.bytes", "message.max.bytes", "1048588")),
            MinInsyncReplicas: (int)L(TopicValue(topic, "min.insync.replicas", "min.insync.replicas", "1")),
            LogAppendTime: TopicValue(topic, "message.timestamp.type", "log.message.timestamp.type", "CreateTime") == "LogAppendTime",
            TimestampBeforeMaxMs: L(TopicValue(topic, "message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", long.MaxValue.ToString(CultureInfo.InvariantCulture))),
            TimestampAfterMaxMs: L(TopicValue(topic, "message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", "3600000")),
            CompressionType: TopicValue(topic, "compression.type", "compression.type", "producer"));
    }

    /// <summary>Every config of a topic with its effective value and where it comes from (for DescribeConfigs).</summary>
    public IReadOnlyList<ConfigEntry> DescribeTopic(TopicMetadata topic) =>
        topic.Configs.Select(c => new ConfigEntry(c.Key, c.Value, ConfigSource.TopicOverride, ReadOnly: false, Sensitive: false)).ToList();

    /// <summary>Checks topic configs; returns the configs to store, or an error message.</summary>
    public (IReadOnlyDictionary<string, string> Configs, string? Error) ValidateTopicConfigs(IReadOnlyDictionary<string, string?> configs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in configs)
        {
            if (value is null) return (result, $"Config '{name}' has a null value.");
            result[name] = value;
        }
        return (result, null);
    }
}

/// <summary>Where a config value comes from, numbered as DescribeConfigs reports it.</summary>
public enum ConfigSource : sbyte
{
    Unknown = 0,
    TopicOverride = 1,
    DynamicBroker = 2,
    DynamicDefaultBroker = 3,
    StaticBroker = 4,
    Default = 5,
}

/// <summary>One config with its effective value.</summary>
public sealed record ConfigEntry(string Name, string? Value, ConfigSource Source, bool ReadOnly, bool Sensitive);
