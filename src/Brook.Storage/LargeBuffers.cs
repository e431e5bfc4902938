using System.Buffers;

namespace Brook.Storage;

/// <summary>
/// Pooled byte arrays for transient buffers that may be large (request frames, fetched batches). Below
/// <see cref="LargeFrom"/> they come from <see cref="ArrayPool{T}.Shared"/>; larger ones from a pool of Brook's own that
/// <see cref="Trim"/> can let go of. The shared pool keeps what it holds for a minute or more after use and trims only on
/// a gen-2 collection, so after a burst of load an idle broker kept tens of megabytes of large arrays.
/// </summary>
public static class LargeBuffers
{
    /// <summary>Arrays at least this long come from the trimmable pool.</summary>
    public const int LargeFrom = 64 * 1024;

    private const int MaxPooledLength = 64 * 1024 * 1024;
    private const int ArraysPerSize = 16;

    private static ArrayPool<byte> _large = NewPool();

    public static byte[] Rent(int minimumLength) =>
        minimumLength < LargeFrom ? ArrayPool<byte>.Shared.Rent(minimumLength) : Volatile.Read(ref _large).Rent(minimumLength);

    public static void Return(byte[] array)
    {
        if (array.Length < LargeFrom) ArrayPool<byte>.Shared.Return(array);
        else Volatile.Read(ref _large).Return(array);
    }

    /// <summary>Drops the large arrays the pool holds (for the GC to reclaim); arrays out on loan return to a fresh pool.</summary>
    public static void Trim() => Volatile.Write(ref _large, NewPool());

    private static ArrayPool<byte> NewPool() => ArrayPool<byte>.Create(MaxPooledLength, ArraysPerSize);
}
