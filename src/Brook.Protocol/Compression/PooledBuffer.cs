using System.Buffers;

namespace Brook.Protocol.Compression;

/// <summary>
/// A growable byte buffer rented from <see cref="ArrayPool{T}"/>, written through <see cref="IBufferWriter{T}"/>
/// and owned through <see cref="IMemoryOwner{T}"/>: <see cref="Memory"/> is the written part.
/// Dispose returns the array; the memory must not be used afterwards.
/// </summary>
public sealed class PooledBuffer : IBufferWriter<byte>, IMemoryOwner<byte>
{
    private byte[] _buffer;
    private int _length;

    public PooledBuffer(int initialCapacity = 4096)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 16));
    }

    public int Length => _length;

    /// <summary>The written bytes.</summary>
    public Memory<byte> Memory => _buffer.AsMemory(0, _length);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _length);

    public void Reset() => _length = 0;

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _length)) throw new ArgumentOutOfRangeException(nameof(count));
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _length < needed) Grow(needed);
        return _buffer.AsMemory(_length);
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    private void Grow(int needed)
    {
        var size = (int)Math.Min(Array.MaxLength, Math.Max((long)_buffer.Length * 2, (long)_length + needed));
        if (size - _length < needed) throw new InvalidOperationException("Buffer cannot grow any further.");
        var next = ArrayPool<byte>.Shared.Rent(size);
        _buffer.AsSpan(0, _length).CopyTo(next);
        ReturnArray();
        _buffer = next;
    }

    private void ReturnArray()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    public void Dispose()
    {
        ReturnArray();
        _length = 0;
    }
}
