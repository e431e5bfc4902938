using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Network;

/// <summary>
/// One Kafka client connection: reads size-prefixed frames, handles them one at a time and writes responses
/// in request order (as Kafka does, a connection has at most one request in progress). The size limit is
/// checked on the 4-byte prefix, before any of the frame is buffered (a smaller limit applies until a SASL client
/// has authenticated). TLS, when the listener uses it, is done by Kestrel's middleware before this handler runs.
/// </summary>
public sealed partial class KafkaConnectionHandler : ConnectionHandler
{
    /// <summary>Records fields at least this large are sent from the read buffers without an intermediate copy.</summary>
    internal const int SpliceRecordsFrom = 4096;

    private readonly RequestDispatcher _dispatcher;
    private readonly BrokerOptions _options;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<KafkaConnectionHandler> _logger;
    private readonly BrokerMetrics _metrics;
    private readonly BrokerTestHooks _hooks;
    private readonly SaslAuthenticator _sasl;
    private readonly SecuritySettings _security;

    public KafkaConnectionHandler(RequestDispatcher dispatcher, BrokerOptions options, IHostApplicationLifetime lifetime, BrokerMetrics metrics, ILogger<KafkaConnectionHandler> logger, BrokerTestHooks hooks, SaslAuthenticator sasl, SecuritySettings security)
    {
        _sasl = sasl;
        _security = security;
        _metrics = metrics;
        _hooks = hooks;
        _dispatcher = dispatcher;
        _options = options;
        _lifetime = lifetime;
        _logger = logger;
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
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
        using var readCancel = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token, idle.Token);
        // Fetched records of 4 KiB or more are referenced by the response writer and copied once, into the
        // transport's buffers, rather than into the writer first; the writer then holds only headers.
        using var writer = new ProtocolWriter(4096) { SpliceRecordsFrom = SpliceRecordsFrom };
        var keepUntilWritten = new List<IDisposable>();
        try
        {
            while (true)
            {
                idle.CancelAfter(_options.IdleConnectionTimeout);
                ReadResult result;
                try
                {
                    result = await input.ReadAsync(readCancel.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    if (idle.IsCancellationRequested) LogIdleClosed(info.Id, _options.IdleConnectionTimeout.TotalSeconds);
                    break;
                }
                var buffer = result.Buffer;
                var consumed = buffer.Start;
                var keepOpen = true;
                try
                {
                    while (keepOpen && TryReadFrame(ref buffer, session, out var frame))
                    {
                        consumed = buffer.Start;
                        keepOpen = await HandleFrameAsync(frame, info, writer, keepUntilWritten, output, stopping.Token).ConfigureAwait(false);
                    }
                }
                finally
                {
                    input.AdvanceTo(consumed, buffer.End);
                }
                if (!keepOpen || result.IsCompleted || result.IsCanceled) break;
            }
        }
        catch (ProtocolException ex)
        {
            LogProtocolError(info.Id, info.RemoteEndPoint, ex.Message);
        }
        catch (OperationCanceledException)
        {
            // Connection closed or broker stopping.
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
            await output.CompleteAsync().ConfigureAwait(false);
            _metrics.ConnectionClosed();
            LogDisconnected(info.Id);
        }
    }

    /// <summary>Takes one whole frame off the buffer, or none when more bytes are needed.</summary>
    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, ConnectionSession session, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < 4) return false;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        // A bare SASL token (after SaslHandshake v0) has no request header, so it may be shorter than one.
        var min = session.ExpectsRawSaslToken ? 0 : 8;
        var (max, limit) = session.IsAuthenticated
            ? (_options.MaxRequestBytes, "socket.request.max.bytes")
            : (Math.Min(_options.MaxRequestBytes, _security.MaxUnauthenticatedFrameBytes), "sasl.server.max.receive.size");
        if (size < min || size > max)
            throw new ProtocolException($"Request size {size} is outside [{min}, {max}] ({limit}).");
        if (buffer.Length < 4 + size) return false;
        frame = buffer.Slice(4, size);
        buffer = buffer.Slice(4 + size);
        return true;
    }

    /// <summary>Handles one frame and writes its response; false when the connection must close after it.</summary>
    private async Task<bool> HandleFrameAsync(ReadOnlySequence<byte> frame, ConnectionInfo info, ProtocolWriter writer, List<IDisposable> keepUntilWritten,
        PipeWriter output, CancellationToken cancellationToken)
    {
        if (info.Session.ExpectsRawSaslToken) return await HandleRawSaslTokenAsync(frame, info, writer, output, cancellationToken).ConfigureAwait(false);
        // The decoded request may keep views of the frame (records), so it is copied once into a pooled array
        // that lives until the response is written.
        var length = (int)frame.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            frame.CopyTo(rented);
            writer.Reset();
            var hasResponse = await _dispatcher.DispatchAsync(rented.AsMemory(0, length), info, writer, cancellationToken, keepUntilWritten).ConfigureAwait(false);
            if (!hasResponse) return !info.Session.CloseAfterResponse;
            if (_hooks.DropResponse is { } drop && drop(RequestHeader.Peek(rented.AsSpan(0, length)).ApiKey))
                throw new ConnectionResetException("Response dropped by a test hook.");
            writer.CopyTo(output);
            ReleaseAll(keepUntilWritten);
            var flush = await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (flush.IsCompleted) throw new OperationCanceledException("Peer stopped reading.");
            return !info.Session.CloseAfterResponse;
        }
        finally
        {
            ReleaseAll(keepUntilWritten);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>After SaslHandshake v0 the client sends bare SASL tokens and gets bare size-prefixed answers; a failure just closes.</summary>
    private async Task<bool> HandleRawSaslTokenAsync(ReadOnlySequence<byte> frame, ConnectionInfo info, ProtocolWriter writer, PipeWriter output, CancellationToken cancellationToken)
    {
        var outcome = await _sasl.AuthenticateAsync(info.Session, frame.ToArray(), info.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        if (outcome.Error != ErrorCode.None) return false;
        writer.Reset();
        writer.WriteInt32(outcome.Response.Length);
        writer.WriteRaw(outcome.Response);
        var flush = await output.WriteAsync(writer.WrittenMemory, CancellationToken.None).ConfigureAwait(false);
        if (flush.IsCompleted) throw new OperationCanceledException("Peer stopped reading.");
        return true;
    }

    private static void ReleaseAll(List<IDisposable> resources)
    {
        foreach (var resource in resources) resource.Dispose();
        resources.Clear();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} opened from {RemoteEndPoint}")]
    private partial void LogConnected(string connectionId, System.Net.EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} closed")]
    private partial void LogDisconnected(string connectionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection {ConnectionId} closed after {Seconds} s idle")]
    private partial void LogIdleClosed(string connectionId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing connection {ConnectionId} from {RemoteEndPoint}: {Reason}")]
    private partial void LogProtocolError(string connectionId, System.Net.EndPoint? remoteEndPoint, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection {ConnectionId} failed: {Reason}")]
    private partial void LogConnectionFault(string connectionId, string reason);
}
