using System.Buffers.Binary;
using System.Net.Sockets;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;

namespace Brook.Broker.Tests;

/// <summary>A bare socket speaking Brook's own codec, for sending requests real clients never would.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly TcpClient _tcp = new();
    private NetworkStream _stream = null!;
    private int _correlationId;

    public static async Task<RawClient> ConnectAsync(BrookBroker broker, string? listenerName = null)
    {
        var client = new RawClient();
        var endpoint = listenerName is null ? broker.Node.AdvertisedListeners[0] : broker.Node.EndpointFor(listenerName);
        await client._tcp.ConnectAsync(endpoint.Host, endpoint.Port);
        client._stream = client._tcp.GetStream();
        return client;
    }

    public async Task<TResponse> SendAsync<TResponse>(IApiMessage request, short version)
        where TResponse : IApiMessage, new() =>
        await ReceiveAsync<TResponse>(await SendOnlyAsync(request, version), version);

    /// <summary>Sends a request without waiting for its response (to pipeline several); returns its correlation id.</summary>
    public async Task<int> SendOnlyAsync(IApiMessage request, short version)
    {
        var descriptor = ApiCatalog.All.Single(a => a.Key == request.ApiKey);
        var correlationId = ++_correlationId;
        using var writer = new ProtocolWriter();
        writer.WriteInt32(0);
        new RequestHeader { ApiKey = request.ApiKey, ApiVersion = version, CorrelationId = correlationId, ClientId = "raw" }
            .Write(writer, descriptor.RequestHeaderVersion(version));
        request.Write(writer, version);
        writer.PatchInt32(0, writer.Length - 4);
        await SendRawAsync(writer.WrittenMemory);
        return correlationId;
    }

    /// <summary>Reads the next response, which must carry <paramref name="correlationId"/>.</summary>
    public async Task<TResponse> ReceiveAsync<TResponse>(int correlationId, short version)
        where TResponse : IApiMessage, new()
    {
        var response = new TResponse();
        var descriptor = ApiCatalog.All.Single(a => a.Key == response.ApiKey);
        var frame = await ReadFrameAsync() ?? throw new IOException("The broker closed the connection.");
        var reader = new ProtocolReader(frame);
        var header = new ResponseHeader();
        header.Read(ref reader, descriptor.ResponseHeaderVersion(version));
        Assert.Equal(correlationId, header.CorrelationId);
        response.Read(ref reader, version);
        return response;
    }

    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one response frame, or null when the broker closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync()
    {
        var prefix = new byte[4];
        if (!await ReadExactlyOrEndAsync(prefix)) return null;
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        return await ReadExactlyOrEndAsync(body) ? body : null;
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer.AsMemory(read), timeout.Token);
            }
            catch (IOException)
            {
                return false;
            }
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    public void Dispose() => _tcp.Dispose();
}

/// <summary>Produce requests built by hand for <see cref="RawClient"/>.</summary>
internal static class RawProduce
{
    /// <summary>
    /// A batch of <paramref name="count"/> records (key "k", values value-N from <paramref name="sequence"/>); idempotent
    /// with that base sequence when <paramref name="producerId"/> is set, else a plain batch.
    /// </summary>
    public static byte[] Batch(long producerId, short epoch, int sequence, int count = 3)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = producerId < 0 ? -1 : sequence };
        for (var i = 0; i < count; i++)
            builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "k"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes($"value-{sequence + i}"), []);
        return builder.ToArray();
    }

    /// <summary>acks=all to partition 0 of <paramref name="topic"/>.</summary>
    public static ProduceRequest Request(string topic, byte[] records) => new()
    {
        Acks = -1,
        TimeoutMs = 5000,
        TopicData = [new ProduceRequest.TopicProduceData { Name = topic, PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = records }] }],
    };
}
