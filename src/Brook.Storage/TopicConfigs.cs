using System.Globalization;

namespace Brook.Storage;

public enum ConfigValueType
{
    Boolean,
    Int,
    Long,
    Double,
    String,
    List,
    Short,
    Password,
}

/// <summary>Where an effective config value came from; numeric values are Kafka's DescribeConfigs source codes.</summary>
public enum ConfigSource
{
    /// <summary>Set on the topic (DYNAMIC_TOPIC_CONFIG).</summary>
    Topic = 1,

    /// <summary>Set at run time for this broker (DYNAMIC_BROKER_CONFIG).</summary>
    DynamicBroker = 2,

    /// <summary>Set at run time as the cluster-wide default (DYNAMIC_DEFAULT_BROKER_CONFIG).</summary>
    DynamicDefaultBroker = 3,

    /// <summary>Set in the broker's configuration (STATIC_BROKER_CONFIG).</summary>
    Broker = 4,

    /// <summary>Kafka's built-in default (DEFAULT_CONFIG).</summary>
    Default = 5,
}

/// <summary>A broker config name that supplies a topic config's default, with the factor turning its unit into the topic's (hours to ms).</summary>
public sealed record BrokerSynonym(string Name, long Multiplier = 1);

/// <summary>One topic-level config: its name, type, default (as Kafka prints it), broker synonyms in precedence order and validation.</summary>
public sealed class ConfigDefinition
{
    private readonly Func<string, string?> _validate;

    internal ConfigDefinition(string name, ConfigValueType type, string defaultValue, IReadOnlyList<BrokerSynonym> brokerSynonyms, Func<string, string?> validate, string documentation)
    {
        Name = name;
        Type = type;
        DefaultValue = defaultValue;
        BrokerSynonyms = brokerSynonyms;
        _validate = validate;
        Documentation = documentation;
    }

    public string Name { get; }

    public ConfigValueType Type { get; }

    public string DefaultValue { get; }

    /// <summary>Broker-level names that set this config's default, highest precedence first.</summary>
    public IReadOnlyList<BrokerSynonym> BrokerSynonyms { get; }

    public string Documentation { get; }

    /// <summary>Null when <paramref name="value"/> is acceptable, else a message saying why not.</summary>
    public string? Validate(string value) => _validate(value);
}

/// <summary>A rejected config entry.</summary>
public sealed record ConfigError(string Name, string Message);

/// <summary>One synonym of a described config (the topic name itself, a broker name, or the default).</summary>
public sealed record ConfigSynonymEntry(string Name, string Value, ConfigSource Source);

/// <summary>One line of DescribeConfigs for a topic.</summary>
public sealed record ConfigEntry(string Name, string Value, ConfigSource Source, ConfigValueType Type, string Documentation, IReadOnlyList<ConfigSynonymEntry> Synonyms)
{
    public bool IsDefault => Source == ConfigSource.Default;
    public bool IsReadOnly => false;
    public bool IsSensitive => false;
}

/// <summary>
/// Kafka's topic configs (names, types, defaults, validation, broker synonyms). Stateless and thread-safe.
/// Defaults follow Apache Kafka 4.x where they differ from 3.x (message.timestamp.after.max.ms is one hour).
/// </summary>
public static class TopicConfigs
{
    public const string CleanupPolicy = "cleanup.policy";
    public const string CompressionType = "compression.type";
    public const string CompressionGzipLevel = "compression.gzip.level";
    public const string CompressionLz4Level = "compression.lz4.level";
    public const string CompressionZstdLevel = "compression.zstd.level";
    public const string DeleteRetentionMs = "delete.retention.ms";
    public const string FileDeleteDelayMs = "file.delete.delay.ms";
    public const string FlushMessages = "flush.messages";
    public const string FlushMs = "flush.ms";
    public const string FollowerReplicationThrottledReplicas = "follower.replication.throttled.replicas";
    public const string IndexIntervalBytes = "index.interval.bytes";
    public const string LeaderReplicationThrottledReplicas = "leader.replication.throttled.replicas";
    public const string LocalRetentionBytes = "local.retention.bytes";
    public const string LocalRetentionMs = "local.retention.ms";
    public const string MaxCompactionLagMs = "max.compaction.lag.ms";
    public const string MaxMessageBytes = "max.message.bytes";
    public const string MessageDownconversionEnable = "message.downconversion.enable";
    public const string MessageTimestampAfterMaxMs = "message.timestamp.after.max.ms";
    public const string MessageTimestampBeforeMaxMs = "message.timestamp.before.max.ms";
    public const string MessageTimestampDifferenceMaxMs = "message.timestamp.difference.max.ms";
    public const string MessageTimestampType = "message.timestamp.type";
    public const string MinCleanableDirtyRatio = "min.cleanable.dirty.ratio";
    public const string MinCompactionLagMs = "min.compaction.lag.ms";
    public const string MinInSyncReplicas = "min.insync.replicas";
    public const string Preallocate = "preallocate";
    public const string RemoteStorageEnable = "remote.storage.enable";
    public const string RetentionBytes = "retention.bytes";
    public const string RetentionMs = "retention.ms";
    public const string SegmentBytes = "segment.bytes";
    public const string SegmentIndexBytes = "segment.index.bytes";
    public const string SegmentJitterMs = "segment.jitter.ms";
    public const string SegmentMs = "segment.ms";
    public const string UncleanLeaderElectionEnable = "unclean.leader.election.enable";

    private const string LongMax = "9223372036854775807";
    private const long HourMs = 3_600_000;
    private const long MinuteMs = 60_000;

    private static readonly string[] CompressionTypes = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

    private static readonly ConfigDefinition[] Unsorted =
    [
        Define(CleanupPolicy, ConfigValueType.List, "delete", [new("log.cleanup.policy")], ValidCleanupPolicy,
            "delete discards old segments by time or size; compact keeps the latest value per key."),
        Define(CompressionType, ConfigValueType.String, "producer", [new("compression.type")], v => OneOf(v, CompressionTypes),
            "Final compression of the topic's data; producer keeps what the producer sent."),
        Define(CompressionGzipLevel, ConfigValueType.Int, "-1", [new("compression.gzip.level")], v => IntBetween(v, -1, 9, allowed: -1),
            "Level used when compression.type is gzip."),
        Define(CompressionLz4Level, ConfigValueType.Int, "9", [new("compression.lz4.level")], v => IntBetween(v, 1, 17),
            "Level used when compression.type is lz4."),
        Define(CompressionZstdLevel, ConfigValueType.Int, "3", [new("compression.zstd.level")], v => IntBetween(v, -131072, 22),
            "Level used when compression.type is zstd."),
        Define(DeleteRetentionMs, ConfigValueType.Long, "86400000", [new("log.cleaner.delete.retention.ms")], v => LongAtLeast(v, 0),
            "How long tombstones and transaction markers stay in compacted topics once a cleaning has reached them (KIP-534 delete horizon)."),
        Define(FileDeleteDelayMs, ConfigValueType.Long, "60000", [new("log.segment.delete.delay.ms")], v => LongAtLeast(v, 0),
            "Time a deleted or replaced segment stays readable (as a .deleted file) before it is removed from the filesystem."),
        Define(FlushMessages, ConfigValueType.Long, LongMax, [new("log.flush.interval.messages")], v => LongAtLeast(v, 1),
            "Force an fsync after this many messages; 1 syncs every append."),
        Define(FlushMs, ConfigValueType.Long, LongMax, [new("log.flush.interval.ms")], v => LongAtLeast(v, 0),
            "Force an fsync when the oldest unflushed data is this old."),
        Define(FollowerReplicationThrottledReplicas, ConfigValueType.List, "", [], ValidThrottledReplicas,
            "Replicas throttled on the follower side."),
        Define(IndexIntervalBytes, ConfigValueType.Int, "4096", [new("log.index.interval.bytes")], v => IntAtLeast(v, 0),
            "Bytes of log between offset index entries."),
        Define(LeaderReplicationThrottledReplicas, ConfigValueType.List, "", [], ValidThrottledReplicas,
            "Replicas throttled on the leader side."),
        Define(LocalRetentionBytes, ConfigValueType.Long, "-2", [new("log.local.retention.bytes")], v => LongAtLeast(v, -2),
            "Local retention in bytes with tiered storage; -2 means retention.bytes."),
        Define(LocalRetentionMs, ConfigValueType.Long, "-2", [new("log.local.retention.ms")], v => LongAtLeast(v, -2),
            "Local retention in ms with tiered storage; -2 means retention.ms."),
        Define(MaxCompactionLagMs, ConfigValueType.Long, LongMax, [new("log.cleaner.max.compaction.lag.ms")], v => LongAtLeast(v, 1),
            "Longest time a record stays ineligible for compaction."),
        Define(MaxMessageBytes, ConfigValueType.Int, "1048588", [new("message.max.bytes")], v => IntAtLeast(v, 0),
            "Largest record batch size allowed."),
        Define(MessageDownconversionEnable, ConfigValueType.Boolean, "true", [new("log.message.downconversion.enable")], Boolean,
            "Whether old consumers may get down-converted batches."),
        Define(MessageTimestampAfterMaxMs, ConfigValueType.Long, "3600000", [new("log.message.timestamp.after.max.ms")], v => LongAtLeast(v, 0),
            "How far in the future a CreateTime timestamp may be."),
        Define(MessageTimestampBeforeMaxMs, ConfigValueType.Long, LongMax, [new("log.message.timestamp.before.max.ms")], v => LongAtLeast(v, 0),
            "How far in the past a CreateTime timestamp may be."),
        Define(MessageTimestampDifferenceMaxMs, ConfigValueType.Long, LongMax, [new("log.message.timestamp.difference.max.ms")], v => LongAtLeast(v, 0),
            "Deprecated: both timestamp bounds at once."),
        Define(MessageTimestampType, ConfigValueType.String, "CreateTime", [new("log.message.timestamp.type")], v => OneOf(v, ["CreateTime", "LogAppendTime"]),
            "Whether record timestamps are the producer's or the broker's append time."),
        Define(MinCleanableDirtyRatio, ConfigValueType.Double, "0.5", [new("log.cleaner.min.cleanable.ratio")], v => DoubleBetween(v, 0, 1),
            "Fraction of uncompacted log needed before the cleaner compacts it."),
        Define(MinCompactionLagMs, ConfigValueType.Long, "0", [new("log.cleaner.min.compaction.lag.ms")], v => LongAtLeast(v, 0),
            "Shortest time a record stays uncompacted."),
        Define(MinInSyncReplicas, ConfigValueType.Int, "1", [new("min.insync.replicas")], v => IntAtLeast(v, 1),
            "Replicas that must acknowledge an acks=all write."),
        Define(Preallocate, ConfigValueType.Boolean, "false", [new("log.preallocate")], Boolean,
            "Preallocate segment files on creation. Accepted and ignored: Brook's segments grow by appends."),
        Define(RemoteStorageEnable, ConfigValueType.Boolean, "false", [], v => v.Equals("false", StringComparison.OrdinalIgnoreCase) ? null : "Tiered storage is not supported",
            "Tiered storage for the topic (not supported by Brook)."),
        Define(RetentionBytes, ConfigValueType.Long, "-1", [new("log.retention.bytes")], v => LongAtLeast(v, long.MinValue),
            "Largest size a partition may grow to before old segments are deleted; -1 is unlimited."),
        Define(RetentionMs, ConfigValueType.Long, "604800000",
            [new("log.retention.ms"), new("log.retention.minutes", MinuteMs), new("log.retention.hours", HourMs)], v => LongAtLeast(v, -1),
            "How long a segment is kept before deletion; -1 is unlimited."),
        Define(SegmentBytes, ConfigValueType.Int, "1073741824", [new("log.segment.bytes")], v => IntAtLeast(v, 14),
            "Size at which a segment is rolled."),
        Define(SegmentIndexBytes, ConfigValueType.Int, "10485760", [new("log.index.size.max.bytes")], v => IntAtLeast(v, 4),
            "Largest size of a segment's offset index."),
        Define(SegmentJitterMs, ConfigValueType.Long, "0", [new("log.roll.jitter.ms"), new("log.roll.jitter.hours", HourMs)], v => LongAtLeast(v, 0),
            "Random amount subtracted from segment.ms per segment to avoid rolling all at once."),
        Define(SegmentMs, ConfigValueType.Long, "604800000", [new("log.roll.ms"), new("log.roll.hours", HourMs)], v => LongAtLeast(v, 1),
            "Age at which a segment is rolled even if not full."),
        Define(UncleanLeaderElectionEnable, ConfigValueType.Boolean, "false", [new("unclean.leader.election.enable")], Boolean,
            "Whether an out-of-sync replica may become leader."),
    ];

    private static readonly ConfigDefinition[] Definitions = [.. Unsorted.OrderBy(d => d.Name, StringComparer.Ordinal)];

    private static readonly Dictionary<string, ConfigDefinition> ByName = Definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>Every known topic config, sorted by name.</summary>
    public static IReadOnlyList<ConfigDefinition> All => Definitions;

    public static ConfigDefinition? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Checks names and values of topic configs (CreateTopics, AlterConfigs); an empty list means all valid.</summary>
    public static IReadOnlyList<ConfigError> Validate(IReadOnlyDictionary<string, string?> configs)
    {
        var errors = new List<ConfigError>();
        foreach (var (name, value) in configs)
        {
            var error = Validate(name, value);
            if (error is not null) errors.Add(new ConfigError(name, error));
        }
        return errors;
    }

    /// <summary>Null when <paramref name="name"/> = <paramref name="value"/> is a valid topic config, else the reason.</summary>
    public static string? Validate(string name, string? value)
    {
        if (!ByName.TryGetValue(name, out var definition)) return $"Unknown topic config name: {name}";
        if (value is null) return $"Null value not supported for topic config {name}";
        var error = definition.Validate(value.Trim());
        return error is null ? null : $"Invalid value {value} for configuration {name}: {error}";
    }

    /// <summary>
    /// The effective value of every topic config with its source: the topic's override, else the first broker synonym
    /// set in <paramref name="brokerConfigs"/> (converted to the topic unit), else Kafka's default. Synonyms are listed as
    /// Kafka lists them: the topic's override, then each broker-level name in precedence order with every layer that sets
    /// it (<paramref name="brokerLayers"/>; by default a value in <paramref name="brokerConfigs"/> is a static broker
    /// config), then the default under the broker name that carries it (log.retention.hours for retention.ms).
    /// </summary>
    public static IReadOnlyList<ConfigEntry> Describe(IReadOnlyDictionary<string, string> brokerConfigs, IReadOnlyDictionary<string, string> topicConfigs,
        Func<string, IEnumerable<ConfigSynonymEntry>>? brokerLayers = null)
    {
        brokerLayers ??= name => brokerConfigs.TryGetValue(name, out var value) ? [new ConfigSynonymEntry(name, value, ConfigSource.Broker)] : [];
        var entries = new List<ConfigEntry>(Definitions.Length);
        foreach (var definition in Definitions)
        {
            var synonyms = new List<ConfigSynonymEntry>();
            if (topicConfigs.TryGetValue(definition.Name, out var topicValue)) synonyms.Add(new ConfigSynonymEntry(definition.Name, topicValue, ConfigSource.Topic));
            var defaultHolder = DefaultHolder(definition);
            foreach (var synonym in definition.BrokerSynonyms)
            {
                synonyms.AddRange(brokerLayers(synonym.Name));
                if (synonym == defaultHolder) synonyms.Add(new ConfigSynonymEntry(synonym.Name, FromTopicUnit(definition.DefaultValue, synonym), ConfigSource.Default));
            }
            var winner = synonyms.Count > 0 ? synonyms[0] : new ConfigSynonymEntry(definition.Name, definition.DefaultValue, ConfigSource.Default);
            var value = winner.Source == ConfigSource.Topic ? winner.Value
                : winner.Source == ConfigSource.Default ? definition.DefaultValue
                : ToTopicUnit(definition, winner.Name, winner.Value);
            entries.Add(new ConfigEntry(definition.Name, value, winner.Source, definition.Type, definition.Documentation, synonyms));
        }
        return entries;
    }

    /// <summary>The broker-level name Kafka gives a topic config's default under: the hours variant when there is one, else the only synonym.</summary>
    public static BrokerSynonym? DefaultHolder(ConfigDefinition definition) =>
        definition.BrokerSynonyms.FirstOrDefault(s => s.Multiplier == HourMs)
        ?? (definition.BrokerSynonyms.Count == 1 && definition.BrokerSynonyms[0].Multiplier == 1 ? definition.BrokerSynonyms[0] : null);

    private static string FromTopicUnit(string value, BrokerSynonym synonym) =>
        synonym.Multiplier == 1 || !long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number < 0
            ? value
            : (number / synonym.Multiplier).ToString(CultureInfo.InvariantCulture);

    /// <summary>The effective value of one config as a string (see <see cref="Describe"/> for precedence).</summary>
    internal static string EffectiveValue(ConfigDefinition definition, IReadOnlyDictionary<string, string> brokerConfigs, IReadOnlyDictionary<string, string> topicConfigs)
    {
        if (topicConfigs.TryGetValue(definition.Name, out var topicValue)) return topicValue.Trim();
        foreach (var synonym in definition.BrokerSynonyms)
        {
            if (brokerConfigs.TryGetValue(synonym.Name, out var brokerValue)) return ToTopicUnit(definition, synonym.Name, brokerValue.Trim());
        }
        return definition.DefaultValue;
    }

    /// <summary>Checks broker-level settings of topic defaults (log.retention.hours etc.); names not tied to a topic config are ignored.</summary>
    public static IReadOnlyList<ConfigError> ValidateBrokerDefaults(IReadOnlyDictionary<string, string> brokerConfigs)
    {
        var errors = new List<ConfigError>();
        foreach (var definition in Definitions)
        {
            foreach (var synonym in definition.BrokerSynonyms)
            {
                if (!brokerConfigs.TryGetValue(synonym.Name, out var value)) continue;
                var error = synonym.Multiplier == 1 ? definition.Validate(value.Trim()) : LongAtLeast(value.Trim(), -1);
                if (error is not null) errors.Add(new ConfigError(synonym.Name, $"Invalid value {value} for configuration {synonym.Name}: {error}"));
            }
        }
        return errors;
    }

    private static string ToTopicUnit(ConfigDefinition definition, string synonymName, string value)
    {
        var synonym = definition.BrokerSynonyms.First(s => s.Name == synonymName);
        if (synonym.Multiplier == 1) return value;
        var number = long.Parse(value, CultureInfo.InvariantCulture);
        // Negative means "unlimited" in hours or minutes as in ms.
        return (number < 0 ? number : checked(number * synonym.Multiplier)).ToString(CultureInfo.InvariantCulture);
    }

    private static ConfigDefinition Define(string name, ConfigValueType type, string defaultValue, BrokerSynonym[] synonyms, Func<string, string?> validate, string documentation) =>
        new(name, type, defaultValue, synonyms, validate, documentation);

    private static string? Boolean(string value) =>
        value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase) ? null : "Expected value to be either true or false";

    private static string? OneOf(string value, string[] allowed) =>
        allowed.Contains(value, StringComparer.Ordinal) ? null : $"String must be one of: {string.Join(", ", allowed)}";

    private static string? IntAtLeast(string value, int min) => IntBetween(value, min, int.MaxValue);

    private static string? IntBetween(string value, int min, int max, int? allowed = null)
    {
        if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)) return "Not a number of type INT";
        if (number == allowed) return null;
        if (number < min) return $"Value must be at least {min}";
        return number > max ? $"Value must be no more than {max}" : null;
    }

    private static string? LongAtLeast(string value, long min)
    {
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)) return "Not a number of type LONG";
        return number < min ? $"Value must be at least {min}" : null;
    }

    private static string? DoubleBetween(string value, double min, double max)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || double.IsNaN(number)) return "Not a number of type DOUBLE";
        if (number < min) return $"Value must be at least {min.ToString(CultureInfo.InvariantCulture)}";
        return number > max ? $"Value must be no more than {max.ToString(CultureInfo.InvariantCulture)}" : null;
    }

    private static string? ValidCleanupPolicy(string value)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Any(p => p is not ("delete" or "compact"))) return "String must be one of: compact, delete";
        return parts.Distinct(StringComparer.Ordinal).Count() == parts.Length ? null : "Configuration has duplicate values";
    }

    private static string? ValidThrottledReplicas(string value)
    {
        if (value.Length == 0 || value == "*") return null;
        foreach (var pair in value.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out _) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out _))
            {
                return "Must be the wildcard (*) or a list of [partitionId]:[brokerId]";
            }
        }
        return null;
    }
}
