using Brook.Protocol;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>What a cleaning pass does with one batch.</summary>
internal enum BatchVerdict
{
    /// <summary>The batch stays byte for byte.</summary>
    Keep,
    /// <summary>The batch is replaced by the one written to the output.</summary>
    Rewritten,
    /// <summary>The batch goes.</summary>
    Remove,
}

/// <summary>
/// The rules of one compaction pass over the cleanable part of a log (from the log start up to a point below the first
/// open transaction), shared by the disk and in-memory stores. First every cleanable batch goes through
/// <see cref="AddToOffsetMap"/> (latest offset of each key, skipping control batches and aborted transactions), then
/// every batch, in offset order, through <see cref="Filter"/>.
/// <list type="bullet">
/// <item>A record survives when no later record in the cleaned range has its key; records without a key are kept.
/// Compressed batches are decompressed and written again with the same codec.</item>
/// <item>Tombstones and transaction markers follow KIP-534: the first pass that keeps a tombstone (or finds a marker whose
/// transaction has no data left) writes the batch again with the delete-horizon attribute bit set and the base
/// timestamp set to now + delete.retention.ms (record timestamp deltas adjusted, so record timestamps stay); a later
/// pass past that horizon drops them.</item>
/// <item>Batches of aborted transactions are dropped whatever their keys. A COMMIT or ABORT marker stays while any data
/// of its transaction stays, and then until its horizon has passed.</item>
/// <item>A rewritten batch keeps its base offset and last offset delta (offsets never move, the producer's last
/// sequence stays valid). A batch left without records goes, except the newest batch of an active producer, which is
/// kept as an empty batch (its newest marker is kept whole), as Kafka does.</item>
/// </list>
/// Not thread-safe; one cleaning owns it and disposes it.
/// </summary>
internal sealed class CompactionPass : IDisposable
{
    /// <summary>Largest record section decompressed; a batch beyond it (or corrupt) is left as it is and not used in the offset map.</summary>
    private const int MaxDecompressedBytes = 256 << 20;

    private readonly Dictionary<byte[], long> _latest = new(ByteArrayComparer.Instance);
    private readonly HashSet<long> _transactionsWithData = [];
    private readonly List<bool> _kept = [];
    private readonly ProtocolWriter _records = new(4096);
    private readonly TransactionScan _transactions;
    private readonly long _nowMs;
    private readonly long _deleteRetentionMs;
    private readonly long _producerExpirationMs;

    public CompactionPass(TransactionScan transactions, long nowMs, long deleteRetentionMs, long producerExpirationMs)
    {
        _transactions = transactions;
        _nowMs = nowMs;
        _deleteRetentionMs = deleteRetentionMs;
        _producerExpirationMs = producerExpirationMs;
    }

    /// <summary>
    /// The earliest delete horizon among the tombstones and markers kept only until their horizon passes, or
    /// <see cref="long.MaxValue"/> when none is; the log is due for cleaning again once it passes.
    /// </summary>
    public long EarliestDeleteHorizon { get; private set; } = long.MaxValue;

    public void Dispose() => _records.Dispose();

    public void AddToOffsetMap(ReadOnlyMemory<byte> batch)
    {
        var header = new RecordBatchHeader(batch.Span);
        if (header.IsControl || IsAborted(header)) return;
        var baseOffset = header.BaseOffset;
        var lookup = _latest.GetAlternateLookup<ReadOnlySpan<byte>>();
        try
        {
            using var records = DecompressedRecords.Create(batch, MaxDecompressedBytes);
            foreach (var record in records.Records)
            {
                if (!record.KeyIsNull) lookup[record.Key] = record.Offset(baseOffset);
            }
        }
        catch (ProtocolException)
        {
            // Filter keeps an unreadable batch whole, so leaving it out of the map loses nothing.
        }
    }

    /// <summary>Decides the batch's fate; for <see cref="BatchVerdict.Rewritten"/> the new batch is appended to <paramref name="output"/>.</summary>
    public BatchVerdict Filter(ReadOnlyMemory<byte> batch, ProtocolWriter output)
    {
        try
        {
            return new RecordBatchHeader(batch.Span).IsControl ? FilterControl(batch, output) : FilterData(batch, output);
        }
        catch (ProtocolException)
        {
            return BatchVerdict.Keep;
        }
    }

    private BatchVerdict FilterControl(ReadOnlyMemory<byte> batch, ProtocolWriter output)
    {
        var header = new RecordBatchHeader(batch.Span);
        if (!header.IsTransactional || header.ProducerId < 0) return BatchVerdict.Keep;
        var type = TransactionScan.ReadControlType(batch);
        if (type is not (ControlRecordType.Commit or ControlRecordType.Abort)) return BatchVerdict.Keep;
        var dataRemains = _transactionsWithData.Remove(header.ProducerId);
        if (dataRemains || _transactions.IsLastOfActiveProducer(header, _nowMs, _producerExpirationMs)) return BatchVerdict.Keep;
        if (header.HasDeleteHorizon)
        {
            if (_nowMs >= header.BaseTimestamp) return BatchVerdict.Remove;
            NoteHorizon(header.BaseTimestamp);
            return BatchVerdict.Keep;
        }
        // The transaction has no data left: the marker starts its delete.retention.ms now.
        var horizon = HorizonFromNow();
        NoteHorizon(horizon);
        using var records = DecompressedRecords.Create(batch, MaxDecompressedBytes);
        _records.Reset();
        var count = 0;
        foreach (var record in records.Records)
        {
            RecordBatchRewriter.WriteRecord(_records, record, header.BaseTimestamp + record.TimestampDelta - horizon);
            count++;
        }
        RecordBatchRewriter.WriteBatch(output, batch.Span, (short)(header.Attributes | RecordBatchAttributes.DeleteHorizonFlag), horizon, header.MaxTimestamp, count, _records.WrittenSpan);
        return BatchVerdict.Rewritten;
    }

    private BatchVerdict FilterData(ReadOnlyMemory<byte> batch, ProtocolWriter output)
    {
        var header = new RecordBatchHeader(batch.Span);
        var producerId = header.ProducerId;
        var keepEmpty = _transactions.IsLastOfActiveProducer(header, _nowMs, _producerExpirationMs);
        if (header.IsTransactional && producerId >= 0)
        {
            var outcome = _transactions.OutcomeOf(producerId, header.BaseOffset);
            if (outcome == TransactionOutcome.Open) return BatchVerdict.Keep; // not decided: never cleaned, but be safe
            if (outcome == TransactionOutcome.Aborted) return Emptied(batch, output, keepEmpty);
        }
        if (header.RecordCount == 0) return keepEmpty ? BatchVerdict.Keep : BatchVerdict.Remove;

        using var records = DecompressedRecords.Create(batch, MaxDecompressedBytes);
        var baseOffset = header.BaseOffset;
        var baseTimestamp = header.BaseTimestamp;
        var horizonPassed = header.HasDeleteHorizon && _nowMs >= baseTimestamp;
        var lookup = _latest.GetAlternateLookup<ReadOnlySpan<byte>>();
        _kept.Clear();
        var keptCount = 0;
        var keptTombstone = false;
        foreach (var record in records.Records)
        {
            var keep = true;
            if (!record.KeyIsNull)
            {
                var isLatest = !lookup.TryGetValue(record.Key, out var latest) || record.Offset(baseOffset) >= latest;
                keep = isLatest && (!record.ValueIsNull || !horizonPassed);
                keptTombstone |= keep && record.ValueIsNull;
            }
            _kept.Add(keep);
            if (keep) keptCount++;
        }

        var needsHorizon = keptTombstone && !header.HasDeleteHorizon;
        var newBaseTimestamp = needsHorizon ? HorizonFromNow() : baseTimestamp;
        if (keptTombstone) NoteHorizon(newBaseTimestamp);
        if (header.IsTransactional && keptCount > 0) _transactionsWithData.Add(producerId);
        if (keptCount == _kept.Count && !needsHorizon) return BatchVerdict.Keep;
        if (keptCount == 0) return Emptied(batch, output, keepEmpty);

        _records.Reset();
        var maxTimestamp = long.MinValue;
        var index = 0;
        foreach (var record in records.Records)
        {
            if (!_kept[index++]) continue;
            var timestamp = record.Timestamp(baseTimestamp);
            maxTimestamp = Math.Max(maxTimestamp, timestamp);
            RecordBatchRewriter.WriteRecord(_records, record, timestamp - newBaseTimestamp);
        }
        // With log-append time the batch's max timestamp is the append time; otherwise it follows the kept records.
        if (header.TimestampType == TimestampType.LogAppendTime) maxTimestamp = header.MaxTimestamp;
        var attributes = needsHorizon ? (short)(header.Attributes | RecordBatchAttributes.DeleteHorizonFlag) : header.Attributes;
        RecordBatchRewriter.WriteBatch(output, batch.Span, attributes, newBaseTimestamp, maxTimestamp, keptCount, _records.WrittenSpan);
        return BatchVerdict.Rewritten;
    }

    /// <summary>A batch none of whose records stay: gone, or kept as an empty batch for its producer's sake.</summary>
    private static BatchVerdict Emptied(ReadOnlyMemory<byte> batch, ProtocolWriter output, bool keepEmpty)
    {
        if (!keepEmpty) return BatchVerdict.Remove;
        var header = new RecordBatchHeader(batch.Span);
        if (header.RecordCount == 0) return BatchVerdict.Keep;
        RecordBatchRewriter.WriteBatch(output, batch.Span, header.Attributes, header.BaseTimestamp, header.MaxTimestamp, 0, []);
        return BatchVerdict.Rewritten;
    }

    private bool IsAborted(RecordBatchHeader header) =>
        header.IsTransactional && header.ProducerId >= 0 && _transactions.OutcomeOf(header.ProducerId, header.BaseOffset) == TransactionOutcome.Aborted;

    private long HorizonFromNow() => _deleteRetentionMs > long.MaxValue - _nowMs ? long.MaxValue : _nowMs + _deleteRetentionMs;

    private void NoteHorizon(long horizon) => EarliestDeleteHorizon = Math.Min(EarliestDeleteHorizon, horizon);

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
