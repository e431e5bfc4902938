using System.Buffers.Binary;
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
/// </summary>
internal sealed class ProducerStateManager
{
    public const int RetainedBatches = 5;
    public static readonly TimeSpan DefaultExpiration = TimeSpan.FromDays(1);
    private const short SnapshotVersion = 1;
    private const int SnapshotHeaderSize = 2 + 4 + 8 + 4; // version, crc, offset, count
    private const int SnapshotEntryHeaderSize = 8 + 2 + 8 + 1;
    private const int SnapshotBatchSize = 4 + 4 + 8 + 8 + 8;

    private readonly Dictionary<long, ProducerEntry> _producers = [];
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
            position += header.TotalSize;
            Record(header, nowMs);
        }
    }

    /// <summary>Replays one batch header read from the log (rebuilding state on open).</summary>
    public void Replay(ReadOnlySpan<byte> header, long timestampMs) => Record(new RecordBatchHeader(header), timestampMs);

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
    /// epoch int16, last timestamp int64, batch count int8, and per batch first/last sequence int32, first/last
    /// offset int64, timestamp int64.
    /// </summary>
    public byte[] ToSnapshot(long offset)
    {
        var size = SnapshotHeaderSize + _producers.Values.Sum(e => SnapshotEntryHeaderSize + e.Batches.Count * SnapshotBatchSize);
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
            span[position + 18] = (byte)entry.Batches.Count;
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
                BinaryPrimitives.ReadInt64BigEndian(bytes[(position + 10)..]));
            var batches = bytes[position + 18];
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
        if (position != bytes.Length) return false;
        _producers.Clear();
        foreach (var (id, entry) in loaded) _producers[id] = entry;
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

    private bool IsExpired(ProducerEntry entry, long nowMs) => nowMs - entry.LastTimestamp >= _expirationMs;

    private void RemoveExpiredIfDue(long nowMs)
    {
        // A full scan at most every tenth of the expiration time (lookups check expiry themselves).
        if (nowMs - _lastExpiryScanMs >= Math.Max(_expirationMs / 10, 1)) RemoveExpired(nowMs);
    }

    private void Record(RecordBatchHeader header, long timestampMs)
    {
        var producerId = header.ProducerId;
        if (producerId < 0) return;
        var epoch = header.ProducerEpoch;
        if (!_producers.TryGetValue(producerId, out var entry))
        {
            entry = new ProducerEntry(producerId, epoch, timestampMs);
            _producers[producerId] = entry;
        }
        if (epoch != entry.Epoch)
        {
            entry.Epoch = epoch;
            entry.Batches.Clear();
        }
        entry.LastTimestamp = Math.Max(entry.LastTimestamp, timestampMs);
        // Transaction markers move the epoch but carry no sequence.
        if (header.IsControl) return;
        var first = header.BaseSequence;
        entry.Add(new ProducerBatch(first, LastSequence(first, header.LastOffsetDelta), header.BaseOffset, header.LastOffset, timestampMs));
    }
}
