using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Brook.Broker.Telemetry;
using Brook.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Network;

/// <summary>
/// One Kafka client connection: reads size-prefixed frames, handles them one at a time and writes responses
/// in request order (as Kafka does, a connection has at most one request in progress). The size limit is
/// checked on the 4-byte prefix, before any of the frame is buffered.
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

    public KafkaConnectionHandler(RequestDispatcher dispatcher, BrokerOptions options, IHostApplicationLifetime lifetime, BrokerMetrics metrics, ILogger<KafkaConnectionHandler> logger, BrokerTestHooks hooks)
    {
        _metrics = metrics;
        _hooks = hooks;
        _dispatcher = dispatcher;
        _options = options;
        _lifetime = lifetime;
        _logger = logger;
    }

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var info = new ConnectionInfo(connection.ConnectionId, connection.RemoteEndPoint);
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
                try
                {
                    while (TryReadFrame(ref buffer, out var frame))
                    {
                        consumed = buffer.Start;
                        await HandleFrameAsync(frame, info, writer, keepUntilWritten, output, stopping.Token).ConfigureAwait(false);
                    }
                }
                finally
                {
                    input.AdvanceTo(consumed, buffer.End);
                }
                if (result.IsCompleted || result.IsCanceled) break;
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
    private bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (buffer.Length < 4) return false;
        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size < 8 || size > _options.MaxRequestBytes)
            throw new ProtocolException($"Request size {size} is outside [8, {_options.MaxRequestBytes}] (socket.request.max.bytes).");
        if (buffer.Length < 4 + size) return false;
        frame = buffer.Slice(4, size);
        buffer = buffer.Slice(4 + size);
        return true;
    }

    private async Task HandleFrameAsync(ReadOnlySequence<byte> frame, ConnectionInfo info, ProtocolWriter writer, List<IDisposable> keepUntilWritten,
        PipeWriter output, CancellationToken cancellationToken)
    {
        // The decoded request may keep views of the frame (records), so it is copied once into a pooled array
        // that lives until the response is written.
        var length = (int)frame.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            frame.CopyTo(rented);
            writer.Reset();
            var hasResponse = await _dispatcher.DispatchAsync(rented.AsMemory(0, length), info, writer, cancellationToken, keepUntilWritten).ConfigureAwait(false);
            if (!hasResponse) return;
            if (_hooks.DropResponse is { } drop && drop(RequestHeader.Peek(rented.AsSpan(0, length)).ApiKey))
                throw new ConnectionResetException("Response dropped by a test hook.");
            writer.CopyTo(output);
            ReleaseAll(keepUntilWritten);
            var flush = await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (flush.IsCompleted) throw new OperationCanceledException("Peer stopped reading.");
        }
        finally
        {
            ReleaseAll(keepUntilWritten);
            ArrayPool<byte>.Shared.Return(rented);
        }
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
