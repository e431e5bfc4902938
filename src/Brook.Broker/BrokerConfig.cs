using System.Globalization;
using System.Runtime.CompilerServices;
using Brook.Storage;

namespace Brook.Broker;

/// <summary>Broker-level configuration by Kafka name, and topic configs resolved against it.</summary>
public sealed class BrokerConfig
{
    private readonly IReadOnlyDictionary<string, string> _values;

    // TopicMetadata is immutable and replaced on every config change, so its resolved LogConfig can be cached by reference.
    private readonly ConditionalWeakTable<TopicMetadata, LogConfig> _resolved = new();

    public BrokerConfig(IReadOnlyDictionary<string, string> values)
    {
        _values = values;
        var errors = TopicConfigs.ValidateBrokerDefaults(values);
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors.Select(e => e.Message)));
    }

    public IReadOnlyDictionary<string, string> Values => _values;

    public bool AutoCreateTopics => GetBool("auto.create.topics.enable", true);

    public int DefaultPartitions => GetInt("num.partitions", 1);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public bool GetBool(string name, bool fallback) => Get(name) is { } v && bool.TryParse(v, out var b) ? b : fallback;

    public int GetInt(string name, int fallback) => Get(name) is { } v && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : fallback;

    /// <summary>The typed effective config of a topic: its overrides, else broker settings, else Kafka's defaults.</summary>
    public LogConfig ForTopic(TopicMetadata topic) => _resolved.GetValue(topic, t => LogConfig.Create(_values, t.Configs));

    /// <summary>Every topic config with its effective value and source (for CreateTopics and DescribeConfigs).</summary>
    public IReadOnlyList<ConfigEntry> DescribeTopic(TopicMetadata topic) => TopicConfigs.Describe(_values, topic.Configs);

    /// <summary>Checks topic configs by Kafka's rules; returns the configs to store, or the first error.</summary>
    public (IReadOnlyDictionary<string, string> Configs, string? Error) ValidateTopicConfigs(IReadOnlyDictionary<string, string?> configs)
    {
        var errors = TopicConfigs.Validate(configs);
        if (errors.Count > 0) return (new Dictionary<string, string>(), errors[0].Message);
        return (configs.ToDictionary(c => c.Key, c => c.Value!.Trim(), StringComparer.Ordinal), null);
    }
}
