using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Brook.Protocol;

/// <summary>
/// Writes protocol primitives into a growable buffer rented from <see cref="ArrayPool{T}"/>. Dispose returns
/// the buffer. Not thread-safe: one writer per message being encoded.
/// With <see cref="SpliceRecordsFrom"/> set, large records fields are not copied: the writer keeps a reference to
/// the caller's memory at its place in the message, and <see cref="CopyTo"/> emits the buffer and the referenced
/// memory in order. <see cref="WrittenSpan"/> and <see cref="WrittenMemory"/> hold only the buffer, so a splicing
/// writer is read with <see cref="CopyTo"/>.
/// </summary>
public sealed class ProtocolWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _length;
    private List<(int Position, ReadOnlyMemory<byte> Bytes)>? _splices; // Position: offset in _buffer the bytes follow
    private int _splicedLength;

    public ProtocolWriter(int initialCapacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
    }

    /// <summary>Bytes of the message so far, spliced records included.</summary>
    public int Length => _length + _splicedLength;

    /// <summary>
    /// Records fields of at least this many bytes are referenced instead of copied (0, the default, copies everything).
    /// The referenced memory must stay unchanged until the writer is reset or its content copied out.
    /// </summary>
    public int SpliceRecordsFrom { get; set; }

    /// <summary>Whether some records are referenced rather than in the buffer.</summary>
    public bool HasSplices => _splices is { Count: > 0 };

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _length);

    public void Reset()
    {
        _length = 0;
        _splicedLength = 0;
        _splices?.Clear();
    }

    /// <summary>Writes the whole message (buffer parts and spliced records in order) to <paramref name="destination"/>.</summary>
    public void CopyTo(IBufferWriter<byte> destination)
    {
        var from = 0;
        if (_splices is not null)
        {
            foreach (var (position, bytes) in _splices)
            {
                destination.Write(_buffer.AsSpan(from, position - from));
                destination.Write(bytes.Span);
                from = position;
            }
        }
        destination.Write(_buffer.AsSpan(from, _length - from));
    }

    public void Dispose()
    {
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        _splices = null;
        _splicedLength = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    private Span<byte> Reserve(int count)
    {
        if (_buffer.Length - _length < count) Grow(count);
        var span = _buffer.AsSpan(_length, count);
        _length += count;
        return span;
    }

    private void Grow(int needed)
    {
        var size = Math.Max(_buffer.Length * 2, _length + needed);
        var next = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(next);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = next;
    }

    // IBufferWriter<byte>, so codecs and compressors can write straight into the message.
    public void Advance(int count) => _length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        if (_buffer.Length - _length < Math.Max(sizeHint, 1)) Grow(Math.Max(sizeHint, 256));
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void WriteBool(bool value) => Reserve(1)[0] = value ? (byte)1 : (byte)0;

    public void WriteInt8(sbyte value) => Reserve(1)[0] = (byte)value;

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16BigEndian(Reserve(2), value);

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Reserve(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Reserve(4), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Reserve(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Reserve(8), value);

    public void WriteFloat64(double value) => BinaryPrimitives.WriteDoubleBigEndian(Reserve(8), value);

    public void WriteUuid(KafkaUuid value) => value.WriteTo(Reserve(16));

    public void WriteUVarint(uint value)
    {
        while (value >= 0x80)
        {
            Reserve(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }
        Reserve(1)[0] = (byte)value;
    }

    public void WriteUVarlong(ulong value)
    {
        while (value >= 0x80)
        {
            Reserve(1)[0] = (byte)(value | 0x80);
            value >>= 7;
        }
        Reserve(1)[0] = (byte)value;
    }

    public void WriteVarint(int value) => WriteUVarint((uint)((value << 1) ^ (value >> 31)));

    public void WriteVarlong(long value) => WriteUVarlong((ulong)((value << 1) ^ (value >> 63)));

    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Reserve(bytes.Length));

    /// <summary>Overwrites four bytes already written, for length prefixes known only after the body.</summary>
    public void PatchInt32(int position, int value)
    {
        // A position counts spliced bytes before it; the buffer does not hold them.
        var physical = position;
        if (_splices is not null)
        {
            var shift = 0;
            foreach (var (at, bytes) in _splices)
            {
                if (position < at + shift + bytes.Length) break;
                physical -= bytes.Length;
                shift += bytes.Length;
            }
        }
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(physical, 4), value);
    }

    private void WriteLength(int length, bool compact, bool wide)
    {
        if (compact) WriteUVarint((uint)(length + 1));
        else if (wide) WriteInt32(length);
        else WriteInt16(checked((short)length));
    }

    /// <summary>Writes a string; null where the version allows no null is written as empty.</summary>
    public void WriteString(string? value, bool compact, bool nullable)
    {
        if (value is null)
        {
            WriteLength(nullable ? -1 : 0, compact, wide: false);
            return;
        }
        var byteCount = Encoding.UTF8.GetByteCount(value);
        if (!compact && byteCount > short.MaxValue) throw new InvalidOperationException("String longer than 32767 bytes.");
        WriteLength(byteCount, compact, wide: false);
        Encoding.UTF8.GetBytes(value, Reserve(byteCount));
    }

    public void WriteBytes(byte[]? value, bool compact, bool nullable)
    {
        if (value is null)
        {
            WriteLength(nullable ? -1 : 0, compact, wide: true);
            return;
        }
        WriteLength(value.Length, compact, wide: true);
        WriteRaw(value);
    }

    public void WriteRecords(ReadOnlyMemory<byte>? value, bool compact, bool nullable)
    {
        if (value is not { } records)
        {
            WriteLength(nullable ? -1 : 0, compact, wide: true);
            return;
        }
        WriteLength(records.Length, compact, wide: true);
        if (SpliceRecordsFrom > 0 && records.Length >= SpliceRecordsFrom)
        {
            (_splices ??= []).Add((_length, records));
            _splicedLength += records.Length;
            return;
        }
        WriteRaw(records.Span);
    }

    /// <summary>Writes an array length; -1 (null) where the version allows no null is written as empty.</summary>
    public void WriteArrayLength(int count, bool compact, bool nullable) =>
        WriteLength(count < 0 && !nullable ? 0 : count, compact, wide: true);

    public void WriteRawTaggedField(RawTaggedField field)
    {
        WriteUVarint((uint)field.Tag);
        WriteUVarint((uint)field.Data.Length);
        WriteRaw(field.Data);
    }

    [ThreadStatic]
    private static Stack<ProtocolWriter>? _scratchPool;

    /// <summary>A cleared writer for encoding a tagged field before its size is known; give it back with <see cref="ReturnScratch"/>.</summary>
    public static ProtocolWriter RentScratch()
    {
        var stack = _scratchPool ??= new Stack<ProtocolWriter>();
        if (stack.TryPop(out var writer))
        {
            writer.Reset();
            return writer;
        }
        return new ProtocolWriter(64);
    }

    public static void ReturnScratch(ProtocolWriter writer)
    {
        var stack = _scratchPool ??= new Stack<ProtocolWriter>();
        if (stack.Count < 8 && writer._buffer.Length <= 64 * 1024) stack.Push(writer);
        else writer.Dispose();
    }
}
