using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using Brook.Broker.Configuration;
using Brook.Storage;

namespace Brook.Broker;

/// <summary>
/// Broker-level configuration by Kafka name, in Kafka's layers (highest first): this broker's dynamic configs, the
/// cluster-wide dynamic defaults, the static configuration the process started with, Brook's and Kafka's defaults.
/// Topic configs resolve against the effective values. Reads never lock; changes publish a new snapshot.
/// </summary>
public sealed class BrokerConfig
{
    private readonly ImmutableDictionary<string, string> _static;
    private readonly IReadOnlySet<string> _brookDefaults;
    private readonly DynamicBrokerConfigStore _dynamic;
    private readonly Lock _changes = new();
    private volatile State _state;

    // Immutable state swapped whole on a dynamic change: the effective values and topic configs resolved against them.
    // TopicMetadata is immutable and replaced on every config change, so its LogConfig can be cached by reference.
    private sealed record State(ImmutableDictionary<string, string> Values, DynamicBrokerConfigStore.Snapshot Dynamic)
    {
        public ConditionalWeakTable<TopicMetadata, LogConfig> Resolved { get; } = new();
    }

    /// <param name="values">The static configuration (Brook's defaults included, see <see cref="StorageFactory.EffectiveBrokerConfigs"/>).</param>
    /// <param name="dynamic">Dynamic broker configs (AlterConfigs on the broker); in memory when null.</param>
    /// <param name="brookDefaults">Names in <paramref name="values"/> that are Brook's defaults, not the operator's (reported as DEFAULT_CONFIG).</param>
    public BrokerConfig(IReadOnlyDictionary<string, string> values, DynamicBrokerConfigStore? dynamic = null, IEnumerable<string>? brookDefaults = null)
    {
        _static = values.ToImmutableDictionary(StringComparer.Ordinal);
        _brookDefaults = (brookDefaults ?? []).ToHashSet(StringComparer.Ordinal);
        _dynamic = dynamic ?? DynamicBrokerConfigStore.InMemory();
        var errors = TopicConfigs.ValidateBrokerDefaults(values);
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors.Select(e => e.Message)));
        _state = Build(_dynamic.Current);
    }

    /// <summary>Raised after a dynamic change took effect, with the new effective values.</summary>
    public event Action<IReadOnlyDictionary<string, string>>? Changed;

    /// <summary>The effective values: every layer merged.</summary>
    public IReadOnlyDictionary<string, string> Values => _state.Values;

    /// <summary>The configuration the process started with.</summary>
    public IReadOnlyDictionary<string, string> StaticValues => _static;

    public DynamicBrokerConfigStore.Snapshot Dynamic => _state.Dynamic;

    public bool AutoCreateTopics => GetBool("auto.create.topics.enable", true);

    public int DefaultPartitions => GetInt("num.partitions", 1);

    public string? Get(string name) => _state.Values.TryGetValue(name, out var v) ? v : null;

    public bool GetBool(string name, bool fallback) => Get(name) is { } v && bool.TryParse(v, out var b) ? b : fallback;

    public int GetInt(string name, int fallback) => Get(name) is { } v && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : fallback;

    /// <summary>Every layer that sets <paramref name="name"/>, highest precedence first, as DescribeConfigs synonyms list them.</summary>
    public IEnumerable<ConfigSynonymEntry> Layers(string name)
    {
        var state = _state;
        if (state.Dynamic.Broker.TryGetValue(name, out var broker)) yield return new ConfigSynonymEntry(name, broker, ConfigSource.DynamicBroker);
        if (state.Dynamic.ClusterDefaults.TryGetValue(name, out var cluster)) yield return new ConfigSynonymEntry(name, cluster, ConfigSource.DynamicDefaultBroker);
        if (_static.TryGetValue(name, out var set)) yield return new ConfigSynonymEntry(name, set, _brookDefaults.Contains(name) ? ConfigSource.Default : ConfigSource.Broker);
    }

    /// <summary>The typed effective config of a topic: its overrides, else broker settings, else Kafka's defaults.</summary>
    public LogConfig ForTopic(TopicMetadata topic)
    {
        var state = _state;
        return state.Resolved.GetValue(topic, t => LogConfig.Create(state.Values, t.Configs));
    }

    /// <summary>Every topic config with its effective value, source and synonyms (for CreateTopics and DescribeConfigs).</summary>
    public IReadOnlyList<ConfigEntry> DescribeTopic(TopicMetadata topic) => TopicConfigs.Describe(_state.Values, topic.Configs, Layers);

    /// <summary>Checks topic configs by Kafka's rules; returns the configs to store, or the first error.</summary>
    public (IReadOnlyDictionary<string, string> Configs, string? Error) ValidateTopicConfigs(IReadOnlyDictionary<string, string?> configs)
    {
        var errors = TopicConfigs.Validate(configs);
        if (errors.Count > 0) return (new Dictionary<string, string>(), errors[0].Message);
        return (configs.ToDictionary(c => c.Key, c => c.Value!.Trim(), StringComparer.Ordinal), null);
    }

    /// <summary>
    /// Checks a whole new set of dynamic configs for one scope: known names, dynamic ones only (per-broker ones not as the
    /// cluster default), valid values. Returns null when acceptable, else the error message.
    /// </summary>
    public static string? ValidateDynamic(bool clusterDefault, IReadOnlyDictionary<string, string> configs)
    {
        foreach (var (name, value) in configs)
        {
            var definition = BrokerConfigDefinitions.Find(name);
            if (definition is null) return BrokerConfigDefinitions.Validate(name, value);
            if (definition.Scope == BrokerConfigScope.ReadOnly)
                return $"Cannot update these configs dynamically: Set({name}). {name} is read at start: set it in the configuration and restart.";
            if (clusterDefault && definition.Scope == BrokerConfigScope.PerBroker)
                return $"Cannot update these configs at default cluster level, broker id must be specified: Set({name})";
            if (definition.Validate(value) is { } error) return $"Invalid value {value} for configuration {name}: {error}";
        }
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in configs) merged[name] = value.Trim();
        var topicDefaults = TopicConfigs.ValidateBrokerDefaults(merged);
        return topicDefaults.Count > 0 ? topicDefaults[0].Message : null;
    }

    /// <summary>Stores one scope's new dynamic configs durably and puts them in force; the caller has validated them.</summary>
    public IReadOnlyDictionary<string, string> ReplaceDynamic(bool clusterDefault, IReadOnlyDictionary<string, string> configs)
    {
        State next;
        lock (_changes)
        {
            var trimmed = configs.ToDictionary(c => c.Key, c => c.Value.Trim(), StringComparer.Ordinal);
            next = Build(_dynamic.Replace(clusterDefault, trimmed));
            _state = next;
        }
        Changed?.Invoke(next.Values);
        return next.Values;
    }

    private State Build(DynamicBrokerConfigStore.Snapshot dynamic)
    {
        var values = _static.ToBuilder();
        foreach (var (name, value) in dynamic.ClusterDefaults) values[name] = value;
        foreach (var (name, value) in dynamic.Broker) values[name] = value;
        return new State(values.ToImmutable(), dynamic);
    }
}
