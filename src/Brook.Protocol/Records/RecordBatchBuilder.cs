using System.Text;
using Brook.Protocol.Compression;

namespace Brook.Protocol.Records;

/// <summary>A record header to write: a UTF-8 key and a value that may be null.</summary>
public readonly record struct RecordHeader(string Key, ReadOnlyMemory<byte>? Value)
{
    public RecordHeader(string key, byte[]? value) : this(key, value is null ? null : (ReadOnlyMemory<byte>?)value)
    {
    }
}

/// <summary>The header fields of a batch apart from those derived from its records and bytes.</summary>
internal readonly record struct BatchFields(
    long BaseOffset,
    int PartitionLeaderEpoch,
    short Attributes,
    int LastOffsetDelta,
    long BaseTimestamp,
    long MaxTimestamp,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    int RecordCount);

/// <summary>
/// Builds one record batch (magic 2). Set the batch properties, <see cref="Append(long, byte[], byte[], ReadOnlySpan{RecordHeader})"/>
/// records (offset deltas 0, 1, 2, …; the first record's timestamp becomes the base timestamp), then
/// <see cref="WriteTo"/> or <see cref="ToArray"/>. Reusable after <see cref="Clear"/>; dispose to return pooled buffers.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    public const long NoProducerId = -1;
    public const short NoProducerEpoch = -1;
    public const int NoSequence = -1;
    public const int NoPartitionLeaderEpoch = -1;

    private readonly ProtocolWriter _records = new(1024);
    private long _baseTimestamp = -1;
    private long _maxTimestamp = -1;

    public RecordBatchBuilder(CompressionType compression = CompressionType.None)
    {
        Compression = compression;
    }

    public CompressionType Compression { get; set; }
    public long BaseOffset { get; set; }
    public int PartitionLeaderEpoch { get; set; } = NoPartitionLeaderEpoch;
    public long ProducerId { get; set; } = NoProducerId;
    public short ProducerEpoch { get; set; } = NoProducerEpoch;
    public int BaseSequence { get; set; } = NoSequence;
    public bool IsTransactional { get; set; }
    public bool IsControl { get; set; }
    public TimestampType TimestampType { get; set; }

    public int RecordCount { get; private set; }

    /// <summary>Appends a record; a null key or value is written as null (length -1).</summary>
    public void Append(long timestamp, byte[]? key, byte[]? value, ReadOnlySpan<RecordHeader> headers = default) =>
        Append(timestamp, key is null ? null : (ReadOnlyMemory<byte>?)key, value is null ? null : (ReadOnlyMemory<byte>?)value, headers);

    /// <summary>Appends a record; a null key or value is written as null (length -1).</summary>
    public void Append(long timestamp, ReadOnlyMemory<byte>? key, ReadOnlyMemory<byte>? value, ReadOnlySpan<RecordHeader> headers = default)
    {
        if (RecordCount == 0) _baseTimestamp = timestamp;
        _maxTimestamp = RecordCount == 0 ? timestamp : Math.Max(_maxTimestamp, timestamp);
        var timestampDelta = timestamp - _baseTimestamp;
        var offsetDelta = RecordCount;

        var bodySize = 1 + VarlongSize(timestampDelta) + VarintSize(offsetDelta)
            + SizedBytesSize(key) + SizedBytesSize(value) + VarintSize(headers.Length);
        foreach (var header in headers)
        {
            var keyLength = Encoding.UTF8.GetByteCount(header.Key);
            bodySize += VarintSize(keyLength) + keyLength + SizedBytesSize(header.Value);
        }

        _records.WriteVarint(bodySize);
        _records.WriteInt8(0); // record attributes are unused
        _records.WriteVarlong(timestampDelta);
        _records.WriteVarint(offsetDelta);
        WriteSizedBytes(key);
        WriteSizedBytes(value);
        _records.WriteVarint(headers.Length);
        foreach (var header in headers)
        {
            var keyLength = Encoding.UTF8.GetByteCount(header.Key);
            _records.WriteVarint(keyLength);
            Encoding.UTF8.GetBytes(header.Key, _records.GetSpan(keyLength));
            _records.Advance(keyLength);
            WriteSizedBytes(header.Value);
        }
        RecordCount++;
    }

    /// <summary>Writes the batch to <paramref name="destination"/>. Needs at least one record.</summary>
    public void WriteTo(ProtocolWriter destination)
    {
        if (RecordCount == 0) throw new InvalidOperationException("A record batch needs at least one record.");
        if (!CompressionCodecs.IsSupported(Compression)) throw new NotSupportedException($"Compression codec {(int)Compression} is not supported.");
        var attributes = (int)Compression
            | (TimestampType == TimestampType.LogAppendTime ? RecordBatchAttributes.LogAppendTimeFlag : 0)
            | (IsTransactional ? RecordBatchAttributes.TransactionalFlag : 0)
            | (IsControl ? RecordBatchAttributes.ControlFlag : 0);
        var fields = new BatchFields(BaseOffset, PartitionLeaderEpoch, (short)attributes, RecordCount - 1,
            _baseTimestamp, _maxTimestamp, ProducerId, ProducerEpoch, BaseSequence, RecordCount);
        RecordBatchWriter.Write(destination, fields, _records.WrittenSpan, Compression);
    }

    public byte[] ToArray()
    {
        using var writer = new ProtocolWriter(RecordBatchHeader.Size + _records.Length);
        WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Forgets the records appended so far; the batch properties stay.</summary>
    public void Clear()
    {
        _records.Reset();
        RecordCount = 0;
        _baseTimestamp = -1;
        _maxTimestamp = -1;
    }

    public void Dispose() => _records.Dispose();

    private void WriteSizedBytes(ReadOnlyMemory<byte>? bytes)
    {
        if (bytes is not { } value)
        {
            _records.WriteVarint(-1);
            return;
        }
        _records.WriteVarint(value.Length);
        _records.WriteRaw(value.Span);
    }

    private static int SizedBytesSize(ReadOnlyMemory<byte>? bytes) => bytes is { } value ? VarintSize(value.Length) + value.Length : 1;

    internal static int VarintSize(int value) => UVarlongSize((uint)((value << 1) ^ (value >> 31)));

    internal static int VarlongSize(long value) => UVarlongSize((ulong)((value << 1) ^ (value >> 63)));

    private static int UVarlongSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }
}

/// <summary>Attribute bits of a magic-2 batch (int16 at offset 21).</summary>
public static class RecordBatchAttributes
{
    public const int CompressionMask = 0x07;
    public const int LogAppendTimeFlag = 0x08;
    public const int TransactionalFlag = 0x10;
    public const int ControlFlag = 0x20;
    public const int DeleteHorizonFlag = 0x40;
}

/// <summary>Lays out a batch around an uncompressed record section: header, (compressed) records, length and CRC.</summary>
internal static class RecordBatchWriter
{
    public static void Write(ProtocolWriter destination, in BatchFields fields, ReadOnlySpan<byte> uncompressedRecords, CompressionType compression)
    {
        var start = destination.Length;
        destination.WriteInt64(fields.BaseOffset);
        destination.WriteInt32(0); // batch length, patched below
        destination.WriteInt32(fields.PartitionLeaderEpoch);
        destination.WriteInt8(RecordBatch.CurrentMagic);
        destination.WriteUInt32(0); // CRC, patched below
        destination.WriteInt16((short)((fields.Attributes & ~RecordBatchAttributes.CompressionMask) | (int)compression));
        destination.WriteInt32(fields.LastOffsetDelta);
        destination.WriteInt64(fields.BaseTimestamp);
        destination.WriteInt64(fields.MaxTimestamp);
        destination.WriteInt64(fields.ProducerId);
        destination.WriteInt16(fields.ProducerEpoch);
        destination.WriteInt32(fields.BaseSequence);
        destination.WriteInt32(fields.RecordCount);
        CompressionCodecs.Compress(compression, uncompressedRecords, destination);
        destination.PatchInt32(start + RecordBatchHeader.LengthPosition, destination.Length - start - RecordBatchHeader.LogOverhead);
        var crc = Crc32C.Compute(destination.WrittenSpan[(start + RecordBatchHeader.AttributesPosition)..]);
        destination.PatchInt32(start + RecordBatchHeader.CrcPosition, unchecked((int)crc));
    }

    public static BatchFields FieldsOf(RecordBatchHeader header) => new(
        header.BaseOffset, header.PartitionLeaderEpoch, header.Attributes, header.LastOffsetDelta,
        header.BaseTimestamp, header.MaxTimestamp, header.ProducerId, header.ProducerEpoch, header.BaseSequence, header.RecordCount);
}
