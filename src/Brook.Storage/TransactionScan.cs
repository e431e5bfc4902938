using Brook.Protocol;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>How a transactional data batch's transaction ended, as far as the log shows.</summary>
internal enum TransactionOutcome
{
    /// <summary>No COMMIT or ABORT marker of its producer follows it yet.</summary>
    Open,
    Committed,
    Aborted,
}

/// <summary>
/// What compaction needs to know about transactions and producers, learnt from the log alone by one scan of its
/// batches in offset order (headers, plus the record of each control batch). A transactional data batch of producer
/// P belongs to the transaction ended by P's next COMMIT or ABORT marker, whatever the epochs. A transaction without
/// a marker yet is open, and nothing from the first offset of an open transaction on may be cleaned: that offset
/// stands in for the last stable offset. Not thread-safe; one cleaning pass owns it.
/// </summary>
internal sealed class TransactionScan
{
    private const int MaxControlBatchBytes = 1 << 20;

    private readonly Dictionary<long, List<(long Offset, bool Commit)>> _markers = [];
    private readonly Dictionary<long, long> _openSince = [];
    private readonly Dictionary<long, (long LastOffset, long MaxTimestamp)> _lastBatch = [];

    /// <summary>First offset of the oldest transaction still open, or <see cref="long.MaxValue"/> when none is.</summary>
    public long FirstUnstableOffset => _openSince.Count == 0 ? long.MaxValue : _openSince.Values.Min();

    /// <summary>
    /// Records one batch. <paramref name="header"/> holds at least the batch header; <paramref name="controlType"/> is the
    /// type of a control batch's record (see <see cref="ReadControlType"/>) and is ignored for data batches.
    /// </summary>
    public void Observe(ReadOnlySpan<byte> header, ControlRecordType controlType)
    {
        var batch = new RecordBatchHeader(header);
        var producerId = batch.ProducerId;
        if (producerId < 0) return;
        _lastBatch[producerId] = (batch.LastOffset, batch.MaxTimestamp);
        if (!batch.IsTransactional) return;
        if (!batch.IsControl)
        {
            _openSince.TryAdd(producerId, batch.BaseOffset);
            return;
        }
        if (controlType is not (ControlRecordType.Commit or ControlRecordType.Abort)) return;
        if (!_markers.TryGetValue(producerId, out var markers)) _markers[producerId] = markers = [];
        markers.Add((batch.BaseOffset, controlType == ControlRecordType.Commit));
        _openSince.Remove(producerId);
    }

    /// <summary>How the transaction holding a transactional data batch of <paramref name="producerId"/> at <paramref name="offset"/> ended.</summary>
    public TransactionOutcome OutcomeOf(long producerId, long offset)
    {
        if (!_markers.TryGetValue(producerId, out var markers)) return TransactionOutcome.Open;
        // The first marker after the batch ends its transaction; markers are in offset order.
        int low = 0, high = markers.Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (markers[mid].Offset > offset) high = mid;
            else low = mid + 1;
        }
        if (low == markers.Count) return TransactionOutcome.Open;
        return markers[low].Commit ? TransactionOutcome.Committed : TransactionOutcome.Aborted;
    }

    /// <summary>
    /// Whether the batch is its producer's newest in the log and the producer is still active (its newest batch's max
    /// timestamp is within <paramref name="expirationMs"/> of now, Kafka's expiry rule). Kafka keeps such a batch, emptied
    /// if need be, so the producer's last sequence and epoch survive cleaning.
    /// </summary>
    public bool IsLastOfActiveProducer(RecordBatchHeader header, long nowMs, long expirationMs) =>
        header.ProducerId >= 0
        && _lastBatch.TryGetValue(header.ProducerId, out var last)
        && last.LastOffset == header.LastOffset
        && nowMs - last.MaxTimestamp < expirationMs;

    /// <summary>The type of a control batch's (first) record; <see cref="ControlRecordType.Unknown"/> when it has none or cannot be read.</summary>
    public static ControlRecordType ReadControlType(ReadOnlyMemory<byte> batch)
    {
        try
        {
            using var records = DecompressedRecords.Create(batch, MaxControlBatchBytes);
            foreach (var record in records.Records)
            {
                return record.KeyIsNull ? ControlRecordType.Unknown : ControlRecords.ParseType(record.Key);
            }
        }
        catch (ProtocolException)
        {
            // A control batch Brook cannot read decides nothing.
        }
        return ControlRecordType.Unknown;
    }
}
