using BenchmarkDotNet.Attributes;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Benchmarks;

/// <summary>
/// Encoding a fetch response carrying 1 MiB of records spread over four partitions of two topics.
/// "Reused" writes into a writer kept across calls (the steady state of a connection); "Fresh" pays
/// for renting and growing a pooled buffer each time.
/// </summary>
[MemoryDiagnoser]
public class FetchEncodeBenchmarks
{
    private const int PayloadSize = 1 << 20;
    private const int Partitions = 4;

    private readonly ProtocolWriter _writer = new(PayloadSize + 4096);
    private FetchResponse _response = new();

    [Params((short)12, FetchResponse.HighestSupportedVersion)]
    public short Version { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(2);
        FetchResponse.PartitionData Partition(int index)
        {
            var records = new byte[PayloadSize / Partitions];
            random.NextBytes(records);
            return new() { PartitionIndex = index, HighWatermark = 1_000_000, LastStableOffset = 1_000_000, LogStartOffset = 0, Records = records };
        }
        _response = new FetchResponse
        {
            Responses =
            [
                new() { Topic = "orders", TopicId = KafkaUuid.NewRandom(), Partitions = [Partition(0), Partition(1)] },
                new() { Topic = "payments", TopicId = KafkaUuid.NewRandom(), Partitions = [Partition(0), Partition(1)] },
            ],
        };
    }

    [GlobalCleanup]
    public void Cleanup() => _writer.Dispose();

    [Benchmark(Baseline = true)]
    public int EncodeFetchResponseReused()
    {
        _writer.Reset();
        _response.Write(_writer, Version);
        return _writer.Length;
    }

    [Benchmark]
    public int EncodeFetchResponseFresh()
    {
        using var writer = new ProtocolWriter();
        _response.Write(writer, Version);
        return writer.Length;
    }
}
