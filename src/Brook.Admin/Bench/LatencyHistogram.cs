namespace Brook.Admin.Bench;

/// <summary>
/// Latencies in microseconds, counted in log-linear buckets: exact below 128 µs, then 64 buckets per power of two
/// (under 1.6% error), up to about 2^40 µs. Recording is lock-free and allocation-free, so delivery-report threads of
/// several producers may record into one histogram.
/// </summary>
public sealed class LatencyHistogram
{
    private const int LinearLimit = 128;
    private const int SubBuckets = 64;
    private const int MaxExponent = 40;
    private const int BucketCount = LinearLimit + (MaxExponent - 6) * SubBuckets;

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _sum;
    private long _max;

    public long Count => Volatile.Read(ref _count);

    public void Record(long micros)
    {
        if (micros < 0) micros = 0;
        Interlocked.Increment(ref _counts[Index(micros)]);
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _sum, micros);
        var max = Volatile.Read(ref _max);
        while (micros > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, micros, max);
            if (seen == max) break;
            max = seen;
        }
    }

    /// <summary>Records a latency measured in <see cref="System.Diagnostics.Stopwatch"/> ticks.</summary>
    public void RecordTicks(long ticks) => Record(ticks * 1_000_000 / System.Diagnostics.Stopwatch.Frequency);

    /// <summary>The value at quantile <paramref name="q"/> (0..1) in microseconds: the upper bound of its bucket, capped at the max.</summary>
    public long Percentile(double q)
    {
        var total = Count;
        if (total == 0) return 0;
        var rank = (long)Math.Ceiling(Math.Clamp(q, 0, 1) * total);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank) return Math.Min(UpperBound(i), Max);
        }
        return Max;
    }

    public long Max => Volatile.Read(ref _max);

    public double Mean => Count == 0 ? 0 : (double)Volatile.Read(ref _sum) / Count;

    public LatencySummary Summary() => new(Count, Mean / 1000.0, Percentile(0.5) / 1000.0, Percentile(0.99) / 1000.0, Percentile(0.999) / 1000.0, Max / 1000.0);

    internal static int Index(long micros)
    {
        if (micros < LinearLimit) return (int)micros;
        var exponent = 63 - (int)long.LeadingZeroCount(micros); // >= 7
        if (exponent >= MaxExponent) return BucketCount - 1;
        var mantissa = (int)(micros >> (exponent - 6)); // in [64, 128)
        return LinearLimit + (exponent - 7) * SubBuckets + (mantissa - SubBuckets);
    }

    internal static long UpperBound(int index)
    {
        if (index < LinearLimit) return index;
        var exponent = (index - LinearLimit) / SubBuckets + 7;
        var mantissa = (index - LinearLimit) % SubBuckets + SubBuckets;
        return ((long)(mantissa + 1) << (exponent - 6)) - 1;
    }
}

/// <summary>Latency percentiles in milliseconds over <see cref="Count"/> samples.</summary>
public sealed record LatencySummary(long Count, double Mean, double P50, double P99, double P999, double Max);
