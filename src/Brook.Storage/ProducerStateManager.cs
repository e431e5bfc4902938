using System.Buffers.Binary;
using Brook.Protocol;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>Where one producer's batch landed: its sequence range, offsets and append time.</summary>
internal readonly record struct ProducerBatch(int FirstSequence, int LastSequence, long FirstOffset, long LastOffset, long Timestamp);

/// <summary>What a partition knows about one producer id: its epoch and its last few batches (newest last).</summary>
internal sealed class ProducerEntry(long producerId, short epoch, long lastTimestamp)
{
    public long ProducerId { get; } = producerId;

    public short Epoch { get; set; } = epoch;

    /// <summary>Broker time of the producer's last append (expiry counts from here).</summary>
    public long LastTimestamp { get; set; } = lastTimestamp;

    public List<ProducerBatch> Batches { get; } = new(ProducerStateManager.RetainedBatches);

    /// <summary>Offset of the first batch of the producer's open transaction on this partition, or -1.</summary>
    public long CurrentTxnFirstOffset { get; set; } = -1;

    /// <summary>The coordinator epoch of the last transaction marker seen for this producer, or -1.</summary>
    public int CoordinatorEpoch { get; set; } = -1;

    public int? LastSequence => Batches.Count == 0 ? null : Batches[^1].LastSequence;

    public void Add(ProducerBatch batch)
    {
        if (Batches.Count == ProducerStateManager.RetainedBatches) Batches.RemoveAt(0);
        Batches.Add(batch);
    }
}

/// <summary>The verdict on appending a run of batches, given what is known of their producers.</summary>
internal readonly record struct ProducerCheck(AppendStatus Status, string? Message, ProducerBatch Duplicate)
{
    public static readonly ProducerCheck Accept = new(AppendStatus.Appended, null, default);
}

/// <summary>
/// Per-partition state of idempotent producers, as Kafka keeps it: for each producer id the current epoch and the
/// last <see cref="RetainedBatches"/> batches. Appends are checked against it (stale epochs, sequence gaps,
/// retried duplicates) and then recorded. Not thread-safe: the owning log calls it under its append serialization.
/// Rules (Kafka's ProducerAppendInfo): an epoch below the known one is rejected; a batch with the known epoch
/// whose sequence range equals one of the retained batches is a duplicate; a newer epoch must start at sequence 0;
/// within an epoch the first sequence must follow the last (wrapping from int.MaxValue to 0); a producer id with
/// no state (new, or expired) is accepted at any sequence.
/// Transactions: a transactional batch opens a transaction for its producer (its first offset is remembered) until a
/// COMMIT or ABORT marker of that producer; the oldest open transaction bounds the last stable offset. Aborted
/// transactions are kept as (producer, first offset, marker offset) for read_committed fetches; they are part of the
/// snapshot, so on disk the aborted-transaction index is durable through snapshots plus replay of the log after them.
/// A producer with an open transaction never expires.
/// </summary>
internal sealed class ProducerStateManager
{
    public const int RetainedBatches = 5;
    public static readonly TimeSpan DefaultExpiration = TimeSpan.FromDays(1);
    private const short SnapshotVersion = 2;
    private const int SnapshotHeaderSize = 2 + 4 + 8 + 4; // version, crc, offset, count
    private const int SnapshotEntryHeaderSize = 8 + 2 + 8 + 8 + 4 + 1;
    private const int SnapshotBatchSize = 4 + 4 + 8 + 8 + 8;
    private const int SnapshotAbortedSize = 8 + 8 + 8;

    private readonly Dictionary<long, ProducerEntry> _producers = [];
    // Open transactions by first offset; the minimum is the first unstable offset.
    private readonly SortedSet<(long FirstOffset, long ProducerId)> _ongoing = [];
    // Ordered by marker offset. Guarded by its own lock: fetches read it without the owner's serialization.
    private readonly List<AbortedTransaction> _aborted = [];
    private long _expirationMs;
    private long _lastExpiryScanMs;

    public ProducerStateManager(long expirationMs)
    {
        _expirationMs = expirationMs;
    }

    /// <summary>How long a producer id may stay idle before its state is dropped (producer.id.expiration.ms).</summary>
    public long ExpirationMs
    {
        get => _expirationMs;
        set => _expirationMs = value;
    }

    public int Count => _producers.Count;

    /// <summary>The first offset of the oldest open transaction, or null when none is open.</summary>
    public long? FirstUnstableOffset => _ongoing.Count == 0 ? null : _ongoing.Min.FirstOffset;

    /// <summary>A copy of every aborted transaction still known, ordered by marker offset. Safe to call from any thread.</summary>
    public AbortedTransaction[] Aborted
    {
        get
        {
            lock (_aborted) return [.. _aborted];
        }
    }

    /// <summary>Aborted transactions that ended at or after <paramref name="fromOffset"/> and began before <paramref name="upperBoundOffset"/>.</summary>
    public IReadOnlyList<AbortedTransaction> AbortedBetween(long fromOffset, long upperBoundOffset)
    {
        List<AbortedTransaction>? result = null;
        lock (_aborted)
        {
            // Ordered by marker offset: skip those that ended before the range.
            int low = 0, high = _aborted.Count;
            while (low < high)
            {
                var mid = (low + high) >>> 1;
                if (_aborted[mid].LastOffset < fromOffset) low = mid + 1;
                else high = mid;
            }
            for (var i = low; i < _aborted.Count; i++)
            {
                if (_aborted[i].FirstOffset < upperBoundOffset) (result ??= []).Add(_aborted[i]);
            }
        }
        return result ?? (IReadOnlyList<AbortedTransaction>)[];
    }

    /// <summary>Forgets aborted transactions whose marker is below <paramref name="logStartOffset"/> (their data is gone).</summary>
    public void PruneAborted(long logStartOffset)
    {
        lock (_aborted) _aborted.RemoveAll(a => a.LastOffset < logStartOffset);
    }

    /// <summary>Every producer with state, as DescribeProducers reports them.</summary>
    public List<ProducerInfo> Describe(long nowMs) => _producers.Values
        .Where(e => !IsExpired(e, nowMs))
        .Select(e => new ProducerInfo(e.ProducerId, e.Epoch, e.LastSequence ?? -1, e.LastTimestamp, e.CoordinatorEpoch, e.CurrentTxnFirstOffset))
        .ToList();

    /// <summary>The producer's state, or null when it has none (never seen, or expired by <paramref name="nowMs"/>).</summary>
    public ProducerEntry? Get(long producerId, long nowMs)
    {
        if (!_producers.TryGetValue(producerId, out var entry)) return null;
        if (!IsExpired(entry, nowMs)) return entry;
        _producers.Remove(producerId);
        return null;
    }

    /// <summary>Checks batches (whole, magic 2) about to be appended; nothing is recorded.</summary>
    public ProducerCheck Check(ReadOnlySpan<byte> batches, long nowMs)
    {
        RemoveExpiredIfDue(nowMs);
        // Batches of one request chain onto each other; track the effect of earlier ones.
        Dictionary<long, (short Epoch, int LastSequence)>? pending = null;
        var position = 0;
        while (position < batches.Length)
        {
            // Malformed bytes are left for the offset assignment to refuse.
            var size = BatchOps.CompleteBatchSize(batches[position..]);
            if (size < 0) break;
            var header = new RecordBatchHeader(batches.Slice(position, size));
            position += size;
            var producerId = header.ProducerId;
            if (producerId < 0 || header.IsControl) continue;
            var epoch = header.ProducerEpoch;
            var first = header.BaseSequence;
            var last = LastSequence(first, header.LastOffsetDelta);
            short? knownEpoch;
            int? knownLast;
            ProducerEntry? entry = null;
            if (pending is not null && pending.TryGetValue(producerId, out var p))
            {
                knownEpoch = p.Epoch;
                knownLast = p.LastSequence;
            }
            else
            {
                entry = Get(producerId, nowMs);
                knownEpoch = entry?.Epoch;
                knownLast = entry?.LastSequence;
            }

            if (knownEpoch is { } current)
            {
                if (epoch < current)
                    return Reject(AppendStatus.InvalidProducerEpoch, $"Producer {producerId} has epoch {epoch}, older than the current epoch {current}.");
                if (entry is not null && epoch == current)
                {
                    foreach (var batch in entry.Batches)
                    {
                        if (batch.FirstSequence == first && batch.LastSequence == last) return new ProducerCheck(AppendStatus.Duplicate, null, batch);
                    }
                }
                if (epoch > current)
                {
                    if (first != 0)
                        return Reject(AppendStatus.OutOfOrderSequence, $"Producer {producerId} starts epoch {epoch} at sequence {first}; a new epoch starts at 0.");
                }
                else if (knownLast is { } lastKnown && !InSequence(lastKnown, first))
                {
                    return Reject(AppendStatus.OutOfOrderSequence, $"Producer {producerId} sent sequence {first} at epoch {epoch}; expected {NextSequence(lastKnown)}.");
                }
            }
            (pending ??= [])[producerId] = (epoch, last);
        }
        return ProducerCheck.Accept;
    }

    /// <summary>Records batches after they were written (offsets assigned); <paramref name="nowMs"/> is the broker's clock.</summary>
    public void OnAppended(ReadOnlySpan<byte> batches, long nowMs)
    {
        var position = 0;
        while (position < batches.Length)
        {
            var header = new RecordBatchHeader(batches[position..]);
            Record(batches.Slice(position, header.TotalSize), nowMs);
            position += header.TotalSize;
        }
    }

    /// <summary>
    /// Replays one batch read from the log (rebuilding state on open): its header, or the whole batch for a control
    /// batch (the marker type is in its record).
    /// </summary>
    public void Replay(ReadOnlySpan<byte> batch, long timestampMs) => Record(batch, timestampMs);

    /// <summary>Drops producers idle for longer than the expiration; returns how many went.</summary>
    public int RemoveExpired(long nowMs)
    {
        _lastExpiryScanMs = nowMs;
        var expired = _producers.Values.Where(e => IsExpired(e, nowMs)).Select(e => e.ProducerId).ToList();
        foreach (var id in expired) _producers.Remove(id);
        return expired.Count;
    }

    /// <summary>
    /// Serializes the state as of <paramref name="offset"/> (every batch below it recorded). Layout, big-endian:
    /// version int16, CRC-32C of the rest int32, offset int64, producer count int32, then per producer: id int64,
    /// epoch int16, last timestamp int64, open transaction's first offset int64 (-1 none), coordinator epoch int32,
    /// batch count int8, and per batch first/last sequence int32, first/last offset int64, timestamp int64; then the
    /// aborted transaction count int32 and per transaction producer id, first offset, marker offset (int64 each).
    /// Snapshots of version 1 (before transactions) are not loaded: the log is replayed instead.
    /// </summary>
    public byte[] ToSnapshot(long offset)
    {
        var size = SnapshotHeaderSize + _producers.Values.Sum(e => SnapshotEntryHeaderSize + e.Batches.Count * SnapshotBatchSize);
        var aborted = Aborted;
        size += 4 + aborted.Length * SnapshotAbortedSize;
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteInt16BigEndian(span, SnapshotVersion);
        BinaryPrimitives.WriteInt64BigEndian(span[6..], offset);
        BinaryPrimitives.WriteInt32BigEndian(span[14..], _producers.Count);
        var position = SnapshotHeaderSize;
        foreach (var entry in _producers.Values)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[position..], entry.ProducerId);
            BinaryPrimitives.WriteInt16BigEndian(span[(position + 8)..], entry.Epoch);
            BinaryPrimitives.WriteInt64BigEndian(span[(position + 10)..], entry.LastTimestamp);
            BinaryPrimitives.WriteInt64BigEndian(span[(position + 18)..], entry.CurrentTxnFirstOffset);
            BinaryPrimitives.WriteInt32BigEndian(span[(position + 26)..], entry.CoordinatorEpoch);
            span[position + 30] = (byte)entry.Batches.Count;
            position += SnapshotEntryHeaderSize;
            foreach (var batch in entry.Batches)
            {
                BinaryPrimitives.WriteInt32BigEndian(span[position..], batch.FirstSequence);
                BinaryPrimitives.WriteInt32BigEndian(span[(position + 4)..], batch.LastSequence);
                BinaryPrimitives.WriteInt64BigEndian(span[(position + 8)..], batch.FirstOffset);
                BinaryPrimitives.WriteInt64BigEndian(span[(position + 16)..], batch.LastOffset);
                BinaryPrimitives.WriteInt64BigEndian(span[(position + 24)..], batch.Timestamp);
                position += SnapshotBatchSize;
            }
        }
        BinaryPrimitives.WriteInt32BigEndian(span[position..], aborted.Length);
        position += 4;
        foreach (var a in aborted)
        {
            BinaryPrimitives.WriteInt64BigEndian(span[position..], a.ProducerId);
            BinaryPrimitives.WriteInt64BigEndian(span[(position + 8)..], a.FirstOffset);
            BinaryPrimitives.WriteInt64BigEndian(span[(position + 16)..], a.LastOffset);
            position += SnapshotAbortedSize;
        }
        BinaryPrimitives.WriteUInt32BigEndian(span[2..], Crc32C.Compute(span[6..]));
        return bytes;
    }

    /// <summary>Replaces the state with a snapshot's; returns false (state untouched) when the bytes are not a valid snapshot.</summary>
    public bool TryLoadSnapshot(ReadOnlySpan<byte> bytes, out long offset)
    {
        offset = -1;
        if (bytes.Length < SnapshotHeaderSize || BinaryPrimitives.ReadInt16BigEndian(bytes) != SnapshotVersion) return false;
        if (BinaryPrimitives.ReadUInt32BigEndian(bytes[2..]) != Crc32C.Compute(bytes[6..])) return false;
        var count = BinaryPrimitives.ReadInt32BigEndian(bytes[14..]);
        var loaded = new Dictionary<long, ProducerEntry>(Math.Max(count, 0));
        var position = SnapshotHeaderSize;
        for (var i = 0; i < count; i++)
        {
            if (bytes.Length - position < SnapshotEntryHeaderSize) return false;
            var entry = new ProducerEntry(
                BinaryPrimitives.ReadInt64BigEndian(bytes[position..]),
                BinaryPrimitives.ReadInt16BigEndian(bytes[(position + 8)..]),
                BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 10)..]))
            {
                CurrentTxnFirstOffset = BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 18)..]),
                CoordinatorEpoch = BinaryPrimitives.ReadInt32BigEndian(bytes[(position + 26)..]),
            };
            var batches = bytes[position + 30];
            position += SnapshotEntryHeaderSize;
            if (batches > RetainedBatches || bytes.Length - position < batches * SnapshotBatchSize) return false;
            for (var b = 0; b < batches; b++)
            {
                entry.Add(new ProducerBatch(
                    BinaryPrimitives.ReadInt32BigEndian(bytes[position..]),
                    BinaryPrimitives.ReadInt32BigEndian(bytes[(position + 4)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 8)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 16)..]),
                    BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 24)..])));
                position += SnapshotBatchSize;
            }
            loaded[entry.ProducerId] = entry;
        }
        if (bytes.Length - position < 4) return false;
        var abortedCount = BinaryPrimitives.ReadInt32BigEndian(bytes[position..]);
        position += 4;
        if (abortedCount < 0 || (bytes.Length - position) / SnapshotAbortedSize < abortedCount) return false;
        var aborted = new List<AbortedTransaction>(abortedCount);
        for (var i = 0; i < abortedCount; i++)
        {
            aborted.Add(new AbortedTransaction(
                BinaryPrimitives.ReadInt64BigEndian(bytes[position..]),
                BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 8)..]),
                BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 16)..])));
            position += SnapshotAbortedSize;
        }
        if (position != bytes.Length) return false;
        _producers.Clear();
        _ongoing.Clear();
        foreach (var (id, entry) in loaded)
        {
            _producers[id] = entry;
            if (entry.CurrentTxnFirstOffset >= 0) _ongoing.Add((entry.CurrentTxnFirstOffset, id));
        }
        lock (_aborted)
        {
            _aborted.Clear();
            _aborted.AddRange(aborted);
        }
        offset = BinaryPrimitives.ReadInt64BigEndian(bytes[6..]);
        return true;
    }

    /// <summary>The append result for a check that did not accept: the original offsets of a duplicate, or the error.</summary>
    public static AppendResult Outcome(ProducerCheck check, AppendOptions options, long logStartOffset) => check.Status == AppendStatus.Duplicate
        ? new AppendResult(check.Duplicate.FirstOffset, check.Duplicate.LastOffset,
            options.TimestampType == TimestampType.LogAppendTime ? check.Duplicate.Timestamp : -1, logStartOffset, AppendStatus.Duplicate)
        : AppendResult.Rejected(check.Status, check.Message, logStartOffset);

    /// <summary>The last sequence of a batch, wrapping past int.MaxValue to 0 as producers do.</summary>
    public static int LastSequence(int baseSequence, int lastOffsetDelta) =>
        baseSequence > int.MaxValue - lastOffsetDelta ? lastOffsetDelta - (int.MaxValue - baseSequence) - 1 : baseSequence + lastOffsetDelta;

    private static int NextSequence(int last) => last == int.MaxValue ? 0 : last + 1;

    private static bool InSequence(int last, int next) => next == NextSequence(last);

    private static ProducerCheck Reject(AppendStatus status, string message) => new(status, message, default);

    private bool IsExpired(ProducerEntry entry, long nowMs) => entry.CurrentTxnFirstOffset < 0 && nowMs - entry.LastTimestamp >= _expirationMs;

    private void RemoveExpiredIfDue(long nowMs)
    {
        // A full scan at most every tenth of the expiration time (lookups check expiry themselves).
        if (nowMs - _lastExpiryScanMs >= Math.Max(_expirationMs / 10, 1)) RemoveExpired(nowMs);
    }

    private void Record(ReadOnlySpan<byte> batch, long timestampMs)
    {
        var header = new RecordBatchHeader(batch);
        var producerId = header.ProducerId;
        if (producerId < 0) return;
        var epoch = header.ProducerEpoch;
        if (!_producers.TryGetValue(producerId, out var entry))
        {
            entry = new ProducerEntry(producerId, epoch, timestampMs);
            _producers[producerId] = entry;
        }
        // A marker may carry a newer epoch (a fencing abort) but never moves the epoch back.
        if (epoch > entry.Epoch || (epoch != entry.Epoch && !header.IsControl))
        {
            entry.Epoch = epoch;
            entry.Batches.Clear();
        }
        entry.LastTimestamp = Math.Max(entry.LastTimestamp, timestampMs);
        if (header.IsControl)
        {
            // Transaction markers end the producer's open transaction; they carry no sequence.
            if (header.IsTransactional && MarkerType(batch) is { } type) EndTransaction(entry, type, header.BaseOffset);
            return;
        }
        if (header.IsTransactional && entry.CurrentTxnFirstOffset < 0)
        {
            entry.CurrentTxnFirstOffset = header.BaseOffset;
            _ongoing.Add((header.BaseOffset, producerId));
        }
        var first = header.BaseSequence;
        entry.Add(new ProducerBatch(first, LastSequence(first, header.LastOffsetDelta), header.BaseOffset, header.LastOffset, timestampMs));
    }

    private void EndTransaction(ProducerEntry entry, (ControlRecordType Type, int CoordinatorEpoch) marker, long markerOffset)
    {
        entry.CoordinatorEpoch = marker.CoordinatorEpoch;
        if (entry.CurrentTxnFirstOffset < 0) return; // a transaction with no data here leaves nothing to hide
        _ongoing.Remove((entry.CurrentTxnFirstOffset, entry.ProducerId));
        if (marker.Type == ControlRecordType.Abort)
        {
            var aborted = new AbortedTransaction(entry.ProducerId, entry.CurrentTxnFirstOffset, markerOffset);
            lock (_aborted) _aborted.Add(aborted);
        }
        entry.CurrentTxnFirstOffset = -1;
    }

    /// <summary>The type and coordinator epoch of a transaction marker batch, or null when it holds no COMMIT/ABORT record.</summary>
    private static (ControlRecordType Type, int CoordinatorEpoch)? MarkerType(ReadOnlySpan<byte> batch)
    {
        if (batch.Length <= RecordBatchHeader.Size) return null;
        try
        {
            foreach (var record in new RecordWalker(batch))
            {
                var type = ControlRecords.ParseType(record.Key);
                if (type is not (ControlRecordType.Commit or ControlRecordType.Abort)) return null;
                var value = record.HasValue ? RecordValue(batch, record) : default;
                var coordinatorEpoch = value.Length >= ControlRecords.MarkerValueSize ? ControlRecords.ParseCoordinatorEpoch(value) : -1;
                return (type, coordinatorEpoch);
            }
        }
        catch (Exception e) when (e is FormatException or ProtocolException)
        {
            // A marker that does not parse ends nothing.
        }
        return null;
    }

    /// <summary>The value bytes of an uncompressed record: they follow the key inside the record's extent.</summary>
    private static ReadOnlySpan<byte> RecordValue(ReadOnlySpan<byte> batch, RecordView record)
    {
        var rest = batch.Slice(record.Start, record.Size);
        // Skip the length varint, the attributes byte, the timestamp and offset delta varints, the key length varint and the key.
        var position = 0;
        SkipVarint(rest, ref position);
        position++;
        for (var i = 0; i < 3; i++) SkipVarint(rest, ref position);
        position += record.Key.Length;
        var valueLength = ReadVarint(rest, ref position);
        return valueLength < 0 || position + valueLength > rest.Length ? default : rest.Slice(position, valueLength);
    }

    private static void SkipVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        while (position < bytes.Length && (bytes[position++] & 0x80) != 0)
        {
        }
    }

    private static int ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        uint value = 0;
        for (var shift = 0; shift < 35 && position < bytes.Length; shift += 7)
        {
            var b = bytes[position++];
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return (int)(value >> 1) ^ -(int)(value & 1);
        }
        return -1;
    }
}
