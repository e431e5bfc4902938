using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Brook.Storage;

/// <summary>
/// Storage instruments on the "Brook" meter (the broker's meter name), static because storage is opened before any
/// service container exists. The instruments are process-wide and thread-safe.
/// </summary>
public static class StorageMetrics
{
    public const string MeterName = "Brook";

    /// <summary>The process-wide storage meter, for exporters that pick instruments by meter.</summary>
    public static Meter Meter { get; } = new(MeterName);

    private static readonly Histogram<double> FlushSeconds = Meter.CreateHistogram<double>(
        "storage.flush.duration", "s", "Time taken by each fsync of a partition's log.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    /// <summary>Records one fsync that started at <paramref name="startTimestamp"/> (from <see cref="Stopwatch.GetTimestamp"/>).</summary>
    public static void FlushCompleted(long startTimestamp) => FlushSeconds.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
}
