namespace Brook.Protocol.Records;

/// <summary>Bounds-checked reads of record fields (zigzag varints, raw slices) from a span; bad input ends in <see cref="ProtocolException"/>.</summary>
internal ref struct SpanReader(ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private int _position;

    public readonly int Position => _position;

    public readonly int Remaining => _bytes.Length - _position;

    public readonly bool End => _position >= _bytes.Length;

    public ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_bytes.Length - _position))
            throw new ProtocolException($"Record data truncated: needed {count} bytes at offset {_position}, {_bytes.Length - _position} left.");
        var span = _bytes.Slice(_position, count);
        _position += count;
        return span;
    }

    public byte ReadByte()
    {
        if (_position >= _bytes.Length) throw new ProtocolException($"Record data truncated at offset {_position}.");
        return _bytes[_position++];
    }

    public int ReadVarint()
    {
        // Most record fields (attributes, deltas, lengths under 64) fit in one byte, most others in two.
        var bytes = _bytes;
        var position = _position;
        if ((uint)position < (uint)bytes.Length)
        {
            uint first = bytes[position];
            if (first < 0x80)
            {
                _position = position + 1;
                return (int)(first >> 1) ^ -(int)(first & 1);
            }
            if ((uint)(position + 1) < (uint)bytes.Length && bytes[position + 1] is var second && second < 0x80)
            {
                var twoBytes = (first & 0x7F) | ((uint)second << 7);
                _position = position + 2;
                return (int)(twoBytes >> 1) ^ -(int)(twoBytes & 1);
            }
        }
        return ReadLongVarint();
    }

    private int ReadLongVarint()
    {
        uint raw = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = ReadByte();
            if (shift == 28 && b > 0x0F) throw new ProtocolException("Varint is longer than 32 bits.");
            raw |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return (int)(raw >> 1) ^ -(int)(raw & 1);
        }
        throw new ProtocolException("Varint is longer than 5 bytes.");
    }

    public long ReadVarlong()
    {
        var bytes = _bytes;
        var position = _position;
        if ((uint)position < (uint)bytes.Length && bytes[position] is var first && first < 0x80)
        {
            _position = position + 1;
            return (long)(first >> 1) ^ -(long)(first & 1);
        }
        return ReadLongVarlong();
    }

    private long ReadLongVarlong()
    {
        ulong raw = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = ReadByte();
            if (shift == 63 && b > 0x01) throw new ProtocolException("Varlong is longer than 64 bits.");
            raw |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return (long)(raw >> 1) ^ -(long)(raw & 1);
        }
        throw new ProtocolException("Varlong is longer than 10 bytes.");
    }

    /// <summary>A varint length followed by that many bytes; -1 means null when <paramref name="nullable"/>.</summary>
    public ReadOnlySpan<byte> ReadSizedBytes(bool nullable, string what, out bool isNull)
    {
        var length = ReadVarint();
        if (length == -1 && nullable)
        {
            isNull = true;
            return default;
        }
        if (length < 0) throw new ProtocolException($"{what} length {length} is negative.");
        isNull = false;
        return Take(length);
    }
}
