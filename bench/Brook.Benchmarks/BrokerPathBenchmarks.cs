using BenchmarkDotNet.Attributes;
using Brook.Broker;
using Brook.Broker.Network;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Benchmarks;

/// <summary>
/// The broker's produce and fetch paths from request frame to encoded response, through the real dispatcher and
/// handlers of an embedded broker on disk: decode, validate every record, append (acks=1; fsync left to the OS so the
/// figure is the broker's own work), read, encode. Two batch sizes show whether allocation grows with the record count
/// (it must not: batches travel as bytes). The iteration setup empties the log and appends one batch, so each
/// fetch reads exactly one batch and disk use stays small. Each iteration runs <see cref="InvocationsPerIteration"/>
/// requests: with one request per iteration (BenchmarkDotNet's default with an iteration setup) the figure was one cold
/// request right after the setup's fsyncs (checkpoint, directory), several times the steady cost.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(InvocationsPerIteration)]
public class BrokerPathBenchmarks
{
    private const string Topic = "bench";
    private const int ValueSize = 100;
    private const int InvocationsPerIteration = 64;

    private readonly ProtocolWriter _output = new(1 << 20);
    private readonly ConnectionInfo _connection = new("bench", null);
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "brook-bdn-" + Guid.NewGuid().ToString("N"));
    private BrookBroker _broker = null!;
    private RequestDispatcher _dispatcher = null!;
    private byte[] _produceFrame = [];
    private byte[] _fetchFrame = [];

    [Params(10, 1000)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _broker = BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            DataDirectory = _dataDirectory,
            Configs = { ["log.flush.interval.messages"] = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        }).GetAwaiter().GetResult();
        _dispatcher = _broker.Services.GetRequiredService<RequestDispatcher>();
        _broker.Store.CreateTopicAsync(Topic, 1, new Dictionary<string, string>()).AsTask().GetAwaiter().GetResult();

        using var batch = new RecordBatchBuilder();
        var value = new byte[ValueSize];
        new Random(3).NextBytes(value);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var i = 0; i < Records; i++) batch.Append(now, null, value);
        var records = batch.ToArray();

        _produceFrame = Frame(ApiKeys.Produce, ProduceRequest.HighestSupportedVersion, new ProduceRequest
        {
            Acks = 1,
            TimeoutMs = 30_000,
            TopicData = [new() { Name = Topic, PartitionData = [new() { Index = 0, Records = records }] }],
        });
        // One batch per fetch: the partition limit is the batch's size, from offset 0 of a log that holds at least one batch.
        _fetchFrame = Frame(ApiKeys.Fetch, 12, new FetchRequest
        {
            ReplicaId = -1,
            MaxWaitMs = 0,
            MinBytes = 1,
            MaxBytes = records.Length,
            SessionEpoch = -1,
            Topics = [new() { Topic = Topic, Partitions = [new() { Partition = 0, FetchOffset = 0, PartitionMaxBytes = records.Length, LogStartOffset = -1, CurrentLeaderEpoch = -1 }] }],
        });
    }

    [IterationSetup]
    public void RefillLog()
    {
        var log = _broker.Store.GetPartition(Topic, 0)!;
        log.DeleteRecordsBeforeAsync(-1).AsTask().GetAwaiter().GetResult();
        Produce();
        RewriteFetchOffset(log.LogStartOffset);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _output.Dispose();
        _broker.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    [Benchmark]
    public int Produce()
    {
        _output.Reset();
        _dispatcher.DispatchAsync(_produceFrame, _connection, _output, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return _output.Length;
    }

    [Benchmark]
    public int Fetch()
    {
        _output.Reset();
        _dispatcher.DispatchAsync(_fetchFrame, _connection, _output, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return _output.Length;
    }

    private void RewriteFetchOffset(long offset)
    {
        var request = new FetchRequest();
        var reader = new ProtocolReader(_fetchFrame);
        new RequestHeader().Read(ref reader, 2);
        request.Read(ref reader, 12);
        request.Topics[0].Partitions[0].FetchOffset = offset;
        _fetchFrame = Frame(ApiKeys.Fetch, 12, request);
    }

    private static byte[] Frame(short apiKey, short version, IApiMessage request)
    {
        using var writer = new ProtocolWriter(1 << 20);
        var headerVersion = ApiCatalog.All.Single(a => a.Key == apiKey).RequestHeaderVersion(version);
        new RequestHeader { ApiKey = apiKey, ApiVersion = version, CorrelationId = 1, ClientId = "bench" }.Write(writer, headerVersion);
        request.Write(writer, version);
        return writer.WrittenSpan.ToArray();
    }
}
