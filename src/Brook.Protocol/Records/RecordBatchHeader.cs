using System.Buffers.Binary;

namespace Brook.Protocol.Records;

/// <summary>
/// A view of the 61-byte header of a record batch (magic 2) over its bytes; nothing is copied.
/// Layout (big-endian): baseOffset int64 @0, batchLength int32 @8 (bytes after this field),
/// partitionLeaderEpoch int32 @12, magic int8 @16, crc uint32 @17 (CRC-32C of bytes 21..end),
/// attributes int16 @21, lastOffsetDelta int32 @23, baseTimestamp int64 @27, maxTimestamp int64 @35,
/// producerId int64 @43, producerEpoch int16 @51, baseSequence int32 @53, recordCount int32 @57, records @61.
/// Base offset and leader epoch sit outside the CRC, so the broker patches them in place.
/// </summary>
public readonly ref struct RecordBatchHeader
{
    public const int Size = 61;
    public const int LogOverhead = 12; // baseOffset + batchLength
    public const int BaseOffsetPosition = 0;
    public const int LengthPosition = 8;
    public const int PartitionLeaderEpochPosition = 12;
    public const int MagicPosition = 16;
    public const int CrcPosition = 17;
    public const int AttributesPosition = 21;
    public const int LastOffsetDeltaPosition = 23;
    public const int BaseTimestampPosition = 27;
    public const int MaxTimestampPosition = 35;
    public const int ProducerIdPosition = 43;
    public const int ProducerEpochPosition = 51;
    public const int BaseSequencePosition = 53;
    public const int RecordCountPosition = 57;

    private readonly ReadOnlySpan<byte> _bytes;

    /// <param name="bytes">At least <see cref="Size"/> bytes starting at the batch.</param>
    public RecordBatchHeader(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size) throw new ProtocolException($"Record batch header needs {Size} bytes, got {bytes.Length}.");
        _bytes = bytes;
    }

    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(_bytes);
    public int BatchLength => BinaryPrimitives.ReadInt32BigEndian(_bytes[LengthPosition..]);
    /// <summary>Bytes of the whole batch including the offset and length fields.</summary>
    public int TotalSize => BatchLength + LogOverhead;
    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(_bytes[PartitionLeaderEpochPosition..]);
    public sbyte Magic => (sbyte)_bytes[MagicPosition];
    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(_bytes[CrcPosition..]);
    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(_bytes[AttributesPosition..]);
    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(_bytes[LastOffsetDeltaPosition..]);
    public long LastOffset => BaseOffset + LastOffsetDelta;
    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(_bytes[BaseTimestampPosition..]);
    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(_bytes[MaxTimestampPosition..]);
    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(_bytes[ProducerIdPosition..]);
    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(_bytes[ProducerEpochPosition..]);
    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(_bytes[BaseSequencePosition..]);
    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(_bytes[RecordCountPosition..]);

    public CompressionType Compression => (CompressionType)(Attributes & 0x07);
    public TimestampType TimestampType => (Attributes & 0x08) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;
    public bool IsTransactional => (Attributes & 0x10) != 0;
    public bool IsControl => (Attributes & 0x20) != 0;
    public bool HasDeleteHorizon => (Attributes & 0x40) != 0;

    /// <summary>Whether the stored CRC matches bytes 21..TotalSize; the span must hold the whole batch.</summary>
    public bool IsCrcValid => TotalSize <= _bytes.Length && Crc32C.Compute(_bytes[AttributesPosition..TotalSize]) == Crc;

    public static void SetBaseOffset(Span<byte> batch, long baseOffset) => BinaryPrimitives.WriteInt64BigEndian(batch, baseOffset);

    public static void SetPartitionLeaderEpoch(Span<byte> batch, int epoch) => BinaryPrimitives.WriteInt32BigEndian(batch[PartitionLeaderEpochPosition..], epoch);

    /// <summary>Recomputes and stores the CRC after bytes covered by it were changed; the span holds the whole batch.</summary>
    public static void UpdateCrc(Span<byte> batch)
    {
        var total = BinaryPrimitives.ReadInt32BigEndian(batch[LengthPosition..]) + LogOverhead;
        BinaryPrimitives.WriteUInt32BigEndian(batch[CrcPosition..], Crc32C.Compute(batch[AttributesPosition..total]));
    }
}

public enum CompressionType : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

public enum TimestampType : byte
{
    CreateTime = 0,
    LogAppendTime = 1,
}
