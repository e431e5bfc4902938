using System.Collections.Immutable;
using System.Globalization;
using Brook.Protocol.Records;

namespace Brook.Storage;

[Flags]
public enum CleanupPolicy
{
    None = 0,
    Delete = 1,
    Compact = 2,
}

/// <summary>
/// The effective, typed configuration of one topic's logs: topic overrides over broker defaults over Kafka's
/// defaults. Immutable; a config change produces a new instance.
/// </summary>
public sealed class LogConfig
{
    /// <summary>Kafka's defaults with no broker or topic settings.</summary>
    public static LogConfig Default { get; } = Create(ImmutableDictionary<string, string>.Empty, ImmutableDictionary<string, string>.Empty);

    private LogConfig(Func<string, string> value)
    {
        CleanupPolicy = value(TopicConfigs.CleanupPolicy).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Aggregate(CleanupPolicy.None, (policy, part) => policy | (part == "compact" ? CleanupPolicy.Compact : CleanupPolicy.Delete));
        CompressionType = value(TopicConfigs.CompressionType);
        DeleteRetentionMs = Long(value(TopicConfigs.DeleteRetentionMs));
        FileDeleteDelayMs = Long(value(TopicConfigs.FileDeleteDelayMs));
        FlushMessages = Long(value(TopicConfigs.FlushMessages));
        FlushMs = Long(value(TopicConfigs.FlushMs));
        IndexIntervalBytes = Int(value(TopicConfigs.IndexIntervalBytes));
        MaxCompactionLagMs = Long(value(TopicConfigs.MaxCompactionLagMs));
        MaxMessageBytes = Int(value(TopicConfigs.MaxMessageBytes));
        MessageDownconversionEnable = Bool(value(TopicConfigs.MessageDownconversionEnable));
        MessageTimestampType = value(TopicConfigs.MessageTimestampType) == "LogAppendTime" ? TimestampType.LogAppendTime : TimestampType.CreateTime;
        var difference = Long(value(TopicConfigs.MessageTimestampDifferenceMaxMs));
        MessageTimestampBeforeMaxMs = Math.Min(Long(value(TopicConfigs.MessageTimestampBeforeMaxMs)), difference);
        MessageTimestampAfterMaxMs = Math.Min(Long(value(TopicConfigs.MessageTimestampAfterMaxMs)), difference);
        MinCleanableDirtyRatio = double.Parse(value(TopicConfigs.MinCleanableDirtyRatio), CultureInfo.InvariantCulture);
        MinCompactionLagMs = Long(value(TopicConfigs.MinCompactionLagMs));
        MinInSyncReplicas = Int(value(TopicConfigs.MinInSyncReplicas));
        Preallocate = Bool(value(TopicConfigs.Preallocate));
        RetentionBytes = Long(value(TopicConfigs.RetentionBytes));
        RetentionMs = Long(value(TopicConfigs.RetentionMs));
        SegmentBytes = Int(value(TopicConfigs.SegmentBytes));
        SegmentIndexBytes = Int(value(TopicConfigs.SegmentIndexBytes));
        SegmentJitterMs = Long(value(TopicConfigs.SegmentJitterMs));
        SegmentMs = Long(value(TopicConfigs.SegmentMs));
        UncleanLeaderElectionEnable = Bool(value(TopicConfigs.UncleanLeaderElectionEnable));
    }

    public CleanupPolicy CleanupPolicy { get; }
    public bool IsCompacted => (CleanupPolicy & CleanupPolicy.Compact) != 0;
    public bool DeletesByRetention => (CleanupPolicy & CleanupPolicy.Delete) != 0;
    /// <summary>uncompressed, gzip, snappy, lz4, zstd or producer.</summary>
    public string CompressionType { get; }
    public long DeleteRetentionMs { get; }
    public long FileDeleteDelayMs { get; }
    public long FlushMessages { get; }
    public long FlushMs { get; }
    public int IndexIntervalBytes { get; }
    public long MaxCompactionLagMs { get; }
    public int MaxMessageBytes { get; }
    public bool MessageDownconversionEnable { get; }
    public TimestampType MessageTimestampType { get; }
    /// <summary>Already combined with the deprecated message.timestamp.difference.max.ms.</summary>
    public long MessageTimestampBeforeMaxMs { get; }
    /// <summary>Already combined with the deprecated message.timestamp.difference.max.ms.</summary>
    public long MessageTimestampAfterMaxMs { get; }
    public double MinCleanableDirtyRatio { get; }
    public long MinCompactionLagMs { get; }
    public int MinInSyncReplicas { get; }
    public bool Preallocate { get; }
    /// <summary>-1 or any negative value: unlimited.</summary>
    public long RetentionBytes { get; }
    /// <summary>-1: unlimited.</summary>
    public long RetentionMs { get; }
    public int SegmentBytes { get; }
    public int SegmentIndexBytes { get; }
    public long SegmentJitterMs { get; }
    public long SegmentMs { get; }
    public bool UncleanLeaderElectionEnable { get; }

    /// <summary>
    /// Effective config for a topic. <paramref name="brokerConfigs"/> uses broker names (log.retention.hours, ...);
    /// <paramref name="topicConfigs"/> uses topic names and must already be valid. Throws <see cref="ArgumentException"/>
    /// when a broker default is invalid.
    /// </summary>
    public static LogConfig Create(IReadOnlyDictionary<string, string> brokerConfigs, IReadOnlyDictionary<string, string> topicConfigs)
    {
        var brokerErrors = TopicConfigs.ValidateBrokerDefaults(brokerConfigs);
        if (brokerErrors.Count > 0) throw new ArgumentException(string.Join("; ", brokerErrors.Select(e => e.Message)), nameof(brokerConfigs));
        foreach (var (name, value) in topicConfigs)
        {
            var error = TopicConfigs.Validate(name, value);
            if (error is not null) throw new ArgumentException(error, nameof(topicConfigs));
        }
        return new LogConfig(name => TopicConfigs.EffectiveValue(TopicConfigs.Find(name)!, brokerConfigs, topicConfigs));
    }

    private static long Long(string value) => long.Parse(value, CultureInfo.InvariantCulture);

    private static int Int(string value) => int.Parse(value, CultureInfo.InvariantCulture);

    private static bool Bool(string value) => bool.Parse(value);
}
