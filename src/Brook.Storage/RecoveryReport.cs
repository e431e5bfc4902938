using System.Collections.Concurrent;

namespace Brook.Storage;

/// <summary>One repair made while opening a partition: bytes cut off a segment, a segment dropped, or indexes rebuilt.</summary>
/// <param name="Topic">The partition's topic.</param>
/// <param name="Partition">The partition.</param>
/// <param name="Segment">The segment's log file name.</param>
/// <param name="FromOffset">The first offset lost (the offset the partition continues from), or -1 when nothing was lost.</param>
/// <param name="ToOffset">The last offset lost, when known.</param>
/// <param name="BytesDropped">Bytes of log data removed.</param>
/// <param name="Reason">Why: torn write, CRC mismatch, corrupt batch header, offsets out of order, a segment after a corrupt one, missing or inconsistent indexes.</param>
public sealed record RecoveryRepair(string Topic, int Partition, string Segment, long FromOffset, long? ToOffset, long BytesDropped, string Reason);

/// <summary>What opening a disk store found and repaired, for the broker's start log and metrics.</summary>
public sealed class RecoveryReport
{
    private readonly ConcurrentQueue<RecoveryRepair> _repairs = new();
    private long _segmentsScanned;

    /// <summary>The previous run ended with a clean shutdown, so partitions were opened without scanning.</summary>
    public bool CleanShutdown { get; internal set; }

    public int Partitions { get; internal set; }

    /// <summary>Segments whose batches were all read and checked (CRC included).</summary>
    public long SegmentsScanned => Interlocked.Read(ref _segmentsScanned);

    public TimeSpan Elapsed { get; internal set; }

    public IReadOnlyList<RecoveryRepair> Repairs => [.. _repairs];

    public long TruncatedBytes => _repairs.Sum(r => r.BytesDropped);

    internal void Scanned() => Interlocked.Increment(ref _segmentsScanned);

    internal void Add(RecoveryRepair repair) => _repairs.Enqueue(repair);
}
