using BenchmarkDotNet.Attributes;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Benchmarks;

/// <summary>
/// Decoding a produce request carrying 1 MiB of records. The records field is a view of the request buffer,
/// so the allocation should be the message objects only, independent of the payload size.
/// </summary>
[MemoryDiagnoser]
public class ProduceDecodeBenchmarks
{
    private const int PayloadSize = 1 << 20;

    private byte[] _encoded = [];

    [Params((short)9, ProduceRequest.HighestSupportedVersion)]
    public short Version { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var records = new byte[PayloadSize];
        new Random(1).NextBytes(records);
        var request = new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 30_000,
            TopicData = [new() { Name = "benchmark-topic", PartitionData = [new() { Index = 0, Records = records }] }],
        };
        using var writer = new ProtocolWriter(PayloadSize + 1024);
        request.Write(writer, Version);
        _encoded = writer.WrittenSpan.ToArray();
    }

    [Benchmark]
    public int DecodeProduceRequest()
    {
        var reader = new ProtocolReader(_encoded);
        var request = new ProduceRequest();
        request.Read(ref reader, Version);
        return request.TopicData[0].PartitionData[0].Records!.Value.Length;
    }
}
