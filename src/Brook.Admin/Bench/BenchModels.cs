namespace Brook.Admin.Bench;

/// <summary>How a load run ends: after a number of messages, after a time, or whichever comes first.</summary>
public sealed record BenchLimit(long? Messages, TimeSpan? Duration)
{
    public static BenchLimit Count(long messages) => new(messages, null);

    public static BenchLimit For(TimeSpan duration) => new(null, duration);
}

/// <summary>A producer load: what to send, how fast, and how the producers are configured.</summary>
public sealed record ProduceBenchOptions(string Topic, BenchLimit Limit)
{
    /// <summary>Bytes of each message value.</summary>
    public int MessageSize { get; init; } = 100;

    /// <summary>Distinct keys, used in turn; 0 sends keyless messages (spread by the client's partitioner).</summary>
    public int Keys { get; init; }

    /// <summary>"all" (or -1), "1" or "0".</summary>
    public string Acks { get; init; } = "all";

    /// <summary>linger.ms; the client's default when null.</summary>
    public double? LingerMs { get; init; }

    /// <summary>batch.size in bytes; the client's default when null.</summary>
    public int? BatchSize { get; init; }

    /// <summary>none, gzip, snappy, lz4 or zstd; the client's default when null.</summary>
    public string? Compression { get; init; }

    /// <summary>Create the topic with this many partitions when it does not exist (an existing topic must have as many).</summary>
    public int? Partitions { get; init; }

    /// <summary>Producer instances, each on its own thread with its own connection.</summary>
    public int Producers { get; init; } = 1;

    /// <summary>Messages a second over all producers; unthrottled when null.</summary>
    public double? MessagesPerSecond { get; init; }

    /// <summary>Extra client properties (librdkafka names), applied last.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

/// <summary>A consumer load: read a topic as fast as possible.</summary>
public sealed record ConsumeBenchOptions(string Topic, BenchLimit Limit)
{
    /// <summary>Consume in this group (subscribe); without one every partition is read from the beginning.</summary>
    public string? GroupId { get; init; }

    /// <summary>Stop when nothing arrived for this long (the topic is drained).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

/// <summary>A running load as seen at one moment.</summary>
public sealed record BenchProgress(TimeSpan Elapsed, long Messages, long Bytes, double MessagesPerSecond, double MegabytesPerSecond, double? LatencyP99Ms);

/// <summary>
/// What a run measured. Throughput counts acknowledged (produce) or received (consume, e2e) messages over the whole run.
/// <see cref="Latency"/> is produce→ack for produce runs and produce→consume for e2e runs (timestamp carried in the message);
/// <see cref="AckLatency"/> is the e2e run's produce→ack.
/// </summary>
public sealed record BenchResult(string Mode, string Topic, long Messages, long Bytes, long Errors, double Seconds, LatencySummary? Latency)
{
    public double MessagesPerSecond => Seconds > 0 ? Messages / Seconds : 0;

    public double MegabytesPerSecond => Seconds > 0 ? Bytes / Seconds / 1e6 : 0;

    public LatencySummary? AckLatency { get; init; }

    public string? FirstError { get; init; }

    /// <summary>The settings that shaped the run, for the report.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}
