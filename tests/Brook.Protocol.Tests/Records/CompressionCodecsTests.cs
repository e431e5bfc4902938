using System.Buffers.Binary;
using Brook.Protocol.Compression;
using Brook.Protocol.Records;
using Snappier;

namespace Brook.Protocol.Tests.Records;

public class CompressionCodecsTests
{
    public static TheoryData<CompressionType> Codecs => new()
    {
        CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd,
    };

    public static TheoryData<CompressionType> RealCodecs => new()
    {
        CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd,
    };

    /// <summary>Half text-like repetition, half noise, so codecs both shrink and copy literals.</summary>
    private static byte[] SampleData(int size, int seed = 7)
    {
        var data = new byte[size];
        var random = new Random(seed);
        for (var i = 0; i < size; i++) data[i] = i % 1024 < 512 ? (byte)('a' + i % 13) : (byte)random.Next(256);
        return data;
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void Compressed_data_decompresses_to_the_original(CompressionType codec)
    {
        // 200 KB spans several snappy (32 KiB) and LZ4 (64 KiB) blocks.
        foreach (var size in new[] { 0, 1, 1000, 200_000 })
        {
            var original = SampleData(size);
            var compressed = CompressionCodecs.Compress(codec, original);
            using var decompressed = CompressionCodecs.Decompress(codec, compressed, maxOutputBytes: size);
            Assert.Equal(original, decompressed.WrittenSpan.ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void Decompression_beyond_the_limit_is_refused(CompressionType codec)
    {
        var zeros = new byte[1_000_000];
        var compressed = CompressionCodecs.Compress(codec, zeros);
        Assert.True(compressed.Length < 100_000);
        var error = Assert.Throws<ProtocolException>(() => CompressionCodecs.Decompress(codec, compressed, maxOutputBytes: 999_999));
        Assert.Contains("limit", error.Message);
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void Garbage_input_is_a_protocol_error(CompressionType codec)
    {
        var garbage = SampleData(300, seed: 3);
        garbage[0] = 0xFF;
        Assert.Throws<ProtocolException>(() => CompressionCodecs.Decompress(codec, garbage, maxOutputBytes: 1 << 20));
    }

    [Theory]
    [MemberData(nameof(RealCodecs))]
    public void Truncated_input_is_a_protocol_error(CompressionType codec)
    {
        var compressed = CompressionCodecs.Compress(codec, SampleData(50_000));
        var truncated = compressed.AsMemory(0, compressed.Length / 2);
        Assert.Throws<ProtocolException>(() => CompressionCodecs.Decompress(codec, truncated, maxOutputBytes: 1 << 20));
    }

    [Fact]
    public void Unknown_codec_is_a_protocol_error()
    {
        Assert.False(CompressionCodecs.IsSupported((CompressionType)5));
        Assert.Throws<ProtocolException>(() => CompressionCodecs.Decompress((CompressionType)5, new byte[10], 100));
    }

    [Theory]
    [InlineData(CompressionType.Gzip, new byte[] { 0x1F, 0x8B })]
    [InlineData(CompressionType.Lz4, new byte[] { 0x04, 0x22, 0x4D, 0x18 })]
    [InlineData(CompressionType.Zstd, new byte[] { 0x28, 0xB5, 0x2F, 0xFD })]
    [InlineData(CompressionType.Snappy, new byte[] { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 })]
    public void Output_starts_with_the_format_magic_clients_expect(CompressionType codec, byte[] magic)
    {
        var compressed = CompressionCodecs.Compress(codec, SampleData(100));
        Assert.Equal(magic, compressed.AsSpan(0, magic.Length).ToArray());
    }

    [Fact]
    public void Lz4_frames_use_independent_blocks_as_Kafka_requires()
    {
        var compressed = CompressionCodecs.Compress(CompressionType.Lz4, SampleData(100));
        var flags = compressed[4];
        Assert.Equal(0b01, flags >> 6); // frame version 01
        Assert.NotEqual(0, flags & 0x20); // block independence
    }

    [Fact]
    public void Xerial_framed_snappy_with_several_blocks_decodes()
    {
        var first = SampleData(40_000, seed: 1);
        var second = SampleData(10_000, seed: 2);
        // Framing written out by hand: magic, version 1, compatible version 1, then length-prefixed raw blocks.
        var framed = new List<byte> { 0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 };
        foreach (var block in new[] { first, second })
        {
            var raw = Snappy.CompressToArray(block);
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, raw.Length);
            framed.AddRange(length);
            framed.AddRange(raw);
        }
        using var decompressed = CompressionCodecs.Decompress(CompressionType.Snappy, framed.ToArray(), 1 << 20);
        Assert.Equal(first.Concat(second).ToArray(), decompressed.WrittenSpan.ToArray());
    }

    [Fact]
    public void Raw_snappy_without_framing_decodes()
    {
        var original = SampleData(5000);
        var raw = Snappy.CompressToArray(original);
        using var decompressed = CompressionCodecs.Decompress(CompressionType.Snappy, raw, 1 << 20);
        Assert.Equal(original, decompressed.WrittenSpan.ToArray());
    }

    [Fact]
    public void Xerial_block_length_beyond_the_data_is_a_protocol_error()
    {
        var framed = CompressionCodecs.Compress(CompressionType.Snappy, SampleData(1000));
        BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(16), framed.Length);
        Assert.Throws<ProtocolException>(() => CompressionCodecs.Decompress(CompressionType.Snappy, framed, 1 << 20));
    }

    [Fact]
    public void Snappy_limit_is_checked_from_the_declared_length_before_decoding()
    {
        var raw = Snappy.CompressToArray(new byte[10_000]);
        Assert.Throws<ProtocolException>(() => CompressionCodecs.Decompress(CompressionType.Snappy, raw, 9_999));
    }
}
