using System.Runtime.InteropServices;
using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests.Messages;

/// <summary>Records are the bulk of produce and fetch traffic; decoding must not copy them.</summary>
public class RecordsViewTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(9)]
    [InlineData(11)]
    public void Produce_records_are_a_view_of_the_request_buffer(short version)
    {
        var payload = new byte[1 << 20];
        new Random(5).NextBytes(payload);
        var request = new ProduceRequest { Acks = 1, TopicData = [new() { Name = "t", PartitionData = [new() { Index = 0, Records = payload }] }] };
        var encoded = MessageCases.Encode(request, version);

        var decoded = new ProduceRequest();
        var reader = new ProtocolReader(encoded);
        // Warm-up decode so JIT work does not count below.
        new ProduceRequest().Read(ref reader, version);
        reader = new ProtocolReader(encoded);
        var before = GC.GetAllocatedBytesForCurrentThread();
        decoded.Read(ref reader, version);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var records = decoded.TopicData[0].PartitionData[0].Records!.Value;
        Assert.True(MemoryMarshal.TryGetArray(records, out var segment));
        Assert.Same(encoded, segment.Array);
        Assert.True(records.Span.SequenceEqual(payload));
        Assert.True(allocated < 16 * 1024, $"decoding allocated {allocated} bytes for a 1 MiB payload");
    }

    [Fact]
    public void Fetch_response_records_are_a_view_of_the_response_buffer()
    {
        const short version = 16;
        var response = new FetchResponse
        {
            Responses = [new() { TopicId = KafkaUuid.NewRandom(), Partitions = [new() { PartitionIndex = 1, Records = new byte[] { 1, 2, 3, 4 } }] }],
        };
        var encoded = MessageCases.Encode(response, version);
        var decoded = new FetchResponse();
        var reader = new ProtocolReader(encoded);
        decoded.Read(ref reader, version);

        var records = decoded.Responses[0].Partitions[0].Records!.Value;
        Assert.True(MemoryMarshal.TryGetArray(records, out var segment));
        Assert.Same(encoded, segment.Array);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, records.ToArray());
    }
}
