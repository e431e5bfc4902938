using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>
/// Compaction for cleanup.policy=compact: keeps the latest record per key in closed segments. Runs beside appends
/// and reads: closed segments are rewritten into a staging directory (<c>.cleaning/</c> in the partition) and
/// swapped in under the append lock with renames, one output segment per input segment, base offsets unchanged.
/// Rules: a record survives if no later record in the cleaned range has its key; a surviving tombstone (null value)
/// is dropped once its timestamp is older than delete.retention.ms; records without keys, control batches and
/// compressed batches are kept as they are (compressed batches are not yet compacted). A batch keeps its base
/// offset and last offset delta so offsets never move; a batch left without records is dropped.
/// The partition's <c>cleaner.checkpoint</c> holds the first dirty (never cleaned) offset.
/// </summary>
internal static class LogCleaner
{
    private const string StagingDirectoryName = ".cleaning";
    private const string CheckpointFileName = "cleaner.checkpoint";

    /// <summary>
    /// Cleans the partition when its dirty ratio reaches min.cleanable.dirty.ratio (or a dirty segment is older than
    /// max.compaction.lag.ms, or <paramref name="force"/>). Returns whether a cleaning happened.
    /// </summary>
    public static async Task<bool> CleanAsync(DiskPartitionLog partition, TimeProvider timeProvider, bool force, CancellationToken cancellationToken)
    {
        if (!partition.TryBeginCleaning()) return false;
        try
        {
            return await Task.Run(() => CleanOnce(partition, timeProvider, force, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            partition.EndCleaning();
        }
    }

    public static long ReadFirstDirtyOffset(string partitionDirectory)
    {
        var path = Path.Combine(partitionDirectory, CheckpointFileName);
        return File.Exists(path) && long.TryParse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture, out var offset) ? offset : 0;
    }

    public static void DeleteStaging(string partitionDirectory)
    {
        var staging = Path.Combine(partitionDirectory, StagingDirectoryName);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
    }

    private static async Task<bool> CleanOnce(DiskPartitionLog partition, TimeProvider timeProvider, bool force, CancellationToken cancellationToken)
    {
        var config = partition.Config;
        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var segments = partition.Segments;
        var closed = segments.RemoveAt(segments.Length - 1);
        if (closed.IsEmpty) return false;
        var firstDirty = ReadFirstDirtyOffset(partition.Directory);
        // Dirty: closed segments from the first dirty offset whose newest record is older than min.compaction.lag.ms.
        var cleanable = closed.TakeWhile(s => s.BaseOffset < firstDirty || s.IsEmpty || now - s.MaxTimestamp >= config.MinCompactionLagMs).ToList();
        var dirty = cleanable.Where(s => s.NextOffset > firstDirty).ToList();
        if (dirty.Count == 0 && !force) return false;
        var dirtyBytes = dirty.Sum(s => s.Size);
        var totalBytes = cleanable.Sum(s => s.Size);
        var ratio = totalBytes == 0 ? 0 : (double)dirtyBytes / totalBytes;
        var overdue = dirty.Any(s => !s.IsEmpty && now - s.CreatedMs > config.MaxCompactionLagMs);
        if (!force && !overdue && ratio < config.MinCleanableDirtyRatio) return false;

        var cleanedEnd = cleanable[^1].NextOffset;
        var latest = BuildOffsetMap(cleanable, cancellationToken);
        var staging = Path.Combine(partition.Directory, StagingDirectoryName);
        Directory.CreateDirectory(staging);
        var outputs = new List<(LogSegment Original, LogSegment Cleaned)>();
        try
        {
            foreach (var segment in cleanable)
            {
                cancellationToken.ThrowIfCancellationRequested();
                outputs.Add((segment, RewriteSegment(segment, staging, latest, now - config.DeleteRetentionMs, config.IndexIntervalBytes, now)));
            }
            var swapped = await partition.WithAppendLockAsync(() =>
            {
                var current = partition.Segments;
                var replaced = current;
                foreach (var (original, cleaned) in outputs)
                {
                    var at = replaced.IndexOf(original);
                    if (at < 0) continue; // deleted by retention meanwhile
                    partition.KeepRetiredHandle(original.RetireKeepingHandle());
                    cleaned.MoveFilesTo(partition.Directory);
                    replaced = replaced.SetItem(at, cleaned);
                }
                DurableFiles.SyncDirectory(partition.Directory);
                partition.PublishSegments(replaced);
                foreach (var (original, _) in outputs) partition.EvictHandle(original);
                DurableFiles.WriteAtomically(Path.Combine(partition.Directory, CheckpointFileName), Encoding.ASCII.GetBytes(cleanedEnd.ToString(CultureInfo.InvariantCulture) + "\n"));
                return true;
            }, cancellationToken).ConfigureAwait(false);
            return swapped;
        }
        finally
        {
            DeleteStaging(partition.Directory);
        }
    }

    /// <summary>Latest offset of every key in uncompressed batches of the cleanable segments.</summary>
    private static Dictionary<byte[], long> BuildOffsetMap(List<LogSegment> segments, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<byte[], long>(ByteArrayComparer.Instance);
        foreach (var segment in segments)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var batch in ReadBatches(segment))
            {
                var header = new RecordBatchHeader(batch);
                if (header.IsControl || header.Compression != CompressionType.None) continue;
                foreach (var record in new RecordWalker(batch))
                {
                    if (record.HasKey) latest[record.Key.ToArray()] = record.Offset;
                }
            }
        }
        return latest;
    }

    private static LogSegment RewriteSegment(LogSegment segment, string staging, Dictionary<byte[], long> latest, long tombstoneHorizon, int indexIntervalBytes, long nowMs)
    {
        var output = LogSegment.CreateActive(staging, segment.BaseOffset, nowMs);
        var lookup = latest.GetAlternateLookup<ReadOnlySpan<byte>>();
        foreach (var batch in ReadBatches(segment))
        {
            var header = new RecordBatchHeader(batch);
            if (header.IsControl || header.Compression != CompressionType.None)
            {
                output.Append(batch, indexIntervalBytes);
                continue;
            }
            var kept = new List<(int Start, int Size)>();
            var count = 0;
            foreach (var record in new RecordWalker(batch))
            {
                count++;
                var keep = !record.HasKey
                    || (lookup.TryGetValue(record.Key, out var newest) && newest == record.Offset && (record.HasValue || record.Timestamp >= tombstoneHorizon));
                if (keep) kept.Add((record.Start, record.Size));
            }
            if (kept.Count == count)
            {
                output.Append(batch, indexIntervalBytes);
            }
            else if (kept.Count > 0)
            {
                output.Append(Rebuild(batch, kept), indexIntervalBytes);
            }
        }
        output.CloseForAppends(flush: true);
        return output;
    }

    /// <summary>The batch with only the <paramref name="kept"/> records; base offset, last offset delta and timestamps stay.</summary>
    private static byte[] Rebuild(ReadOnlySpan<byte> batch, List<(int Start, int Size)> kept)
    {
        var size = RecordBatchHeader.Size + kept.Sum(k => k.Size);
        var result = new byte[size];
        batch[..RecordBatchHeader.Size].CopyTo(result);
        var position = RecordBatchHeader.Size;
        foreach (var (start, length) in kept)
        {
            batch.Slice(start, length).CopyTo(result.AsSpan(position));
            position += length;
        }
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(RecordBatchHeader.LengthPosition), size - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(result.AsSpan(RecordBatchHeader.RecordCountPosition), kept.Count);
        RecordBatchHeader.UpdateCrc(result);
        return result;
    }

    private static IEnumerable<byte[]> ReadBatches(LogSegment segment)
    {
        // A private handle: the shared cache may evict its handles at any time.
        using var handle = File.OpenHandle(segment.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var end = segment.Size;
        var position = 0L;
        var header = new byte[RecordBatchHeader.Size];
        while (LogSegment.TryReadHeader(handle, position, end, header))
        {
            var size = new RecordBatchHeader(header).TotalSize;
            var batch = new byte[size];
            var read = 0;
            while (read < size)
            {
                var n = RandomAccess.Read(handle, batch.AsSpan(read), position + read);
                if (n == 0) throw new StorageException($"Segment {segment.LogPath} ended inside a batch.");
                read += n;
            }
            yield return batch;
            position += size;
        }
    }

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
