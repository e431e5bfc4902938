using System.Text;
using Brook.Protocol.Compression;
using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

/// <summary>Data compressed by the gzip, lz4 and zstd command-line tools (see Fixtures/compression/README.md).</summary>
public class ReferenceToolFixtureTests
{
    private static byte[] ExpectedLines()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 3000; i++) text.Append($"record {i}: value {i * i % 9973}\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    [Theory]
    [InlineData(CompressionType.Gzip, "lines.gz")]
    [InlineData(CompressionType.Lz4, "lines.lz4")]
    [InlineData(CompressionType.Zstd, "lines.zst")]
    public void Data_from_the_reference_tools_decodes(CompressionType codec, string file)
    {
        var compressed = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "compression", file));
        var expected = ExpectedLines();
        Assert.Equal(70_539, expected.Length);
        using var decompressed = CompressionCodecs.Decompress(codec, compressed, expected.Length);
        Assert.Equal(expected, decompressed.WrittenSpan.ToArray());
    }
}
