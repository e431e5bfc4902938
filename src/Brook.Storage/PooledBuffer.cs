using System.Buffers;

namespace Brook.Storage;

/// <summary>An <see cref="ArrayPool{T}"/> rental returned on dispose; disposing twice is harmless.</summary>
internal sealed class PooledBuffer : IDisposable
{
    private byte[]? _array;

    public PooledBuffer(int minimumLength)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(minimumLength, 1));
    }

    public byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledBuffer));

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null) ArrayPool<byte>.Shared.Return(array);
    }
}
