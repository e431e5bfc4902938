using System.Buffers.Binary;
using System.Net.Sockets;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Admin;

/// <summary>
/// One connection to one broker speaking the Kafka protocol through Brook.Protocol's codecs, for the few requests
/// librdkafka's admin API does not offer or mishandles. It secures itself as the client properties say (TLS, SASL PLAIN
/// or SCRAM), asks ApiVersions, and sends every request at the highest version both sides know. Not thread-safe: one
/// request at a time.
/// </summary>
internal sealed class KafkaWireConnection : IAsyncDisposable
{
    private const int MaxResponseBytes = 64 * 1024 * 1024;
    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly string _clientId;
    private readonly Dictionary<short, (short Min, short Max)> _brokerVersions = [];
    private int _correlationId;

    private KafkaWireConnection(TcpClient tcp, Stream stream, string clientId)
    {
        _tcp = tcp;
        _stream = stream;
        _clientId = clientId;
    }

    public static async Task<KafkaWireConnection> OpenAsync(string host, int port, string clientId, WireSecurity security, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            await tcp.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            var stream = await security.WrapAsync(tcp.GetStream(), host, cancellationToken).ConfigureAwait(false);
            var connection = new KafkaWireConnection(tcp, stream, clientId);
            // ApiVersions v0 is understood by every broker version, and answered before SASL authentication.
            var versions = await connection.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 0, cancellationToken).ConfigureAwait(false);
            foreach (var api in versions.ApiKeys) connection._brokerVersions[api.ApiKey] = (api.MinVersion, api.MaxVersion);
            await security.AuthenticateAsync(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>The highest version of <paramref name="apiKey"/> both Brook.Protocol and the broker support; null when there is none.</summary>
    public short? NegotiatedVersion(short apiKey)
    {
        var ours = ApiCatalog.All.FirstOrDefault(a => a.Key == apiKey);
        if (ours is null || !_brokerVersions.TryGetValue(apiKey, out var theirs)) return null;
        var max = Math.Min(ours.HighestVersion, theirs.Max);
        return max >= Math.Max(ours.LowestVersion, theirs.Min) ? (short)max : null;
    }

    public async Task<TResponse> SendAsync<TResponse>(IApiMessage request, short version, CancellationToken cancellationToken)
        where TResponse : IApiMessage, new()
    {
        var descriptor = ApiCatalog.All.Single(a => a.Key == request.ApiKey);
        var correlationId = ++_correlationId;
        using (var writer = new ProtocolWriter())
        {
            writer.WriteInt32(0);
            new RequestHeader { ApiKey = request.ApiKey, ApiVersion = version, CorrelationId = correlationId, ClientId = _clientId }
                .Write(writer, descriptor.RequestHeaderVersion(version));
            request.Write(writer, version);
            writer.PatchInt32(0, writer.Length - 4);
            await _stream.WriteAsync(writer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }

        var prefix = new byte[4];
        await _stream.ReadExactlyAsync(prefix, cancellationToken).ConfigureAwait(false);
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size is < 4 or > MaxResponseBytes) throw new ProtocolException($"Response of {size} bytes is out of bounds.");
        var frame = new byte[size];
        await _stream.ReadExactlyAsync(frame, cancellationToken).ConfigureAwait(false);
        var reader = new ProtocolReader(frame);
        var header = new ResponseHeader();
        header.Read(ref reader, descriptor.ResponseHeaderVersion(version));
        if (header.CorrelationId != correlationId)
            throw new ProtocolException($"Response correlation id {header.CorrelationId} does not match request {correlationId}.");
        var response = new TResponse();
        response.Read(ref reader, version);
        return response;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}
