using System.Buffers.Binary;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>What an append did to a run of batches after offsets were assigned.</summary>
internal readonly record struct AppendedBatches(long BaseOffset, long LastOffset, int BatchCount, long MaxTimestamp, long OffsetOfMaxTimestamp);

/// <summary>Header fields of one stored batch, enough to index and search without re-reading it.</summary>
internal readonly record struct BatchInfo(long BaseOffset, long LastOffset, long MaxTimestamp, int Size, short Attributes)
{
    public bool IsCompressed => (Attributes & 0x07) != 0;
    public bool IsLogAppendTime => (Attributes & 0x08) != 0;
}

/// <summary>Operations on runs of magic-2 record batches held as bytes; records themselves stay opaque.</summary>
internal static class BatchOps
{
    private const short LogAppendTimeFlag = 0x08;

    /// <summary>
    /// Size of the whole batch starting at <paramref name="bytes"/>, or -1 when the bytes do not hold a complete,
    /// plausible batch header and body (torn write or garbage).
    /// </summary>
    public static int CompleteBatchSize(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < RecordBatchHeader.Size) return -1;
        var length = BinaryPrimitives.ReadInt32BigEndian(bytes[RecordBatchHeader.LengthPosition..]);
        if (length < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead) return -1;
        var total = (long)length + RecordBatchHeader.LogOverhead;
        if (total > bytes.Length) return -1;
        if ((sbyte)bytes[RecordBatchHeader.MagicPosition] != 2) return -1;
        return (int)total;
    }

    public static BatchInfo ReadInfo(ReadOnlySpan<byte> batch)
    {
        var header = new RecordBatchHeader(batch);
        return new BatchInfo(header.BaseOffset, header.LastOffset, header.MaxTimestamp, header.TotalSize, header.Attributes);
    }

    /// <summary>
    /// Assigns offsets from <paramref name="nextOffset"/> by patching base offsets in place; with LogAppendTime also
    /// patches max timestamp, the timestamp-type attribute bit and the CRC. Sets the leader epoch when non-negative.
    /// Throws <see cref="ArgumentException"/> when the bytes are not a whole number of batches.
    /// </summary>
    public static AppendedBatches AssignOffsets(Span<byte> batches, long nextOffset, AppendOptions options)
    {
        if (batches.IsEmpty) throw new ArgumentException("No record batches to append.", nameof(batches));
        var baseOffset = nextOffset;
        var position = 0;
        var count = 0;
        var maxTimestamp = -1L;
        var offsetOfMax = -1L;
        while (position < batches.Length)
        {
            var batch = batches[position..];
            var size = CompleteBatchSize(batch);
            if (size < 0) throw new ArgumentException($"Malformed record batch at byte {position}.", nameof(batches));
            batch = batch[..size];
            var lastDelta = BinaryPrimitives.ReadInt32BigEndian(batch[RecordBatchHeader.LastOffsetDeltaPosition..]);
            if (lastDelta < 0) throw new ArgumentException($"Negative last offset delta at byte {position}.", nameof(batches));
            RecordBatchHeader.SetBaseOffset(batch, nextOffset);
            if (options.LeaderEpoch >= 0) RecordBatchHeader.SetPartitionLeaderEpoch(batch, options.LeaderEpoch);
            if (options.TimestampType == TimestampType.LogAppendTime)
            {
                var attributes = BinaryPrimitives.ReadInt16BigEndian(batch[RecordBatchHeader.AttributesPosition..]);
                BinaryPrimitives.WriteInt16BigEndian(batch[RecordBatchHeader.AttributesPosition..], (short)(attributes | LogAppendTimeFlag));
                BinaryPrimitives.WriteInt64BigEndian(batch[RecordBatchHeader.MaxTimestampPosition..], options.LogAppendTime);
                RecordBatchHeader.UpdateCrc(batch);
            }
            var batchMax = BinaryPrimitives.ReadInt64BigEndian(batch[RecordBatchHeader.MaxTimestampPosition..]);
            if (batchMax > maxTimestamp)
            {
                maxTimestamp = batchMax;
                offsetOfMax = nextOffset + lastDelta;
            }
            nextOffset += lastDelta + 1L;
            position += size;
            count++;
        }
        return new AppendedBatches(baseOffset, nextOffset - 1, count, maxTimestamp, offsetOfMax);
    }

    /// <summary>
    /// The first record in the batch with timestamp at or after <paramref name="timestamp"/>. Uncompressed
    /// CreateTime batches are searched record by record; for others (records not readable without
    /// decompression, or all stamped with the append time) the batch's base offset and max timestamp stand in.
    /// </summary>
    public static TimestampOffset? FindInBatch(ReadOnlySpan<byte> batch, long timestamp)
    {
        var info = ReadInfo(batch);
        if (info.MaxTimestamp < timestamp) return null;
        if (!info.IsCompressed && !info.IsLogAppendTime)
        {
            foreach (var record in new RecordWalker(batch))
            {
                if (record.Timestamp >= timestamp) return new TimestampOffset(record.Timestamp, record.Offset);
            }
        }
        return new TimestampOffset(info.MaxTimestamp, info.BaseOffset);
    }

    /// <summary>The record carrying the batch's max timestamp (exact for uncompressed CreateTime batches, else the last offset).</summary>
    public static TimestampOffset MaxInBatch(ReadOnlySpan<byte> batch)
    {
        var info = ReadInfo(batch);
        if (!info.IsCompressed && !info.IsLogAppendTime)
        {
            foreach (var record in new RecordWalker(batch))
            {
                if (record.Timestamp == info.MaxTimestamp) return new TimestampOffset(record.Timestamp, record.Offset);
            }
        }
        return new TimestampOffset(info.MaxTimestamp, info.IsLogAppendTime ? info.BaseOffset : info.LastOffset);
    }
}
