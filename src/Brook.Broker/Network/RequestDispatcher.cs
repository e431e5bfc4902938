using Brook.Broker.Handlers;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Network;

/// <summary>
/// Decodes a request frame, routes it to the handler registered for its API key and encodes the response.
/// The set of registered handlers is the set of APIs the broker advertises in ApiVersions.
/// </summary>
public sealed partial class RequestDispatcher
{
    /// <summary>Requests taking longer are logged with their API, client id and duration (Brook setting; -1 turns it off).</summary>
    public const string SlowRequestMsConfig = "log.slow.request.ms";

    public const int DefaultSlowRequestMs = 1000;

    private readonly IRequestHandler?[] _handlers;
    private readonly ApiDescriptor?[] _descriptors;
    private readonly BrokerMetrics _metrics;
    private readonly IAuthorizer _authorizer;
    private readonly ILogger<RequestDispatcher> _logger;
    private readonly TimeSpan? _slowRequest;

    public RequestDispatcher(IEnumerable<IRequestHandler> handlers, BrokerMetrics metrics, IAuthorizer authorizer, BrokerConfig config, ILogger<RequestDispatcher> logger)
    {
        _metrics = metrics;
        _authorizer = authorizer;
        _logger = logger;
        var slowMs = config.GetInt(SlowRequestMsConfig, DefaultSlowRequestMs);
        _slowRequest = slowMs < 0 ? null : TimeSpan.FromMilliseconds(slowMs);
        var list = handlers.ToList();
        var maxKey = Math.Max(list.Count == 0 ? 0 : list.Max(h => h.ApiKey), ApiCatalog.All.Max(a => a.Key));
        _handlers = new IRequestHandler?[maxKey + 1];
        _descriptors = new ApiDescriptor?[maxKey + 1];
        foreach (var a in ApiCatalog.All) _descriptors[a.Key] = a;
        foreach (var h in list)
        {
            if (_handlers[h.ApiKey] is not null) throw new InvalidOperationException($"Two handlers for API key {h.ApiKey}.");
            _handlers[h.ApiKey] = h;
        }
    }

    /// <summary>The registered handlers ordered by API key (ApiVersions is built from these).</summary>
    public IEnumerable<IRequestHandler> Handlers => _handlers.Where(h => h is not null)!;

    /// <summary>
    /// Handles one frame (header + body, without the size prefix). Writes the framed response into
    /// <paramref name="output"/> and returns true; returns false with nothing written when the request gets no
    /// response. Throws <see cref="ProtocolException"/> when the connection must be closed.
    /// When <paramref name="output"/> splices records (fetched bytes referenced, not copied), the buffers they live in
    /// are handed to <paramref name="keepUntilWritten"/> for the caller to release after sending the response.
    /// <paramref name="onApplied"/> is called when a handler says the request's effects are in place and only its
    /// durability wait remains (see <see cref="RequestContext.SignalApplied"/>).
    /// </summary>
    public async ValueTask<bool> DispatchAsync(ReadOnlyMemory<byte> frame, ConnectionInfo connection, ProtocolWriter output, CancellationToken cancellationToken,
        ICollection<IDisposable>? keepUntilWritten = null, Action? onApplied = null)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (apiKey, apiVersion, correlationId) = RequestHeader.Peek(frame.Span);
        var handler = apiKey >= 0 && apiKey < _handlers.Length ? _handlers[apiKey] : null;
        var descriptor = apiKey >= 0 && apiKey < _descriptors.Length ? _descriptors[apiKey] : null;
        if (handler is null || descriptor is null)
            throw new ProtocolException($"Unsupported API key {apiKey} (version {apiVersion}) from {connection.RemoteEndPoint}.");
        // As Kafka does, a SASL client that sends anything but the SASL exchange before authenticating is cut off.
        if (!connection.Session.IsAuthenticated && !ConnectionSession.ServedBeforeAuthentication(apiKey))
            throw new ProtocolException($"{descriptor.Name} request before SASL authentication completed on listener {connection.Session.Listener.Name}.");

        if (apiVersion < handler.MinVersion || apiVersion > handler.MaxVersion)
        {
            if (apiKey == ApiKeys.ApiVersions)
            {
                // Clients send their newest ApiVersions first and fall back to the version range we report (KIP-511).
                WriteResponse(output, correlationId, 0, ApiVersionsHandler.UnsupportedVersionResponse(Handlers), 0);
                return true;
            }
            throw new ProtocolException($"Unsupported version {apiVersion} of API {descriptor.Name} from {connection.RemoteEndPoint}.");
        }

        var reader = new ProtocolReader(frame);
        var header = new RequestHeader();
        header.Read(ref reader, descriptor.RequestHeaderVersion(apiVersion));
        var request = handler.CreateRequest();
        request.Read(ref reader, apiVersion);

        using var context = new RequestContext
        {
            Header = header,
            RemoteEndPoint = connection.RemoteEndPoint,
            ConnectionId = connection.Id,
            Session = connection.Session,
            Authorizer = _authorizer,
            OnApplied = onApplied,
        };
        var response = await handler.HandleAsync(context, request, cancellationToken).ConfigureAwait(false);
        if (response is not null) WriteResponse(output, correlationId, descriptor.ResponseHeaderVersion(apiVersion), response, apiVersion);
        if (output.HasSplices)
        {
            if (keepUntilWritten is null) throw new InvalidOperationException("A writer that splices records needs an owner for the spliced buffers.");
            context.MoveResourcesTo(keepUntilWritten);
        }
        _metrics.RequestCompleted(descriptor.Name, apiVersion, started);
        if (_slowRequest is { } slow && !WaitsByDesign(apiKey) && System.Diagnostics.Stopwatch.GetElapsedTime(started) is var elapsed && elapsed > slow)
            LogSlowRequest(descriptor.Name, apiVersion, header.ClientId ?? "", connection.RemoteEndPoint, elapsed.TotalMilliseconds, (long)slow.TotalMilliseconds);
        return response is not null;
    }

    // Long-polling fetches and group joins wait for data or for other members by design; their time says nothing of the broker.
    private static bool WaitsByDesign(short apiKey) => apiKey is ApiKeys.Fetch or ApiKeys.JoinGroup or ApiKeys.SyncGroup;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slow request: {Api} v{Version} from client '{ClientId}' at {RemoteEndPoint} took {DurationMs:F0} ms (log.slow.request.ms={ThresholdMs})")]
    private partial void LogSlowRequest(string api, short version, string clientId, System.Net.EndPoint? remoteEndPoint, double durationMs, long thresholdMs);

    private static void WriteResponse(ProtocolWriter output, int correlationId, short headerVersion, IApiMessage response, short version)
    {
        var start = output.Length;
        output.WriteInt32(0); // size, patched below
        new ResponseHeader { CorrelationId = correlationId }.Write(output, headerVersion);
        response.Write(output, version);
        output.PatchInt32(start, output.Length - start - 4);
    }
}

/// <summary>The peer of a connection and its security state, for logs and handlers.</summary>
public sealed record ConnectionInfo(string Id, System.Net.EndPoint? RemoteEndPoint)
{
    public ConnectionSession Session { get; init; } = new(BrokerListener.Plaintext());
}
