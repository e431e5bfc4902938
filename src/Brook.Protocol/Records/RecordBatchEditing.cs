using System.Buffers.Binary;

namespace Brook.Protocol.Records;

/// <summary>In-place changes the broker makes to a stored batch's header fields that the CRC covers.</summary>
public static class RecordBatchEditing
{
    /// <summary>
    /// Sets the timestamp type bit and the max timestamp, then re-signs the batch; with log-append time this is
    /// how the broker stamps a batch on append without touching its records. The span holds the whole batch.
    /// </summary>
    public static void SetMaxTimestamp(Span<byte> batch, TimestampType type, long maxTimestamp)
    {
        var attributes = BinaryPrimitives.ReadInt16BigEndian(batch[RecordBatchHeader.AttributesPosition..]);
        attributes = type == TimestampType.LogAppendTime
            ? (short)(attributes | RecordBatchAttributes.LogAppendTimeFlag)
            : (short)(attributes & ~RecordBatchAttributes.LogAppendTimeFlag);
        BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchHeader.AttributesPosition..], attributes);
        BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchHeader.MaxTimestampPosition..], maxTimestamp);
        RecordBatchHeader.UpdateCrc(batch);
    }
}
