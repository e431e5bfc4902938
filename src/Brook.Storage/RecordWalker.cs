using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>One record inside an uncompressed batch; spans point into the batch bytes.</summary>
internal readonly ref struct RecordView
{
    public RecordView(long offset, long timestamp, ReadOnlySpan<byte> key, bool hasKey, bool hasValue, int start, int size)
    {
        Offset = offset;
        Timestamp = timestamp;
        Key = key;
        HasKey = hasKey;
        HasValue = hasValue;
        Start = start;
        Size = size;
    }

    public long Offset { get; }
    public long Timestamp { get; }
    public ReadOnlySpan<byte> Key { get; }
    public bool HasKey { get; }
    /// <summary>False for a tombstone (null value).</summary>
    public bool HasValue { get; }
    /// <summary>Position of the record (its length varint) within the batch.</summary>
    public int Start { get; }
    /// <summary>Bytes of the record including its length varint.</summary>
    public int Size { get; }
}

/// <summary>
/// Walks the records of an uncompressed magic-2 batch. Record layout: length varint, attributes int8,
/// timestampDelta varlong, offsetDelta varint, key (varint length, -1 = null), value (same), headers count varint
/// then per header key (varint length) and value (varint length, -1 = null). Varints are zigzag encoded.
/// Throws <see cref="FormatException"/> on malformed records.
/// </summary>
internal ref struct RecordWalker
{
    private readonly ReadOnlySpan<byte> _batch;
    private readonly long _baseOffset;
    private readonly long _baseTimestamp;
    private readonly int _count;
    private int _position;
    private int _index;

    public RecordWalker(ReadOnlySpan<byte> batch)
    {
        var header = new RecordBatchHeader(batch);
        _batch = batch[..header.TotalSize];
        _baseOffset = header.BaseOffset;
        _baseTimestamp = header.BaseTimestamp;
        _count = header.RecordCount;
        _position = RecordBatchHeader.Size;
        _index = 0;
        Current = default;
    }

    public RecordView Current { get; private set; }

    public readonly RecordWalker GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_index >= _count || _position >= _batch.Length) return false;
        var start = _position;
        var length = ReadVarint(ref _position);
        var bodyStart = _position;
        if (length < 0 || bodyStart + length > _batch.Length) throw new FormatException("Record length exceeds its batch.");
        _position++; // attributes
        var timestampDelta = ReadVarlong(ref _position);
        var offsetDelta = ReadVarint(ref _position);
        var keyLength = ReadVarint(ref _position);
        ReadOnlySpan<byte> key = default;
        if (keyLength >= 0)
        {
            CheckRange(_position, keyLength);
            key = _batch.Slice(_position, keyLength);
            _position += keyLength;
        }
        var valueLength = ReadVarint(ref _position);
        // Headers and value are skipped via the record length.
        _position = bodyStart + length;
        Current = new RecordView(_baseOffset + offsetDelta, _baseTimestamp + timestampDelta, key, keyLength >= 0, valueLength >= 0, start, _position - start);
        _index++;
        return true;
    }

    private readonly void CheckRange(int position, int length)
    {
        if (length < 0 || position + length > _batch.Length) throw new FormatException("Record field exceeds its batch.");
    }

    private readonly int ReadVarint(ref int position) => checked((int)ReadVarlong(ref position));

    private readonly long ReadVarlong(ref int position)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= _batch.Length) throw new FormatException("Truncated varint in record.");
            var b = _batch[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return (long)(value >> 1) ^ -(long)(value & 1);
        }
        throw new FormatException("Varint too long in record.");
    }
}
