using System.Buffers;
using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests;

public class SplicingWriterTests
{
    [Theory]
    [InlineData((short)4)]
    [InlineData((short)12)]
    [InlineData(FetchResponse.HighestSupportedVersion)]
    public void A_fetch_response_with_spliced_records_copies_out_byte_for_byte_like_a_copying_writer(short version)
    {
        var random = new Random(7);
        byte[] Records(int size)
        {
            var bytes = new byte[size];
            random.NextBytes(bytes);
            return bytes;
        }
        // Large, small (copied), empty and large again: splices sit between ordinary fields.
        var response = new FetchResponse
        {
            Responses =
            [
                new() { Topic = "a", TopicId = KafkaUuid.NewRandom(), Partitions = [new() { PartitionIndex = 0, HighWatermark = 9, Records = Records(10_000) }, new() { PartitionIndex = 1, Records = Records(100) }] },
                new() { Topic = "b", TopicId = KafkaUuid.NewRandom(), Partitions = [new() { PartitionIndex = 0, Records = ReadOnlyMemory<byte>.Empty }, new() { PartitionIndex = 3, HighWatermark = 77, Records = Records(5_000) }] },
            ],
        };

        using var copying = new ProtocolWriter();
        copying.WriteInt32(0);
        response.Write(copying, version);
        copying.PatchInt32(0, copying.Length - 4);

        using var splicing = new ProtocolWriter { SpliceRecordsFrom = 4096 };
        splicing.WriteInt32(0);
        response.Write(splicing, version);
        splicing.PatchInt32(0, splicing.Length - 4);
        splicing.WriteInt32(0); // a field after every splice, patched through its logical position
        splicing.PatchInt32(splicing.Length - 4, 0x01020304);

        Assert.True(splicing.HasSplices);
        Assert.Equal(copying.Length + 4, splicing.Length);
        Assert.True(splicing.WrittenSpan.Length < 1000, "spliced records must not be copied into the writer's buffer");
        var output = new ArrayBufferWriter<byte>();
        splicing.CopyTo(output);
        Assert.Equal([.. copying.WrittenSpan, 1, 2, 3, 4], output.WrittenSpan.ToArray());

        splicing.Reset();
        Assert.False(splicing.HasSplices);
        Assert.Equal(0, splicing.Length);
    }

    [Fact]
    public void Without_a_threshold_records_are_copied()
    {
        using var writer = new ProtocolWriter();
        writer.WriteRecords(new byte[10_000], compact: false, nullable: true);
        Assert.False(writer.HasSplices);
        Assert.Equal(10_004, writer.WrittenSpan.Length);
    }
}
