using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Brook.Broker.Network;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using ErrorCode = Brook.Protocol.ErrorCode;

namespace Brook.Broker.Tests;

/// <summary>
/// The network's resource bounds, set with Kafka's config names: max.connections, max.connections.per.ip (with
/// overrides), socket.request.max.bytes, queued.max.request.bytes, back-pressure on clients that do not read their
/// responses, and connections.max.idle.ms.
/// </summary>
public sealed class ResourceLimitTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static Task<BrookBroker> StartAsync(params (string Name, string Value)[] configs) =>
        BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            Configs = configs.ToDictionary(c => c.Name, c => c.Value),
        });

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Deadline) Assert.Fail($"Timed out waiting for {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>A connection from <paramref name="localAddress"/> (any 127/8 address works on Linux loopback).</summary>
    private static async Task<Socket> ConnectFromAsync(BrookBroker broker, IPAddress localAddress)
    {
        var endpoint = broker.Node.AdvertisedListeners[0];
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(localAddress, 0));
        await socket.ConnectAsync(IPAddress.Parse(endpoint.Host), endpoint.Port);
        return socket;
    }

    /// <summary>True when the broker answers an ApiVersions request on <paramref name="socket"/>, false when it closed it.</summary>
    private static async Task<bool> AnswersAsync(Socket socket)
    {
        try
        {
            await socket.SendAsync(Frame(new ApiVersionsRequest(), 2, correlationId: 1));
            return await ReadFrameAsync(socket) is not null;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static byte[] Frame(IApiMessage request, short version, int correlationId)
    {
        var descriptor = ApiCatalog.All.Single(a => a.Key == request.ApiKey);
        using var writer = new ProtocolWriter();
        writer.WriteInt32(0);
        new RequestHeader { ApiKey = request.ApiKey, ApiVersion = version, CorrelationId = correlationId, ClientId = "limits" }.Write(writer, descriptor.RequestHeaderVersion(version));
        request.Write(writer, version);
        writer.PatchInt32(0, writer.Length - 4);
        return writer.WrittenSpan.ToArray();
    }

    private static async Task<byte[]?> ReadFrameAsync(Socket socket)
    {
        var prefix = new byte[4];
        if (!await ReadExactlyAsync(socket, prefix)) return null;
        var body = new byte[BinaryPrimitives.ReadInt32BigEndian(prefix)];
        return await ReadExactlyAsync(socket, body) ? body : null;
    }

    private static async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, timeout.Token);
            }
            catch (SocketException)
            {
                return false;
            }
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    private static ProduceRequest Produce(string topic, int valueBytes)
    {
        using var builder = new RecordBatchBuilder();
        builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, new byte[valueBytes]);
        return new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new ProduceRequest.TopicProduceData { Name = topic, PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = builder.ToArray() }] }],
        };
    }

    [Fact]
    public async Task Connections_beyond_max_connections_are_closed_until_others_close()
    {
        await using var broker = await StartAsync(("max.connections", "3"));
        var limits = broker.Services.GetRequiredService<ConnectionLimits>();
        var open = new List<Socket>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                open.Add(await ConnectFromAsync(broker, IPAddress.Loopback));
                Assert.True(await AnswersAsync(open[^1]));
            }
            using (var fourth = await ConnectFromAsync(broker, IPAddress.Loopback))
                Assert.False(await AnswersAsync(fourth));

            open[0].Dispose();
            await WaitUntilAsync(() => limits.OpenConnections == 2, "the closed connection to be counted out");
            using var replacement = await ConnectFromAsync(broker, IPAddress.Loopback);
            Assert.True(await AnswersAsync(replacement));
        }
        finally
        {
            foreach (var socket in open) socket.Dispose();
        }
    }

    [Fact]
    public async Task Connections_beyond_max_connections_per_ip_are_closed_and_overrides_raise_one_address()
    {
        await using var broker = await StartAsync(("max.connections.per.ip", "2"), ("max.connections.per.ip.overrides", "127.0.0.2:4"));
        var other = IPAddress.Parse("127.0.0.2");
        var open = new List<Socket>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                open.Add(await ConnectFromAsync(broker, IPAddress.Loopback));
                Assert.True(await AnswersAsync(open[^1]));
            }
            using (var third = await ConnectFromAsync(broker, IPAddress.Loopback))
                Assert.False(await AnswersAsync(third));

            // Another address has its own count, and its override.
            for (var i = 0; i < 4; i++)
            {
                open.Add(await ConnectFromAsync(broker, other));
                Assert.True(await AnswersAsync(open[^1]), $"connection {i + 1} from 127.0.0.2");
            }
            using var fifth = await ConnectFromAsync(broker, other);
            Assert.False(await AnswersAsync(fifth));
        }
        finally
        {
            foreach (var socket in open) socket.Dispose();
        }
    }

    [Fact]
    public async Task A_request_above_socket_request_max_bytes_closes_its_connection_and_the_limit_is_described()
    {
        await using var broker = await StartAsync(("socket.request.max.bytes", "2000"));
        await Clients.CreateTopicAsync(broker, "small", 1);
        using var client = await RawClient.ConnectAsync(broker);
        var ok = await client.SendAsync<ProduceResponse>(Produce("small", 500), 9);
        Assert.Equal((short)ErrorCode.None, ok.Responses[0].PartitionResponses[0].ErrorCode);

        var described = await client.SendAsync<DescribeConfigsResponse>(new DescribeConfigsRequest
        {
            Resources = [new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = "1", ConfigurationKeys = ["socket.request.max.bytes", "queued.max.request.bytes"] }],
        }, 4);
        var configs = described.Results[0].Configs.ToDictionary(c => c.Name, c => c.Value);
        Assert.Equal("2000", configs["socket.request.max.bytes"]);
        Assert.Equal((256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), configs["queued.max.request.bytes"]);

        // Only the 4-byte size is needed to refuse it: the body is never sent.
        var tooBig = Frame(Produce("small", 3000), 9, correlationId: 9);
        await client.SendRawAsync(tooBig.AsMemory(0, 4));
        Assert.Null(await client.ReadFrameAsync());
        Assert.Equal(1, broker.Store.GetPartition("small", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task Requests_wait_for_memory_when_queued_max_request_bytes_is_spent()
    {
        await using var broker = await StartAsync(("queued.max.request.bytes", "100000"));
        await Clients.CreateTopicAsync(broker, "budget", 1);
        var pool = broker.Services.GetRequiredService<RequestMemoryPool>();
        var large = Frame(Produce("budget", 90_000), 9, correlationId: 1);
        var medium = Frame(Produce("budget", 50_000), 9, correlationId: 2);
        using var slow = await ConnectFromAsync(broker, IPAddress.Loopback);
        using var waiting = await ConnectFromAsync(broker, IPAddress.Loopback);

        // The slow client announces 90 kB and sends half: the broker holds the 90 kB from the size prefix on.
        await slow.SendAsync(large.AsMemory(0, large.Length / 2));
        await WaitUntilAsync(() => pool.Used == large.Length - 4, "the large request's memory to be taken");
        // 90 kB + 50 kB exceed the budget: the second request waits, its body not yet read.
        await waiting.SendAsync(medium);
        await WaitUntilAsync(() => pool.Waiting == 1, "the second request to wait for memory");
        var answer = ReadFrameAsync(waiting);
        Assert.False(answer.IsCompleted);
        Assert.Equal(0, broker.Store.GetPartition("budget", 0)!.LogEndOffset);

        await slow.SendAsync(large.AsMemory(large.Length / 2));
        Assert.NotNull(await ReadFrameAsync(slow));
        Assert.NotNull(await answer);
        Assert.Equal(2, broker.Store.GetPartition("budget", 0)!.LogEndOffset);
        await WaitUntilAsync(() => pool.Used == 0, "all request memory to be given back");
    }

    [Fact]
    public async Task A_client_that_never_reads_its_responses_is_no_longer_read_and_does_not_grow_broker_memory()
    {
        await using var broker = await StartAsync();
        await Clients.CreateTopicAsync(broker, "wide", 1);
        using (var producer = await RawClient.ConnectAsync(broker))
        {
            for (var i = 0; i < 4; i++) await producer.SendAsync<ProduceResponse>(Produce("wide", 250_000), 9);
        }
        // Each fetch asks for the whole megabyte, so a broker that kept answering would pile up a megabyte per request.
        var fetch = new FetchRequest
        {
            MaxWaitMs = 0,
            MaxBytes = 4 << 20,
            Topics = [new FetchRequest.FetchTopic { Topic = "wide", Partitions = [new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 4 << 20 }] }],
        };
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        using var greedy = await ConnectFromAsync(broker, IPAddress.Loopback);
        var sent = 0;
        var sentBytes = 0L;
        while (sentBytes < 64L << 20)
        {
            var frame = Frame(fetch, 11, correlationId: sent + 1);
            using var stalled = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await greedy.SendAsync(frame, SocketFlags.None, stalled.Token);
            }
            catch (OperationCanceledException)
            {
                break; // the broker stopped reading: TCP pushes back on the client
            }
            sent++;
            sentBytes += frame.Length;
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var heapGrowth = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        output.WriteLine($"{sent} fetches ({sentBytes / 1024} KiB) sent before the broker stopped reading; managed heap grew {heapGrowth / 1024 / 1024} MiB");

        Assert.True(sentBytes < 64L << 20, "the broker kept reading requests from a client that takes no responses");
        Assert.True(heapGrowth < 64L << 20, $"the managed heap grew by {heapGrowth / 1024 / 1024} MiB");
        // Others are served meanwhile.
        using var bystander = await RawClient.ConnectAsync(broker);
        Assert.Equal((short)ErrorCode.None, (await bystander.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 2)).ErrorCode);
        // Once the client reads, its responses come in order.
        for (var i = 1; i <= 3; i++)
        {
            var response = await ReadFrameAsync(greedy);
            Assert.NotNull(response);
            Assert.Equal(i, BinaryPrimitives.ReadInt32BigEndian(response));
        }
    }

    [Fact]
    public async Task A_connection_idle_for_connections_max_idle_ms_is_closed_but_a_long_poll_is_not_idleness()
    {
        await using var broker = await StartAsync(("connections.max.idle.ms", "400"));
        await Clients.CreateTopicAsync(broker, "quiet", 1);
        using var client = await RawClient.ConnectAsync(broker);
        // A fetch waiting 1.5 s for data outlives the idle timeout: it is the broker's wait, not the client's silence.
        var clock = Stopwatch.StartNew();
        var polled = await client.SendAsync<FetchResponse>(new FetchRequest
        {
            MaxWaitMs = 1500,
            MinBytes = 1,
            MaxBytes = 1 << 20,
            Topics = [new FetchRequest.FetchTopic { Topic = "quiet", Partitions = [new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        }, 11);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(1400), $"the long poll returned after {clock.ElapsedMilliseconds} ms");
        Assert.Equal((short)ErrorCode.None, polled.Responses[0].Partitions[0].ErrorCode);

        // Then silence: the broker closes the connection.
        clock.Restart();
        Assert.Null(await client.ReadFrameAsync());
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(300), $"closed after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_client_that_stops_reading_responses_is_closed_after_the_idle_timeout()
    {
        await using var broker = await StartAsync(("connections.max.idle.ms", "500"));
        await Clients.CreateTopicAsync(broker, "wide", 1);
        using (var producer = await RawClient.ConnectAsync(broker))
            await producer.SendAsync<ProduceResponse>(Produce("wide", 900_000), 9);
        var limits = broker.Services.GetRequiredService<ConnectionLimits>();
        var fetch = Frame(new FetchRequest
        {
            MaxWaitMs = 0,
            MaxBytes = 1 << 20,
            Topics = [new FetchRequest.FetchTopic { Topic = "wide", Partitions = [new FetchRequest.FetchPartition { Partition = 0, FetchOffset = 0, PartitionMaxBytes = 1 << 20 }] }],
        }, 11, correlationId: 1);
        using var stuck = await ConnectFromAsync(broker, IPAddress.Loopback);
        stuck.ReceiveBufferSize = 4096;
        // More responses than the socket buffers hold, none read.
        for (var i = 0; i < 20; i++) await stuck.SendAsync(fetch);
        await WaitUntilAsync(() => limits.OpenConnections == 0, "the broker to close the connection that takes no responses");
    }
}
