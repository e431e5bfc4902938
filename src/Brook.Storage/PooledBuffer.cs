namespace Brook.Storage;

/// <summary>A <see cref="LargeBuffers"/> rental returned on dispose; disposing twice is harmless.</summary>
internal sealed class PooledBuffer : IDisposable
{
    private byte[]? _array;

    public PooledBuffer(int minimumLength)
    {
        _array = LargeBuffers.Rent(Math.Max(minimumLength, 1));
    }

    public byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PooledBuffer));

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null) LargeBuffers.Return(array);
    }
}
