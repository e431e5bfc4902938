using System.Buffers.Binary;
using System.Text;

namespace Brook.Protocol;

/// <summary>
/// Reads protocol primitives from one contiguous buffer. Every read is bounds-checked and every length read
/// from the wire is checked against the bytes that remain before anything is allocated, so hostile input
/// ends in a <see cref="ProtocolException"/> and never in an allocation sized by an untrusted number.
/// Records and raw slices are returned as views of the buffer, not copies.
/// </summary>
public struct ProtocolReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlyMemory<byte> _buffer;
    private int _position;

    public ProtocolReader(ReadOnlyMemory<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly bool End => _position >= _buffer.Length;

    private ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _position))
            throw new ProtocolException($"Message truncated: needed {count} bytes at offset {_position}, {_buffer.Length - _position} left.");
        var span = _buffer.Span.Slice(_position, count);
        _position += count;
        return span;
    }

    public bool ReadBool() => Take(1)[0] != 0;

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    public KafkaUuid ReadUuid() => KafkaUuid.FromBytes(Take(16));

    public uint ReadUVarint()
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            var b = Take(1)[0];
            if (shift == 28 && b > 0x0F) throw new ProtocolException("Unsigned varint is longer than 32 bits.");
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new ProtocolException("Unsigned varint is longer than 5 bytes.");
    }

    public ulong ReadUVarlong()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = Take(1)[0];
            if (shift == 63 && b > 0x01) throw new ProtocolException("Unsigned varlong is longer than 64 bits.");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new ProtocolException("Unsigned varlong is longer than 10 bytes.");
    }

    public int ReadVarint()
    {
        var raw = ReadUVarint();
        return (int)(raw >> 1) ^ -(int)(raw & 1);
    }

    public long ReadVarlong()
    {
        var raw = ReadUVarlong();
        return (long)(raw >> 1) ^ -(long)(raw & 1);
    }

    /// <summary>Reads a length: compact (unsigned varint, length+1, 0 = null) or classic (int16/int32, -1 = null).</summary>
    private int ReadLength(bool compact, bool wide, bool nullable, string what)
    {
        int length;
        if (compact)
        {
            var raw = ReadUVarint();
            if (raw > int.MaxValue) throw new ProtocolException($"{what} length {raw} is out of range.");
            length = (int)raw - 1;
        }
        else
        {
            length = wide ? ReadInt32() : ReadInt16();
        }
        if (length < -1) throw new ProtocolException($"{what} length {length} is negative.");
        if (length == -1 && !nullable) throw new ProtocolException($"{what} is null where this version does not allow null.");
        if (length > Remaining) throw new ProtocolException($"{what} length {length} exceeds the {Remaining} bytes left.");
        return length;
    }

    public string? ReadString(bool compact, bool nullable)
    {
        var length = ReadLength(compact, wide: false, nullable, "String");
        if (length < 0) return null;
        if (length == 0) return string.Empty;
        try
        {
            return StrictUtf8.GetString(Take(length));
        }
        catch (DecoderFallbackException ex)
        {
            throw new ProtocolException("String is not valid UTF-8.", ex);
        }
    }

    public byte[]? ReadBytes(bool compact, bool nullable)
    {
        var length = ReadLength(compact, wide: true, nullable, "Bytes");
        if (length < 0) return null;
        return length == 0 ? [] : Take(length).ToArray();
    }

    /// <summary>Reads a records field as a view of the buffer (no copy).</summary>
    public ReadOnlyMemory<byte>? ReadRecords(bool compact, bool nullable)
    {
        var length = ReadLength(compact, wide: true, nullable, "Records");
        if (length < 0) return null;
        var slice = _buffer.Slice(_position, length);
        _position += length;
        return slice;
    }

    /// <summary>Reads an array length; -1 means null. Each element takes at least one byte, so a count above the bytes left is rejected.</summary>
    public int ReadArrayLength(bool compact, bool nullable) => ReadLength(compact, wide: true, nullable, "Array");

    public int ReadTaggedFieldCount()
    {
        var count = ReadUVarint();
        if (count > (uint)Remaining) throw new ProtocolException($"Tagged field count {count} exceeds the {Remaining} bytes left.");
        return (int)count;
    }

    public int ReadTaggedFieldSize()
    {
        var size = ReadUVarint();
        if (size > (uint)Remaining) throw new ProtocolException($"Tagged field size {size} exceeds the {Remaining} bytes left.");
        return (int)size;
    }

    /// <summary>A reader over the next <paramref name="size"/> bytes; this reader moves past them.</summary>
    public ProtocolReader ReadSubReader(int size)
    {
        if ((uint)size > (uint)Remaining) throw new ProtocolException($"Section of {size} bytes exceeds the {Remaining} bytes left.");
        var sub = new ProtocolReader(_buffer.Slice(_position, size));
        _position += size;
        return sub;
    }

    public byte[] ReadRawBytes(int size) => Take(size).ToArray();

    /// <summary>A view of the next <paramref name="size"/> bytes; this reader moves past them.</summary>
    public ReadOnlyMemory<byte> ReadRawMemory(int size)
    {
        if ((uint)size > (uint)Remaining) throw new ProtocolException($"Section of {size} bytes exceeds the {Remaining} bytes left.");
        var slice = _buffer.Slice(_position, size);
        _position += size;
        return slice;
    }

    /// <summary>The bytes not read yet, as a view.</summary>
    public readonly ReadOnlyMemory<byte> RemainingMemory => _buffer[_position..];
}
