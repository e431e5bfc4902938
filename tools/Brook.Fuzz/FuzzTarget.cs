using Brook.Broker;
using Brook.Broker.Network;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Fuzz;

/// <summary>
/// The broker's request path in process: an embedded in-memory broker's real <see cref="RequestDispatcher"/> (decode,
/// handler, encode), fed frames directly, plus well-formed canary requests that prove it still serves after bad input.
/// </summary>
public sealed class FuzzTarget : IAsyncDisposable
{
    private const string CanaryTopic = "canary";
    private readonly BrookBroker _broker;
    private readonly RequestDispatcher _dispatcher;
    private readonly ConnectionInfo _connection = new("fuzz", new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1));
    private int _canaries;

    private FuzzTarget(BrookBroker broker)
    {
        _broker = broker;
        _dispatcher = broker.Services.GetRequiredService<RequestDispatcher>();
    }

    /// <summary>Every API the broker serves, with its version range.</summary>
    public IReadOnlyList<(short Key, short MinVersion, short MaxVersion)> Apis =>
        _dispatcher.Handlers.Select(h => (h.ApiKey, h.MinVersion, h.MaxVersion)).ToList();

    /// <summary>Starts an in-memory broker with the canary topic and <paramref name="topics"/> (names the seeds use).</summary>
    public static async Task<FuzzTarget> StartAsync(IEnumerable<string> topics)
    {
        var broker = await BrookBroker.StartAsync(new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], InMemory = true }).ConfigureAwait(false);
        foreach (var topic in topics.Append(CanaryTopic).Distinct(StringComparer.Ordinal))
            await broker.Store.CreateTopicAsync(topic, 3, new Dictionary<string, string>()).ConfigureAwait(false);
        return new FuzzTarget(broker);
    }

    /// <summary>Handles one frame as the connection handler would (a copy, since handlers may patch records in place).</summary>
    public ValueTask<bool> DispatchAsync(byte[] frame, ProtocolWriter writer, CancellationToken cancellationToken) =>
        _dispatcher.DispatchAsync(frame, _connection, writer, cancellationToken);

    /// <summary>ApiVersions must still answer with no error; returns why not, or null.</summary>
    public async Task<string?> CheckApiVersionsAsync()
    {
        var (response, error) = await RoundTripAsync<ApiVersionsResponse>(new ApiVersionsRequest { ClientSoftwareName = "canary", ClientSoftwareVersion = "1" }, 3).ConfigureAwait(false);
        if (error is not null) return error;
        return response!.ErrorCode == 0 && response.ApiKeys.Count > 0 ? null : $"ApiVersions answered error {response.ErrorCode} with {response.ApiKeys.Count} APIs";
    }

    /// <summary>A record produced with acks=all must be fetched back at the offset the produce answered; returns why not, or null.</summary>
    public async Task<string?> CheckProduceFetchAsync()
    {
        var value = System.Text.Encoding.UTF8.GetBytes($"canary-{++_canaries}");
        using var builder = new RecordBatchBuilder();
        builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, value);
        var produce = new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new ProduceRequest.TopicProduceData { Name = CanaryTopic, PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = builder.ToArray() }] }],
        };
        var (produced, error) = await RoundTripAsync<ProduceResponse>(produce, 9).ConfigureAwait(false);
        if (error is not null) return error;
        var partition = produced!.Responses[0].PartitionResponses[0];
        if (partition.ErrorCode != 0) return $"canary produce answered error {partition.ErrorCode}";
        var fetch = new FetchRequest
        {
            MaxWaitMs = 0,
            MaxBytes = 1 << 20,
            Topics = [new FetchRequest.FetchTopic { Topic = CanaryTopic, Partitions = [new FetchRequest.FetchPartition { Partition = 0, FetchOffset = partition.BaseOffset, PartitionMaxBytes = 1 << 20 }] }],
        };
        var (fetched, fetchError) = await RoundTripAsync<FetchResponse>(fetch, 11).ConfigureAwait(false);
        if (fetchError is not null) return fetchError;
        var data = fetched!.Responses[0].Partitions[0];
        if (data.ErrorCode != 0) return $"canary fetch answered error {data.ErrorCode}";
        return data.Records is { } records && records.Span.IndexOf(value) >= 0 ? null : $"canary record at offset {partition.BaseOffset} was not fetched back";
    }

    private async Task<(T? Response, string? Error)> RoundTripAsync<T>(IApiMessage request, short version)
        where T : class, IApiMessage, new()
    {
        var descriptor = ApiCatalog.All.Single(a => a.Key == request.ApiKey);
        using var frame = new ProtocolWriter();
        new RequestHeader { ApiKey = request.ApiKey, ApiVersion = version, CorrelationId = 42, ClientId = "canary" }.Write(frame, descriptor.RequestHeaderVersion(version));
        request.Write(frame, version);
        using var output = new ProtocolWriter();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            if (!await _dispatcher.DispatchAsync(frame.WrittenSpan.ToArray(), _connection, output, timeout.Token).ConfigureAwait(false))
                return (null, $"{descriptor.Name} canary got no response");
            var reader = new ProtocolReader(output.WrittenMemory[4..]);
            var header = new ResponseHeader();
            header.Read(ref reader, descriptor.ResponseHeaderVersion(version));
            if (header.CorrelationId != 42) return (null, $"{descriptor.Name} canary answered correlation id {header.CorrelationId}");
            var response = new T();
            response.Read(ref reader, version);
            return (response, null);
        }
        catch (Exception e)
        {
            return (null, $"{descriptor.Name} canary failed: {e.GetType().Name}: {e.Message}");
        }
    }

    public async ValueTask DisposeAsync() => await _broker.DisposeAsync().ConfigureAwait(false);
}
