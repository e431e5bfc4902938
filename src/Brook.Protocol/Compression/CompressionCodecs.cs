using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Brook.Protocol.Records;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using Snappier;
using ZstdSharp;

namespace Brook.Protocol.Compression;

/// <summary>Why a bounded decompression stopped.</summary>
internal enum DecompressionStatus
{
    Ok,
    Corrupt,
    TooLarge,
    Unsupported,
}

/// <summary>
/// Compression of record batch bodies in the forms Kafka clients use: gzip, snappy (xerial framing when
/// writing, both xerial and raw when reading), the LZ4 frame format and zstd. Decompression is always
/// bounded by a caller-given maximum output size, so a small hostile payload cannot expand without limit.
/// </summary>
public static class CompressionCodecs
{
    /// <summary>The eight-byte magic that opens the xerial snappy-java stream format.</summary>
    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0x00];

    private const int XerialHeaderSize = 16; // magic + version int32 + compatible version int32
    private const int XerialVersion = 1;
    private const int XerialBlockSize = 32 * 1024; // snappy-java's default block size
    private const int ReadChunk = 16 * 1024;
    private const int ZstdDefaultLevel = 3;
    private const int GzipTrailerSize = 8; // CRC32 + ISIZE

    // Independent 64 KiB blocks without checksums: what Kafka's Java LZ4 stream writes and accepts.
    private static readonly LZ4EncoderSettings Lz4Settings = new()
    {
        ChainBlocks = false,
        BlockSize = 64 * 1024,
        ContentChecksum = false,
        BlockChecksum = false,
        CompressionLevel = LZ4Level.L00_FAST,
    };

    [ThreadStatic]
    private static Compressor? _zstdCompressor;

    /// <summary>Whether this codec is one Brook can read and write (codec ids 0 to 4).</summary>
    public static bool IsSupported(CompressionType type) => type <= CompressionType.Zstd;

    /// <summary>Compresses <paramref name="source"/> with <paramref name="type"/> and appends the result to <paramref name="destination"/>.</summary>
    public static void Compress(CompressionType type, ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        switch (type)
        {
            case CompressionType.None:
                source.CopyTo(destination.GetSpan(source.Length));
                destination.Advance(source.Length);
                break;
            case CompressionType.Gzip:
                using (var gzip = new GZipStream(new BufferWriterStream(destination), CompressionLevel.Fastest, leaveOpen: false))
                {
                    gzip.Write(source);
                }
                break;
            case CompressionType.Snappy:
                CompressXerialSnappy(source, destination);
                break;
            case CompressionType.Lz4:
                LZ4Frame.Encode(source, destination, Lz4Settings);
                break;
            case CompressionType.Zstd:
                var compressor = _zstdCompressor ??= new Compressor(ZstdDefaultLevel);
                var bound = Compressor.GetCompressBound(source.Length);
                var written = compressor.Wrap(source, destination.GetSpan(bound));
                destination.Advance(written);
                break;
            default:
                throw new NotSupportedException($"Compression codec {(int)type} is not supported.");
        }
    }

    public static byte[] Compress(CompressionType type, ReadOnlySpan<byte> source)
    {
        using var buffer = new PooledBuffer(Math.Max(64, source.Length / 2));
        Compress(type, source, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decompresses into a pooled buffer the caller disposes. Throws <see cref="ProtocolException"/> when the data
    /// is not valid for the codec, the codec is unknown, or the output would exceed <paramref name="maxOutputBytes"/>.
    /// </summary>
    public static PooledBuffer Decompress(CompressionType type, ReadOnlyMemory<byte> source, int maxOutputBytes)
    {
        var output = new PooledBuffer(InitialCapacity(source.Length, maxOutputBytes));
        try
        {
            Decompress(type, source, output, maxOutputBytes);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decompresses, appending to <paramref name="destination"/>; returns the number of bytes appended. On a
    /// <see cref="ProtocolException"/> the destination may hold partial output.
    /// </summary>
    public static int Decompress(CompressionType type, ReadOnlyMemory<byte> source, PooledBuffer destination, int maxOutputBytes)
    {
        var before = destination.Length;
        var status = TryDecompress(type, source, destination, maxOutputBytes, out var detail);
        return status switch
        {
            DecompressionStatus.Ok => destination.Length - before,
            DecompressionStatus.TooLarge => throw new ProtocolException($"Decompressed {type} data exceeds the limit of {maxOutputBytes} bytes."),
            DecompressionStatus.Unsupported => throw new ProtocolException($"Compression codec {(int)type} is not supported."),
            _ => throw new ProtocolException($"Compressed {type} data is corrupt: {detail}"),
        };
    }

    internal static int InitialCapacity(int compressedLength, int maxOutputBytes) =>
        (int)Math.Clamp(compressedLength * 4L, 256, Math.Max(256, Math.Min(maxOutputBytes, 1 << 20)));

    /// <summary>Decompresses without throwing on bad input; on failure the destination holds partial output.</summary>
    internal static DecompressionStatus TryDecompress(CompressionType type, ReadOnlyMemory<byte> source, PooledBuffer destination, int maxOutputBytes, out string? detail)
    {
        detail = null;
        var limit = destination.Length + (long)maxOutputBytes;
        try
        {
            switch (type)
            {
                case CompressionType.None:
                    if (source.Length > maxOutputBytes) return DecompressionStatus.TooLarge;
                    source.Span.CopyTo(destination.GetSpan(source.Length));
                    destination.Advance(source.Length);
                    return DecompressionStatus.Ok;
                case CompressionType.Gzip:
                    return DecompressGzip(source, destination, limit, out detail);
                case CompressionType.Snappy:
                    return DecompressSnappy(source.Span, destination, limit, out detail);
                case CompressionType.Lz4:
                    using (var lz4 = LZ4Frame.Decode(source, 0))
                    {
                        while (true)
                        {
                            var span = BoundedSpan(destination, limit);
                            var read = lz4.ReadManyBytes(span, interactive: true);
                            if (read <= 0) return DecompressionStatus.Ok;
                            destination.Advance(read);
                            if (destination.Length > limit) return DecompressionStatus.TooLarge;
                        }
                    }
                case CompressionType.Zstd:
                    using (var zstd = new DecompressionStream(OpenRead(source)))
                    {
                        return ReadBounded(zstd, destination, limit);
                    }
                default:
                    return DecompressionStatus.Unsupported;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The codec libraries report malformed input with assorted exception types.
            detail = ex.Message;
            return DecompressionStatus.Corrupt;
        }
    }

    /// <summary>A span to read into that is never larger than one byte past the limit, so overflow is seen without reading far beyond it.</summary>
    private static Span<byte> BoundedSpan(PooledBuffer destination, long limit)
    {
        var allowed = (int)Math.Min(ReadChunk, limit - destination.Length + 1);
        return destination.GetSpan(allowed)[..allowed];
    }

    private static DecompressionStatus ReadBounded(Stream stream, PooledBuffer destination, long limit)
    {
        while (true)
        {
            var read = stream.Read(BoundedSpan(destination, limit));
            if (read == 0) return DecompressionStatus.Ok;
            destination.Advance(read);
            if (destination.Length > limit) return DecompressionStatus.TooLarge;
        }
    }

    private static DecompressionStatus DecompressGzip(ReadOnlyMemory<byte> source, PooledBuffer destination, long limit, out string? detail)
    {
        detail = null;
        // GZipStream writes nothing at all for empty input.
        if (source.IsEmpty) return DecompressionStatus.Ok;
        var start = destination.Length;
        using (var gzip = new GZipStream(OpenRead(source), CompressionMode.Decompress))
        {
            var status = ReadBounded(gzip, destination, limit);
            if (status != DecompressionStatus.Ok) return status;
        }
        // GZipStream ends quietly on a truncated stream, so the trailer's ISIZE (output length mod 2^32) is checked.
        // Kafka clients write a single gzip member, whose trailer closes the data.
        if (source.Length < GzipTrailerSize
            || BinaryPrimitives.ReadUInt32LittleEndian(source.Span[^4..]) != (uint)(destination.Length - start))
        {
            detail = "gzip data is truncated or its trailer does not match the output";
            return DecompressionStatus.Corrupt;
        }
        return DecompressionStatus.Ok;
    }

    private static MemoryStream OpenRead(ReadOnlyMemory<byte> source) =>
        MemoryMarshal.TryGetArray(source, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(source.ToArray(), writable: false);

    private static void CompressXerialSnappy(ReadOnlySpan<byte> source, IBufferWriter<byte> destination)
    {
        var header = destination.GetSpan(XerialHeaderSize);
        XerialMagic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header[8..], XerialVersion);
        BinaryPrimitives.WriteInt32BigEndian(header[12..], XerialVersion);
        destination.Advance(XerialHeaderSize);
        while (!source.IsEmpty)
        {
            var block = source[..Math.Min(XerialBlockSize, source.Length)];
            source = source[block.Length..];
            var span = destination.GetSpan(4 + Snappy.GetMaxCompressedLength(block.Length));
            var written = Snappy.Compress(block, span[4..]);
            BinaryPrimitives.WriteInt32BigEndian(span, written);
            destination.Advance(4 + written);
        }
    }

    private static DecompressionStatus DecompressSnappy(ReadOnlySpan<byte> source, PooledBuffer destination, long limit, out string? detail)
    {
        detail = null;
        if (!source.StartsWith(XerialMagic) || source.Length < XerialHeaderSize)
            return DecompressSnappyBlock(source, destination, limit);
        var rest = source[XerialHeaderSize..];
        while (!rest.IsEmpty)
        {
            if (rest.Length < 4)
            {
                detail = "xerial block length is truncated";
                return DecompressionStatus.Corrupt;
            }
            var blockLength = BinaryPrimitives.ReadInt32BigEndian(rest);
            rest = rest[4..];
            if (blockLength < 0 || blockLength > rest.Length)
            {
                detail = $"xerial block length {blockLength} with {rest.Length} bytes left";
                return DecompressionStatus.Corrupt;
            }
            var status = DecompressSnappyBlock(rest[..blockLength], destination, limit);
            if (status != DecompressionStatus.Ok) return status;
            rest = rest[blockLength..];
        }
        return DecompressionStatus.Ok;
    }

    private static DecompressionStatus DecompressSnappyBlock(ReadOnlySpan<byte> block, PooledBuffer destination, long limit)
    {
        // A raw snappy block starts with its uncompressed length, so the limit is checked before any output is made.
        var length = Snappy.GetUncompressedLength(block);
        if (destination.Length + (long)length > limit) return DecompressionStatus.TooLarge;
        var written = Snappy.Decompress(block, destination.GetSpan(length)[..length]);
        destination.Advance(written);
        return DecompressionStatus.Ok;
    }
}
