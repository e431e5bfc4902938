using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.Protocol;
using Brook.Protocol.Messages;
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

    /// <summary>Produce requests of one connection handled at once while earlier ones wait for their fsync.</summary>
    private const int MaxPipelinedRequests = 8;

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
        var output = connection.Transport.Output;
        // Stopping the application stops reading new requests; the ones in progress still complete.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed, _lifetime.ApplicationStopping);
        using var state = new ServeState(stopping.Token);
        var responses = Channel.CreateBounded<InFlightRequest>(new BoundedChannelOptions(MaxPipelinedRequests) { SingleReader = true, SingleWriter = true });
        var sending = SendResponsesAsync(responses.Reader, output, state);
        Exception? readFailure = null;
        try
        {
            await ReadRequestsAsync(connection.Transport.Input, info, responses.Writer, state, stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            readFailure = ex;
        }
        responses.Writer.TryComplete();
        Exception? sendFailure = null;
        try
        {
            await sending.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            sendFailure = ex;
        }
        try
        {
            // A failed send stops the reading (which then fails only as cancelled): the send failure is the cause.
            if ((sendFailure ?? readFailure) is { } failure) ExceptionDispatchInfo.Throw(failure);
        }
        catch (ProtocolException ex)
        {
            LogProtocolError(info.Id, info.RemoteEndPoint, ex.Message);
        }
        catch (OperationCanceledException)
        {
            // Connection closed, broker stopping, or idle too long.
            if (state.IdleExpired && !stopping.IsCancellationRequested) LogIdleClosed(info.Id, _limits.IdleTimeout.TotalSeconds);
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
            state.DisposeWriters();
            await output.CompleteAsync().ConfigureAwait(false);
            _metrics.ConnectionClosed();
            LogDisconnected(info.Id);
        }
    }

    /// <summary>
    /// Reads frames and starts handling each. The next frame is read once the current request is answered (written
    /// to the client), as Kafka does, except for a produce whose records are written and which waits only for its
    /// fsync: then the next request is read at once, and if it is a produce too it is handled meanwhile, so a
    /// producer's in-flight requests share fsyncs (group commit on one connection). Any other request first waits for
    /// those before it is handled. Responses always go out in request order.
    /// </summary>
    private async Task ReadRequestsAsync(PipeReader input, ConnectionInfo info, ChannelWriter<InFlightRequest> responses, ServeState state, CancellationToken stopping)
    {
        var prefix = new byte[4];
        InFlightRequest? lastPipelined = null;
        while (true)
        {
            state.ReadIdle.CancelAfter(_limits.IdleTimeout);
            if (!await ReadExactlyAsync(input, prefix, state.Reading).ConfigureAwait(false)) return;
            var size = CheckSize(BinaryPrimitives.ReadInt32BigEndian(prefix), info.Session);
            // No deadline while waiting for memory: the wait is the broker's, not the client's idleness.
            state.ReadIdle.CancelAfter(Timeout.InfiniteTimeSpan);
            await _memory.AcquireAsync(size, stopping).ConfigureAwait(false);
            var request = new InFlightRequest(LargeBuffers.Rent(size), size, state.RentWriter());
            var queued = false;
            try
            {
                state.ReadIdle.CancelAfter(_limits.IdleTimeout);
                if (!await ReadExactlyAsync(input, request.Frame.AsMemory(0, size), state.Reading).ConfigureAwait(false)) return;
                state.ReadIdle.CancelAfter(Timeout.InfiniteTimeSpan);
                var produce = !info.Session.ExpectsRawSaslToken && RequestHeader.Peek(request.Frame.AsSpan(0, size)).ApiKey == ApiKeys.Produce;
                // Only a produce may be handled while earlier produces wait for their fsync.
                if (!produce && lastPipelined is not null) await lastPipelined.Written.Task.WaitAsync(state.Reading).ConfigureAwait(false);
                lastPipelined = null;
                // A place in the send queue first, so a request being handled is always one the sender will release.
                if (!await responses.WaitToWriteAsync(state.Reading).ConfigureAwait(false)) return;
                request.Handling = HandleFrameAsync(request, info, stopping);
                queued = responses.TryWrite(request);
                if (!queued) throw new InvalidOperationException("The response queue refused a request it had room for.");
                if (!request.Handling.IsCompleted && !request.Applied.Task.IsCompleted)
                    await Task.WhenAny(request.Handling, request.Applied.Task).ConfigureAwait(false);
                if (!request.Handling.IsCompleted)
                {
                    lastPipelined = request;
                    continue;
                }
                // Answered before the next request is read: at most one response of this kind is buffered.
                await request.Written.Task.WaitAsync(state.Reading).ConfigureAwait(false);
                if (!request.Handling.IsCompletedSuccessfully || !request.Handling.Result.KeepOpen) return;
            }
            finally
            {
                if (!queued) request.Release(_memory, state);
            }
        }
    }

    /// <summary>
    /// Writes responses in request order as their handling completes, then releases each request's frame, memory and
    /// buffers. After a failure it still waits for every request in progress before releasing it (handlers read
    /// their frames), writes nothing more and stops the reading.
    /// </summary>
    private async Task SendResponsesAsync(ChannelReader<InFlightRequest> responses, PipeWriter output, ServeState state)
    {
        Exception? failure = null;
        await foreach (var request in responses.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var (hasResponse, _) = await request.Handling!.ConfigureAwait(false);
                // The response is encoded in the writer: the request's memory goes back before waiting on the client.
                _memory.Release(request.Held);
                request.Held = 0;
                if (hasResponse && failure is null)
                {
                    request.Writer.CopyTo(output);
                    ReleaseAll(request.KeepUntilWritten);
                    state.WriteIdle.CancelAfter(_limits.IdleTimeout);
                    var flush = await output.FlushAsync(state.Writing).ConfigureAwait(false);
                    state.WriteIdle.CancelAfter(Timeout.InfiniteTimeSpan);
                    if (flush.IsCompleted) throw new OperationCanceledException("Peer stopped reading.");
                }
            }
            catch (Exception ex) when (failure is null)
            {
                failure = ex;
                state.StopReading();
            }
            catch (Exception)
            {
                // Requests after the first failure are only waited for.
            }
            finally
            {
                request.Release(_memory, state);
            }
        }
        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
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

    /// <summary>Handles one frame, encoding its response into the request's writer; also whether the connection stays open.</summary>
    private async Task<(bool HasResponse, bool KeepOpen)> HandleFrameAsync(InFlightRequest request, ConnectionInfo info, CancellationToken cancellationToken)
    {
        var frame = request.Frame;
        var length = request.Length;
        var writer = request.Writer;
        writer.Reset();
        if (info.Session.ExpectsRawSaslToken)
        {
            var ok = await HandleRawSaslTokenAsync(frame.AsMemory(0, length), info, writer, cancellationToken).ConfigureAwait(false);
            return (ok, ok);
        }
        // The decoded request may keep views of the frame (records); the frame lives until the response is encoded.
        var hasResponse = await _dispatcher.DispatchAsync(frame.AsMemory(0, length), info, writer, cancellationToken, request.KeepUntilWritten,
            request.SignalApplied).ConfigureAwait(false);
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

    /// <summary>One request from the moment its frame is read until its response has been written.</summary>
    private sealed class InFlightRequest(byte[] frame, int length, ProtocolWriter writer)
    {
        public byte[] Frame { get; } = frame;

        public int Length { get; } = length;

        /// <summary>Bytes of the shared request memory still held; released once the response is encoded.</summary>
        public int Held { get; set; } = length;

        public ProtocolWriter Writer { get; } = writer;

        /// <summary>Fetched buffers the writer references (spliced records), released after the response is sent.</summary>
        public List<IDisposable> KeepUntilWritten { get; } = [];

        public Task<(bool HasResponse, bool KeepOpen)>? Handling { get; set; }

        /// <summary>Set when the handler says only a durability wait remains (see RequestContext.SignalApplied).</summary>
        public TaskCompletionSource Applied { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Set once the response has been sent (or the request dropped) and its resources released.</summary>
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void SignalApplied() => Applied.TrySetResult();

        public void Release(RequestMemoryPool memory, ServeState state)
        {
            ReleaseAll(KeepUntilWritten);
            if (Held > 0) memory.Release(Held);
            Held = 0;
            LargeBuffers.Return(Frame);
            state.ReturnWriter(Writer);
            Written.TrySetResult();
        }
    }

    /// <summary>A connection's cancellation (stopping, idleness while reading or while sending, a failed send) and its response writers.</summary>
    private sealed class ServeState : IDisposable
    {
        private readonly CancellationTokenSource _stopReading = new();
        private readonly CancellationTokenSource _reading;
        private readonly CancellationTokenSource _writing;
        private readonly Stack<ProtocolWriter> _writers = new();
        private readonly Lock _writersLock = new();

        public ServeState(CancellationToken stopping)
        {
            _reading = CancellationTokenSource.CreateLinkedTokenSource(stopping, ReadIdle.Token, _stopReading.Token);
            _writing = CancellationTokenSource.CreateLinkedTokenSource(stopping, WriteIdle.Token);
        }

        /// <summary>Runs while waiting for the client's next request.</summary>
        public CancellationTokenSource ReadIdle { get; } = new();

        /// <summary>Runs while waiting for the client to take a response.</summary>
        public CancellationTokenSource WriteIdle { get; } = new();

        public CancellationToken Reading => _reading.Token;

        public CancellationToken Writing => _writing.Token;

        public bool IdleExpired => ReadIdle.IsCancellationRequested || WriteIdle.IsCancellationRequested;

        public void StopReading() => _stopReading.Cancel();

        public ProtocolWriter RentWriter()
        {
            lock (_writersLock) return _writers.TryPop(out var writer) ? writer : NewWriter();
        }

        public void ReturnWriter(ProtocolWriter writer)
        {
            // A writer grown past this is dropped rather than kept for the connection's life.
            if (writer.Length > RetainedWriterBytes)
            {
                writer.Dispose();
                return;
            }
            lock (_writersLock) _writers.Push(writer);
        }

        public void DisposeWriters()
        {
            lock (_writersLock)
            {
                while (_writers.TryPop(out var writer)) writer.Dispose();
            }
        }

        public void Dispose()
        {
            _reading.Dispose();
            _writing.Dispose();
            _stopReading.Dispose();
            ReadIdle.Dispose();
            WriteIdle.Dispose();
        }
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
