using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.Protocol;
using Brook.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Network;

/// <summary>
/// One Kafka client connection: reads size-prefixed frames, handles them one at a time and writes responses
/// in request order (as Kafka does, a connection has at most one request in progress). TLS, when the listener uses it,
/// is done by Kestrel's middleware before this handler runs.
/// Resource bounds (<see cref="ConnectionLimits"/>): connections beyond max.connections or max.connections.per.ip are
/// closed at once. The size limit is checked on the 4-byte prefix (a smaller one applies until a SASL client has
/// authenticated); the request's size is then taken from the shared <see cref="RequestMemoryPool"/>
/// (queued.max.request.bytes), waiting while it is spent, and the body is copied out of the transport's buffer as it
/// arrives, so a connection buffers at most one request. While a response cannot be sent (the client does not read)
/// the connection reads no further request, so the transport's bounded buffers push back on the client. A connection
/// making no progress (waiting for a request, or for the client to take a response) for connections.max.idle.ms is
/// closed; a request being handled (a long poll) is not idleness.
/// </summary>
public sealed partial class KafkaConnectionHandler : ConnectionHandler
{
    /// <summary>A per-connection response buffer grown past this is dropped after use rather than kept for the connection's life.</summary>
    private const int RetainedWriterBytes = 1 << 20;

    /// <summary>Records fields at least this large are sent from the read buffers without an intermediate copy.</summary>
    internal const int SpliceRecordsFrom = 4096;

    private readonly RequestDispatcher _dispatcher;
    private readonly ConnectionLimits _limits;
    private readonly RequestMemoryPool _memory;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<KafkaConnectionHandler> _logger;
    private readonly BrokerMetrics _metrics;
    private readonly BrokerTestHooks _hooks;
    private readonly SaslAuthenticator _sasl;
    private readonly SecuritySettings _security;

    public KafkaConnectionHandler(RequestDispatcher dispatcher, ConnectionLimits limits, RequestMemoryPool memory, IHostApplicationLifetime lifetime, BrokerMetrics metrics, ILogger<KafkaConnectionHandler> logger, BrokerTestHooks hooks, SaslAuthenticator sasl, SecuritySettings security)
    {
        _sasl = sasl;
        _security = security;
        _metrics = metrics;
        _hooks = hooks;
        _dispatcher = dispatcher;
        _limits = limits;
        _memory = memory;
        _lifetime = lifetime;
        _logger = logger;
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var address = (connection.RemoteEndPoint as System.Net.IPEndPoint)?.Address;
        if (_limits.TryOpen(address) is { } refusal)
        {
            // Returning closes the connection, as Kafka closes one over its limits.
            LogRefused(connection.ConnectionId, connection.RemoteEndPoint, refusal);
            return;
        }
        try
        {
            await ServeAsync(connection).ConfigureAwait(false);
        }
        finally
        {
            _limits.Close(address);
        }
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        var listener = connection.Features.Get<BrokerListenerFeature>()?.Listener ?? BrokerListener.Plaintext();
        var session = new ConnectionSession(listener, connection.Features.Get<ITlsConnectionFeature>()?.ClientCertificate);
        var info = new ConnectionInfo(connection.ConnectionId, connection.RemoteEndPoint) { Session = session };
        LogConnected(info.Id, info.RemoteEndPoint);
        _metrics.ConnectionOpened();
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        // Stopping the application stops reading new requests; the one in progress still completes.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, _lifetime.ApplicationStopping);
        using var idle = new CancellationTokenSource();
        using var io = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, idle.Token);
        // Fetched records of 4 KiB or more are referenced by the response writer and copied once, into the
        // transport's buffers, rather than into the writer first; the writer then holds only headers.
        var writer = NewWriter();
        var keepUntilWritten = new List<IDisposable>();
        var prefix = new byte[4];
        try
        {
            while (true)
            {
                idle.CancelAfter(_limits.IdleTimeout);
                if (!await ReadExactlyAsync(input, prefix, io.Token).ConfigureAwait(false)) break;
                var size = CheckSize(BinaryPrimitives.ReadInt32BigEndian(prefix), session);
                // No deadline while waiting for memory: the wait is the broker's, not the client's idleness.
                idle.CancelAfter(Timeout.InfiniteTimeSpan);
                await _memory.AcquireAsync(size, stopping.Token).ConfigureAwait(false);
                var held = size;
                var frame = LargeBuffers.Rent(size);
                try
                {
                    idle.CancelAfter(_limits.IdleTimeout);
                    if (!await ReadExactlyAsync(input, frame.AsMemory(0, size), io.Token).ConfigureAwait(false)) break;
                    idle.CancelAfter(Timeout.InfiniteTimeSpan);
                    var (hasResponse, keepOpen) = await HandleFrameAsync(frame, size, info, writer, keepUntilWritten, stopping.Token).ConfigureAwait(false);
                    // The response is encoded in the writer: the request's memory goes back before waiting on the client.
                    _memory.Release(held);
                    held = 0;
                    if (hasResponse)
                    {
                        writer.CopyTo(output);
                        ReleaseAll(keepUntilWritten);
                        idle.CancelAfter(_limits.IdleTimeout);
                        var flush = await output.FlushAsync(io.Token).ConfigureAwait(false);
                        if (flush.IsCompleted) throw new OperationCanceledException("Peer stopped reading.");
                    }
                    if (!keepOpen) break;
                }
                finally
                {
                    ReleaseAll(keepUntilWritten);
                    if (held > 0) _memory.Release(held);
                    LargeBuffers.Return(frame);
                }
                if (writer.Length > RetainedWriterBytes)
                {
                    writer.Dispose();
                    writer = NewWriter();
                }
            }
        }
        catch (ProtocolException ex)
        {
            LogProtocolError(info.Id, info.RemoteEndPoint, ex.Message);
        }
        catch (OperationCanceledException)
        {
            // Connection closed, broker stopping, or idle too long.
            if (idle.IsCancellationRequested && !stopping.IsCancellationRequested) LogIdleClosed(info.Id, _limits.IdleTimeout.TotalSeconds);
        }
        catch (ConnectionResetException)
        {
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            LogConnectionFault(info.Id, ex.Message);
        }
        finally
        {
            writer.Dispose();
            await output.CompleteAsync().ConfigureAwait(false);
            _metrics.ConnectionClosed();
            LogDisconnected(info.Id);
        }
    }

    /// <summary>The frame size from its prefix, or a <see cref="ProtocolException"/> closing the connection when out of bounds.</summary>
    private int CheckSize(int size, ConnectionSession session)
    {
        // A bare SASL token (after SaslHandshake v0) has no request header, so it may be shorter than one.
        var min = session.ExpectsRawSaslToken ? 0 : 8;
        var (max, limit) = session.IsAuthenticated
            ? (_limits.MaxRequestBytes, "socket.request.max.bytes")
            : (Math.Min(_limits.MaxRequestBytes, _security.MaxUnauthenticatedFrameBytes), "sasl.server.max.receive.size");
        if (size < min || size > max)
            throw new ProtocolException($"Request size {size} is outside [{min}, {max}] ({limit}).");
        return size;
    }

    /// <summary>
    /// Copies the next <paramref name="destination"/>.Length bytes out of the transport, consuming them as they arrive so
    /// that the transport's buffer never holds more than what it was given. False when the client closed first.
    /// </summary>
    private static async ValueTask<bool> ReadExactlyAsync(PipeReader input, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < destination.Length)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = (int)Math.Min(buffer.Length, destination.Length - filled);
            buffer.Slice(0, take).CopyTo(destination.Span[filled..]);
            filled += take;
            input.AdvanceTo(buffer.GetPosition(take));
            if (filled < destination.Length && (result.IsCompleted || result.IsCanceled)) return false;
        }
        return true;
    }

    /// <summary>Handles one frame, encoding its response into <paramref name="writer"/>; also whether the connection stays open.</summary>
    private async Task<(bool HasResponse, bool KeepOpen)> HandleFrameAsync(byte[] frame, int length, ConnectionInfo info, ProtocolWriter writer,
        List<IDisposable> keepUntilWritten, CancellationToken cancellationToken)
    {
        writer.Reset();
        if (info.Session.ExpectsRawSaslToken)
        {
            var ok = await HandleRawSaslTokenAsync(frame.AsMemory(0, length), info, writer, cancellationToken).ConfigureAwait(false);
            return (ok, ok);
        }
        // The decoded request may keep views of the frame (records); the frame lives until the response is encoded.
        var hasResponse = await _dispatcher.DispatchAsync(frame.AsMemory(0, length), info, writer, cancellationToken, keepUntilWritten).ConfigureAwait(false);
        if (hasResponse && _hooks.DropResponse is { } drop && drop(RequestHeader.Peek(frame.AsSpan(0, length)).ApiKey))
            throw new ConnectionResetException("Response dropped by a test hook.");
        return (hasResponse, !info.Session.CloseAfterResponse);
    }

    private static ProtocolWriter NewWriter() => new(4096) { SpliceRecordsFrom = SpliceRecordsFrom };

    private static void ReleaseAll(List<IDisposable> resources)
    {
        foreach (var resource in resources) resource.Dispose();
        resources.Clear();
    }

    /// <summary>After SaslHandshake v0 the client sends bare SASL tokens and gets bare size-prefixed answers; a failure just closes.</summary>
    private async Task<bool> HandleRawSaslTokenAsync(ReadOnlyMemory<byte> token, ConnectionInfo info, ProtocolWriter writer, CancellationToken cancellationToken)
    {
        var outcome = await _sasl.AuthenticateAsync(info.Session, token.ToArray(), info.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        if (outcome.Error != ErrorCode.None) return false;
        writer.WriteInt32(outcome.Response.Length);
        writer.WriteRaw(outcome.Response);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} opened from {RemoteEndPoint}")]
    private partial void LogConnected(string connectionId, System.Net.EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} closed")]
    private partial void LogDisconnected(string connectionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} closed after {Seconds} s idle")]
    private partial void LogIdleClosed(string connectionId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing connection {ConnectionId} from {RemoteEndPoint}: {Reason}")]
    private partial void LogProtocolError(string connectionId, System.Net.EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refusing connection {ConnectionId} from {RemoteEndPoint}: {Reason}")]
    private partial void LogRefused(string connectionId, System.Net.EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} failed: {Reason}")]
    private partial void LogConnectionFault(string connectionId, string reason);
}
