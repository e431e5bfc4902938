using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Brook.Protocol;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>
/// Compaction of a disk partition (cleanup.policy=compact). The rules are <see cref="CompactionPass"/>'s and the
/// schedule <see cref="CleaningSchedule"/>'s, over closed segments; the active segment is never cleaned. A pass reads
/// the whole log once to learn its transactions (<see cref="TransactionScan"/>), reads the cleanable segments once to
/// build the offset map, then filters them. A segment with any change is rewritten into a staging directory
/// (<c>.cleaning/</c> in the partition) and swapped in under the append lock with renames, one output segment per
/// input segment, base offset unchanged; unchanged segments are left alone. Appends and reads carry on meanwhile.
/// The partition's <c>cleaner.checkpoint</c> holds "firstDirtyOffset pendingDeleteHorizon": the first offset no
/// pass has cleaned, and the earliest delete horizon a pass left pending (<see cref="long.MaxValue"/> for none).
/// </summary>
internal static class LogCleaner
{
    private const string StagingDirectoryName = ".cleaning";
    private const string CheckpointFileName = "cleaner.checkpoint";
    private const int ReadChunk = 1 << 20;

    /// <summary>
    /// Cleans the partition when it is due (see <see cref="CleaningSchedule"/>), or whenever something is cleanable
    /// with <paramref name="force"/>. Returns whether a cleaning happened.
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

    public static (long FirstDirtyOffset, long PendingDeleteHorizon) ReadCheckpoint(string partitionDirectory)
    {
        var path = Path.Combine(partitionDirectory, CheckpointFileName);
        if (!File.Exists(path)) return (0, long.MaxValue);
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var firstDirty = parts.Length > 0 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var offset) ? offset : 0;
        var horizon = parts.Length > 1 && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var pending) ? pending : long.MaxValue;
        return (firstDirty, horizon);
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
        if (segments.Length < 2) return false;
        var closed = new List<CleaningUnit>(segments.Length - 1);
        for (var i = 0; i < segments.Length - 1; i++)
        {
            var segment = segments[i];
            closed.Add(new CleaningUnit(segment.BaseOffset, segments[i + 1].BaseOffset, segment.Size, segment.MaxTimestamp, segment.CreatedMs));
        }
        var (firstDirty, pendingHorizon) = ReadCheckpoint(partition.Directory);
        // The cheap check first; the transaction scan that may narrow the range reads the whole log.
        if (CleaningSchedule.CleanableCount(closed, firstDirty, pendingHorizon, long.MaxValue, config, now, force) == 0) return false;
        var transactions = new TransactionScan();
        foreach (var segment in segments)
        {
            foreach (var (batch, _) in ReadBatches(segment, cancellationToken))
            {
                var header = new RecordBatchHeader(batch.Span);
                transactions.Observe(batch.Span, header.IsControl ? TransactionScan.ReadControlType(batch) : ControlRecordType.Unknown);
            }
        }
        var count = CleaningSchedule.CleanableCount(closed, firstDirty, pendingHorizon, transactions.FirstUnstableOffset, config, now, force);
        if (count == 0) return false;
        var cleanable = segments[..count];
        var cleanedEnd = segments[count].BaseOffset;

        using var pass = new CompactionPass(transactions, now, config.DeleteRetentionMs, partition.ProducerIdExpirationMs);
        foreach (var segment in cleanable)
        {
            foreach (var (batch, _) in ReadBatches(segment, cancellationToken)) pass.AddToOffsetMap(batch);
        }
        var staging = Path.Combine(partition.Directory, StagingDirectoryName);
        Directory.CreateDirectory(staging);
        var outputs = new List<(LogSegment Original, LogSegment Cleaned)>();
        try
        {
            using var output = new ProtocolWriter(64 * 1024);
            foreach (var segment in cleanable)
            {
                if (RewriteSegment(segment, staging, pass, output, config.IndexIntervalBytes, now, cancellationToken) is { } cleaned) outputs.Add((segment, cleaned));
            }
            var checkpoint = string.Create(CultureInfo.InvariantCulture, $"{cleanedEnd} {pass.EarliestDeleteHorizon}\n");
            return await partition.WithAppendLockAsync(() =>
            {
                var replaced = partition.Segments;
                foreach (var (original, cleaned) in outputs)
                {
                    var at = replaced.IndexOf(original);
                    if (at < 0) continue; // deleted by retention meanwhile
                    partition.RetireReplaced(original);
                    cleaned.MoveFilesTo(partition.Directory);
                    replaced = replaced.SetItem(at, cleaned);
                }
                DurableFiles.SyncDirectory(partition.Directory);
                partition.PublishSegments(replaced);
                DurableFiles.WriteAtomically(Path.Combine(partition.Directory, CheckpointFileName), Encoding.ASCII.GetBytes(checkpoint));
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            DeleteStaging(partition.Directory);
        }
    }

    /// <summary>
    /// Filters one segment. Returns the cleaned copy (closed, in <paramref name="staging"/>), or null when every batch
    /// stays as it is. The copy is started at the first change, with the unchanged batches before it copied over.
    /// </summary>
    private static LogSegment? RewriteSegment(LogSegment segment, string staging, CompactionPass pass, ProtocolWriter output, int indexIntervalBytes,
        long nowMs, CancellationToken cancellationToken)
    {
        LogSegment? cleaned = null;
        foreach (var (batch, position) in ReadBatches(segment, cancellationToken))
        {
            output.Reset();
            var verdict = pass.Filter(batch, output);
            if (cleaned is null)
            {
                if (verdict == BatchVerdict.Keep) continue;
                cleaned = LogSegment.CreateActive(staging, segment.BaseOffset, nowMs);
                foreach (var (unchanged, at) in ReadBatches(segment, cancellationToken))
                {
                    if (at >= position) break;
                    cleaned.Append(unchanged.Span, indexIntervalBytes);
                }
            }
            if (verdict == BatchVerdict.Keep) cleaned.Append(batch.Span, indexIntervalBytes);
            else if (verdict == BatchVerdict.Rewritten) cleaned.Append(output.WrittenSpan, indexIntervalBytes);
        }
        cleaned?.CloseForAppends(flush: true);
        return cleaned;
    }

    /// <summary>
    /// The whole batches of a segment as published when the walk starts, in order, with their file positions. Each
    /// batch is a view of a pooled buffer valid until the next step of the walk. Uses a private handle: the shared
    /// cache may evict its handles at any time.
    /// </summary>
    private static IEnumerable<(ReadOnlyMemory<byte> Batch, long Position)> ReadBatches(LogSegment segment, CancellationToken cancellationToken)
    {
        var end = segment.Size;
        if (end == 0) yield break;
        using var handle = File.OpenHandle(segment.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadChunk);
        try
        {
            var bufferStart = 0L; // file position of buffer[0]
            int filled = 0, consumed = 0;
            while (true)
            {
                var available = filled - consumed;
                var needed = RecordBatchHeader.Size;
                if (available >= RecordBatchHeader.Size)
                {
                    needed = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(consumed + RecordBatchHeader.LengthPosition)) + RecordBatchHeader.LogOverhead;
                    if (needed < RecordBatchHeader.Size || bufferStart + consumed + needed > end)
                        throw new StorageException($"Segment {segment.LogPath} holds a batch of impossible length at {bufferStart + consumed}.");
                    if (available >= needed)
                    {
                        yield return (buffer.AsMemory(consumed, needed), bufferStart + consumed);
                        consumed += needed;
                        continue;
                    }
                }
                if (bufferStart + filled >= end)
                {
                    if (available > 0) throw new StorageException($"Segment {segment.LogPath} ended inside a batch.");
                    yield break;
                }
                cancellationToken.ThrowIfCancellationRequested();
                // Keep the partial batch, moved to the front of a buffer big enough for it.
                var target = needed > buffer.Length ? ArrayPool<byte>.Shared.Rent(needed) : buffer;
                buffer.AsSpan(consumed, available).CopyTo(target);
                if (!ReferenceEquals(target, buffer))
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = target;
                }
                bufferStart += consumed;
                filled = available;
                consumed = 0;
                var read = RandomAccess.Read(handle, buffer.AsSpan(filled, (int)Math.Min(buffer.Length - filled, end - bufferStart - filled)), bufferStart + filled);
                if (read == 0) throw new StorageException($"Segment {segment.LogPath} ended inside a batch.");
                filled += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
