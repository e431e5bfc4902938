using Brook.Protocol;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>
/// Retention and compaction of an in-memory partition. Without segments, each batch plays the part of a segment, so
/// the store behaves as a disk store whose segments hold one batch each: retention deletes whole batches from the head
/// (retention.ms: every batch whose max timestamp is older, the newest too, as a disk store deletes an expired active
/// segment; retention.bytes: while the remaining batches still exceed the limit, never the newest), and compaction
/// (<see cref="CompactionPass"/>, scheduled by <see cref="CleaningSchedule"/>) cleans every batch but the newest, which
/// plays the active segment. A cleaning works on a copy of the batch list outside the lock and swaps its result in
/// under the lock, so appends and reads carry on meanwhile.
/// </summary>
internal sealed partial class InMemoryPartitionLog
{
    private LogConfig _config = LogConfig.Default;
    private long _firstDirtyOffset; // guarded by _lock
    private long _pendingDeleteHorizon = long.MaxValue; // guarded by _lock
    private int _cleaning;

    public LogConfig Config
    {
        get => Volatile.Read(ref _config);
        set => Volatile.Write(ref _config, value);
    }

    /// <summary>Deletes batches past retention.ms / retention.bytes when the topic's policy includes delete; returns how many went.</summary>
    internal int EnforceRetention(long nowMs)
    {
        var config = Config;
        if (!config.DeletesByRetention) return 0;
        lock (_lock)
        {
            var count = 0;
            var remaining = _sizeInBytes;
            if (config.RetentionMs >= 0)
            {
                while (count < _batches.Count && nowMs - new RecordBatchHeader(_batches[count]).MaxTimestamp > config.RetentionMs) remaining -= _batches[count++].Length;
            }
            if (config.RetentionBytes >= 0)
            {
                while (count < _batches.Count - 1 && remaining - _batches[count].Length >= config.RetentionBytes) remaining -= _batches[count++].Length;
            }
            if (count == 0) return 0;
            var newStart = new RecordBatchHeader(_batches[count - 1]).LastOffset + 1;
            _batches.RemoveRange(0, count);
            _sizeInBytes = remaining;
            Volatile.Write(ref _logStartOffset, Math.Max(_logStartOffset, newStart));
            return count;
        }
    }

    /// <summary>Compacts the partition when it is due, or whenever something is cleanable with <paramref name="force"/>; returns whether it did.</summary>
    internal bool Clean(long nowMs, long producerExpirationMs, bool force)
    {
        if (Interlocked.CompareExchange(ref _cleaning, 1, 0) != 0) return false;
        try
        {
            var config = Config;
            byte[][] batches;
            long firstDirty, pendingHorizon;
            lock (_lock)
            {
                if (_deleted) return false;
                batches = [.. _batches];
                firstDirty = _firstDirtyOffset;
                pendingHorizon = _pendingDeleteHorizon;
            }
            if (batches.Length < 2) return false;
            var closed = new List<CleaningUnit>(batches.Length - 1);
            for (var i = 0; i < batches.Length - 1; i++)
            {
                var header = new RecordBatchHeader(batches[i]);
                closed.Add(new CleaningUnit(header.BaseOffset, new RecordBatchHeader(batches[i + 1]).BaseOffset, batches[i].Length, header.MaxTimestamp, header.MaxTimestamp));
            }
            if (CleaningSchedule.CleanableCount(closed, firstDirty, pendingHorizon, long.MaxValue, config, nowMs, force) == 0) return false;
            var transactions = new TransactionScan();
            foreach (var batch in batches)
            {
                var header = new RecordBatchHeader(batch);
                transactions.Observe(batch, header.IsControl ? TransactionScan.ReadControlType(batch) : ControlRecordType.Unknown);
            }
            var count = CleaningSchedule.CleanableCount(closed, firstDirty, pendingHorizon, transactions.FirstUnstableOffset, config, nowMs, force);
            if (count == 0) return false;
            var cleanedEnd = new RecordBatchHeader(batches[count]).BaseOffset;

            using var pass = new CompactionPass(transactions, nowMs, config.DeleteRetentionMs, producerExpirationMs);
            for (var i = 0; i < count; i++) pass.AddToOffsetMap(batches[i]);
            var cleaned = new List<byte[]>(count);
            using (var output = new ProtocolWriter(4096))
            {
                for (var i = 0; i < count; i++)
                {
                    output.Reset();
                    switch (pass.Filter(batches[i], output))
                    {
                        case BatchVerdict.Keep:
                            cleaned.Add(batches[i]);
                            break;
                        case BatchVerdict.Rewritten:
                            cleaned.Add(output.WrittenSpan.ToArray());
                            break;
                    }
                }
            }

            lock (_lock)
            {
                if (_deleted) return false;
                // The batches below the cleaned end are the copy's, less any that retention or DeleteRecords dropped from
                // the head meanwhile (and moved the log start past).
                var replaced = 0;
                var removedBytes = 0L;
                while (replaced < _batches.Count && new RecordBatchHeader(_batches[replaced]).LastOffset < cleanedEnd) removedBytes += _batches[replaced++].Length;
                var start = _logStartOffset;
                var kept = cleaned.Where(b => new RecordBatchHeader(b).LastOffset >= start).ToList();
                _batches.RemoveRange(0, replaced);
                _batches.InsertRange(0, kept);
                _sizeInBytes += kept.Sum(b => (long)b.Length) - removedBytes;
                _firstDirtyOffset = Math.Max(_firstDirtyOffset, cleanedEnd);
                _pendingDeleteHorizon = pass.EarliestDeleteHorizon;
            }
            return true;
        }
        finally
        {
            Volatile.Write(ref _cleaning, 0);
        }
    }
}
