using System.Collections.Concurrent;
using Brook.Protocol;
using Brook.Protocol.Records;
using Brook.Storage;

namespace Brook.Broker.Groups;

/// <summary>
/// Lag of one partition: how far the group's committed offset is behind the log end, in messages and in seconds (the
/// age of the first record not yet consumed, from its timestamp; 0 when caught up).
/// </summary>
public sealed record PartitionLag(string Topic, int Partition, long CommittedOffset, long LogEndOffset, long Lag, double LagSeconds = 0);

/// <summary>Lag of a group over every partition it committed an offset for.</summary>
public sealed record GroupLag(string GroupId, IReadOnlyList<PartitionLag> Partitions)
{
    public long TotalLag => Partitions.Sum(p => p.Lag);
}

/// <summary>A live group with its state, members and lag.</summary>
public sealed record GroupOverview(string GroupId, string State, string Type, int Members, GroupLag Lag);

/// <summary>
/// Computes consumer lag (log end offset − committed offset, and the age of the first unconsumed record) from the
/// coordinator's offsets and the logs. Thread-safe.
/// </summary>
public sealed class GroupLagService(GroupCoordinator coordinator, ILogStore store, TimeProvider time)
{
    private const int TimestampCacheLimit = 10_000;
    private const int MaxDecompressedBytes = 64 << 20;

    // Timestamps of the records at committed offsets: a committed offset stays put between commits, and its record never changes.
    private readonly ConcurrentDictionary<(string Topic, int Partition, long Offset), long> _timestamps = new();

    public async Task<GroupLag> GetLagAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var offsets = await coordinator.GetCommittedOffsetsAsync(groupId, cancellationToken).ConfigureAwait(false);
        return await LagOfAsync(groupId, offsets, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Every live group with its lag.</summary>
    public async Task<IReadOnlyList<GroupOverview>> GetAllAsync(CancellationToken cancellationToken = default)
    {
        var result = new List<GroupOverview>();
        foreach (var group in await coordinator.SummarizeGroupsAsync(cancellationToken).ConfigureAwait(false))
        {
            var lag = await LagOfAsync(group.GroupId, group.Offsets, cancellationToken).ConfigureAwait(false);
            result.Add(new GroupOverview(group.GroupId, group.State, group.Type, group.Members, lag));
        }
        if (_timestamps.Count > TimestampCacheLimit) _timestamps.Clear();
        return result;
    }

    private async Task<GroupLag> LagOfAsync(string groupId, IReadOnlyDictionary<(string Topic, int Partition), CommittedOffset> offsets, CancellationToken cancellationToken)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var partitions = new List<PartitionLag>();
        foreach (var ((topic, partition), committed) in offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition))
        {
            var log = store.GetPartition(topic, partition);
            if (log is null) continue;
            var end = log.HighWatermark;
            // A committed offset below the log start counts from the log start: older records are gone.
            var from = Math.Max(committed.Offset, log.LogStartOffset);
            var lag = Math.Max(0, end - from);
            var seconds = 0.0;
            if (lag > 0 && await TimestampAtAsync(log, from, end, cancellationToken).ConfigureAwait(false) is { } timestamp and >= 0)
                seconds = Math.Max(0, nowMs - timestamp) / 1000.0;
            partitions.Add(new PartitionLag(topic, partition, committed.Offset, end, lag, seconds));
        }
        return new GroupLag(groupId, partitions);
    }

    /// <summary>The timestamp of the record at <paramref name="offset"/>, or null when it cannot be read (removed meanwhile).</summary>
    private async Task<long?> TimestampAtAsync(IPartitionLog log, long offset, long end, CancellationToken cancellationToken)
    {
        var key = (log.Topic, log.Partition, offset);
        if (_timestamps.TryGetValue(key, out var cached)) return cached;
        ReadResult read;
        try
        {
            read = await log.ReadAsync(offset, 1, minOneBatch: true, end, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OffsetOutOfRangeException or StorageException or IOException)
        {
            // Truncated or deleted meanwhile, or unreadable: no age for this partition now.
            return null;
        }
        using (read)
        {
            var batches = new RecordBatchEnumerator(read.Records);
            if (!TryMoveNext(ref batches)) return null;
            var timestamp = RecordTimestamp(batches.Current, offset);
            _timestamps[key] = timestamp;
            return timestamp;
        }
    }

    /// <summary>
    /// The record's own timestamp: every record of a LogAppendTime batch has the batch's; otherwise the record is found in
    /// the (decompressed) batch. An unreadable batch gives its first record's timestamp, the oldest it can be.
    /// </summary>
    private static long RecordTimestamp(RecordBatch batch, long offset)
    {
        var header = batch.Header;
        if (header.TimestampType == TimestampType.LogAppendTime) return header.MaxTimestamp;
        var baseOffset = header.BaseOffset;
        var baseTimestamp = header.BaseTimestamp;
        try
        {
            using var records = batch.DecompressRecords(MaxDecompressedBytes);
            foreach (var record in records.Records)
                if (record.Offset(baseOffset) >= offset) return record.Timestamp(baseTimestamp);
        }
        catch (ProtocolException)
        {
            // Fall through to the batch's first timestamp.
        }
        return baseTimestamp;
    }

    private static bool TryMoveNext(ref RecordBatchEnumerator enumerator)
    {
        try
        {
            return enumerator.MoveNext();
        }
        catch (ProtocolException)
        {
            return false;
        }
    }
}
