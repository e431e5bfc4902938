using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Capture;

/// <summary>
/// Forwards Kafka connections to an upstream broker unchanged and writes every frame it forwards (without the
/// 4-byte size prefix) to a directory: requests as <c>&lt;client&gt;-&lt;api&gt;-v&lt;version&gt;-&lt;n&gt;.req.bin</c>,
/// responses under the same name with <c>.resp.bin</c>, paired by correlation id. The client part is the request
/// header's client id with characters other than letters, digits, '.' and '_' replaced by '_'; n counts requests
/// across the whole run. Nothing is rewritten, so the broker must advertise the proxy's address.
/// </summary>
internal static class RecordingProxy
{
    private const int MaxFrameBytes = 64 * 1024 * 1024;

    private static readonly Dictionary<short, string> ApiNames = ApiCatalog.All.ToDictionary(a => a.Key, a => a.Name);

    private static int _sequence;

    public static async Task<int> RunAsync(Options options)
    {
        var listen = options.GetEndPoint("listen");
        var upstream = options.GetEndPoint("upstream");
        var outDir = Directory.CreateDirectory(options.Get("out")).FullName;

        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });

        var listener = new TcpListener(listen);
        listener.Start();
        Console.WriteLine($"brook-capture: listening on {listener.LocalEndpoint}, forwarding to {upstream}, writing to {outDir}");
        var connections = new List<Task>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(stop.Token);
                connections.Add(ServeAsync(client, upstream, outDir, stop.Token));
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            listener.Stop();
        }
        await Task.WhenAll(connections);
        Console.WriteLine($"brook-capture: stopped after {_sequence} requests");
        return 0;
    }

    private static async Task ServeAsync(TcpClient client, IPEndPoint upstream, string outDir, CancellationToken stop)
    {
        using var downstreamClient = client;
        using var upstreamClient = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        try
        {
            await upstreamClient.ConnectAsync(upstream, stop);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var pending = new ConcurrentDictionary<int, string>();
            var fromClient = client.GetStream();
            var toBroker = upstreamClient.GetStream();
            var requests = PumpRequestsAsync(fromClient, toBroker, pending, outDir, linked.Token);
            var responses = PumpResponsesAsync(toBroker, fromClient, pending, outDir, linked.Token);
            await Task.WhenAny(requests, responses);
            await linked.CancelAsync();
            client.Close();
            upstreamClient.Close();
            await Task.WhenAll(Quietly(requests), Quietly(responses));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
        {
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task PumpRequestsAsync(Stream from, Stream to, ConcurrentDictionary<int, string> pending, string outDir, CancellationToken cancel)
    {
        while (await ReadFrameAsync(from, cancel) is { } frame)
        {
            var (apiKey, apiVersion, correlationId) = RequestHeader.Peek(frame.AsSpan(4));
            var api = ApiNames.TryGetValue(apiKey, out var name) ? name : $"Api{apiKey}";
            var stem = $"{ClientLabel(frame.AsSpan(4))}-{api}-v{apiVersion}-{Interlocked.Increment(ref _sequence)}";
            pending[correlationId] = stem;
            await File.WriteAllBytesAsync(Path.Combine(outDir, stem + ".req.bin"), frame.AsMemory(4), cancel);
            await to.WriteAsync(frame, cancel);
        }
    }

    private static async Task PumpResponsesAsync(Stream from, Stream to, ConcurrentDictionary<int, string> pending, string outDir, CancellationToken cancel)
    {
        while (await ReadFrameAsync(from, cancel) is { } frame)
        {
            var correlationId = frame.Length >= 8 ? BinaryPrimitives.ReadInt32BigEndian(frame.AsSpan(4)) : -1;
            var stem = pending.TryRemove(correlationId, out var known) ? known : $"unmatched-{correlationId}";
            await File.WriteAllBytesAsync(Path.Combine(outDir, stem + ".resp.bin"), frame.AsMemory(4), cancel);
            await to.WriteAsync(frame, cancel);
        }
    }

    /// <summary>The client id of a request frame (header v1 and v2 both carry it as a classic nullable string after 8 bytes).</summary>
    private static string ClientLabel(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 10) return "unknown";
        var length = BinaryPrimitives.ReadInt16BigEndian(frame[8..]);
        if (length < 0 || frame.Length < 10 + length) return "unknown";
        var id = Encoding.UTF8.GetString(frame.Slice(10, length));
        var label = new StringBuilder(id.Length);
        foreach (var c in id) label.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' ? c : '_');
        return label.Length > 0 ? label.ToString() : "unknown";
    }

    /// <summary>One whole frame including its size prefix, or null at a clean end of stream.</summary>
    private static async Task<byte[]?> ReadFrameAsync(Stream stream, CancellationToken cancel)
    {
        var prefix = new byte[4];
        var got = await stream.ReadAtLeastAsync(prefix, 4, throwOnEndOfStream: false, cancel);
        if (got < 4) return null;
        var size = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (size is < 0 or > MaxFrameBytes) throw new IOException($"Frame size {size} is out of range.");
        var frame = new byte[4 + size];
        prefix.CopyTo(frame, 0);
        await stream.ReadExactlyAsync(frame.AsMemory(4), cancel);
        return frame;
    }
}
