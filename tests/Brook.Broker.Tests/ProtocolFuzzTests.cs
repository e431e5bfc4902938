using System.Buffers.Binary;
using System.Net.Sockets;
using Brook.Broker.Network;
using Brook.Fuzz;
using Brook.Protocol.Messages;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using ErrorCode = Brook.Protocol.ErrorCode;

namespace Brook.Broker.Tests;

/// <summary>
/// Hostile input at scale: the mutational fuzzer of tools/Brook.Fuzz over every API (a short run; scripts/fuzz.sh runs
/// millions of inputs), the inputs it once found replayed as regressions, and fuzzed frames over real sockets while a
/// real producer keeps working.
/// </summary>
public sealed class ProtocolFuzzTests(ITestOutputHelper output)
{
    private static string RegressionDirectory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "fuzz");

    [Fact]
    public async Task Twenty_thousand_mutated_client_frames_find_no_crash_hang_or_unbounded_allocation()
    {
        // A fixed number of inputs, not a rate: a slow machine takes longer (up to the generous time bound) instead of failing.
        var report = await Fuzzer.RunAsync(new FuzzOptions { MaxExecutions = 20_000, Duration = TimeSpan.FromMinutes(5), Seed = 20_260_101, Log = output.WriteLine });
        output.WriteLine(report.Summary());

        Assert.True(report.Findings.Count == 0, string.Join("\n\n", report.Findings.Select(f => $"{f.Kind} in {f.Api} v{f.Version}: {f.Detail}\ninput: {Convert.ToHexString(f.Input)}")));
        Assert.True(report.Executions >= 20_000, $"only {report.Executions} executions within the time bound");
        // Every API the broker serves was reached, and inputs both passed the decoder and were refused by it.
        await using var broker = await BrookBroker.StartAsync();
        foreach (var handler in broker.Services.GetRequiredService<RequestDispatcher>().Handlers)
        {
            var name = ApiCatalog.All.Single(a => a.Key == handler.ApiKey).Name;
            Assert.True(report.ByApi.GetValueOrDefault(name) >= 50, $"{name} got {report.ByApi.GetValueOrDefault(name)} inputs");
        }
        Assert.True(report.Outcomes.GetValueOrDefault("ok") > 1_000 && report.Outcomes.GetValueOrDefault("closed") > 1_000, report.Summary());
        Assert.True(report.CanaryChecks > 1_000);
    }

    [Fact]
    public async Task Inputs_the_fuzzer_once_found_replay_without_a_finding()
    {
        var files = Directory.GetFiles(RegressionDirectory, "*.bin").Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 2, $"no regression inputs in {RegressionDirectory}");

        var report = await Fuzzer.ReplayAsync(files.Select(File.ReadAllBytes), new FuzzOptions { InputDeadline = TimeSpan.FromSeconds(5) });

        Assert.Equal(files.Count, report.Executions);
        Assert.True(report.Findings.Count == 0, string.Join("\n", report.Findings.Select(f => $"{f.Kind} in {f.Api} v{f.Version}: {f.Detail}")));
    }

    [Fact]
    public async Task Config_changes_naming_a_config_twice_are_invalid_requests()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "configs", 1);
        using var client = await RawClient.ConnectAsync(broker);
        var twice = new AlterConfigsRequest
        {
            Resources = [new AlterConfigsRequest.AlterConfigsResource
            {
                ResourceType = 2,
                ResourceName = "configs",
                Configs = [new AlterConfigsRequest.AlterableConfig { Name = "retention.ms", Value = "1000" }, new AlterConfigsRequest.AlterableConfig { Name = "retention.ms", Value = "2000" }],
            }],
        };
        var response = await client.SendAsync<AlterConfigsResponse>(twice, 0);
        Assert.Equal((short)ErrorCode.InvalidRequest, response.Responses[0].ErrorCode);

        var incremental = new IncrementalAlterConfigsRequest
        {
            Resources = [new IncrementalAlterConfigsRequest.AlterConfigsResource
            {
                ResourceType = 2,
                ResourceName = "configs",
                Configs = [new IncrementalAlterConfigsRequest.AlterableConfig { Name = "retention.ms", Value = "1000" }, new IncrementalAlterConfigsRequest.AlterableConfig { Name = "retention.ms", ConfigOperation = 1 }],
            }],
        };
        var incrementalResponse = await client.SendAsync<IncrementalAlterConfigsResponse>(incremental, 1);
        Assert.Equal((short)ErrorCode.InvalidRequest, incrementalResponse.Responses[0].ErrorCode);
        Assert.DoesNotContain(broker.Store.GetTopic("configs")!.Configs.Keys, k => k == "retention.ms");
    }

    [Fact]
    public async Task A_request_for_millions_of_partitions_is_a_policy_violation_not_an_allocation()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "small", 1);
        using var client = await RawClient.ConnectAsync(broker);

        var grow = await client.SendAsync<CreatePartitionsResponse>(new CreatePartitionsRequest
        {
            Topics = [new CreatePartitionsRequest.CreatePartitionsTopic { Name = "small", Count = 268_435_584 }],
            TimeoutMs = 1000,
        }, 3);
        Assert.Equal((short)ErrorCode.PolicyViolation, grow.Results[0].ErrorCode);
        Assert.Equal(1, broker.Store.GetTopic("small")!.PartitionCount);

        var create = await client.SendAsync<CreateTopicsResponse>(new CreateTopicsRequest
        {
            Topics =
            [
                new CreateTopicsRequest.CreatableTopic { Name = "big-a", NumPartitions = 6_000, ReplicationFactor = 1 },
                new CreateTopicsRequest.CreatableTopic { Name = "big-b", NumPartitions = 6_000, ReplicationFactor = 1 },
            ],
            TimeoutMs = 1000,
        }, 7);
        Assert.All(create.Topics, t => Assert.Equal((short)ErrorCode.PolicyViolation, t.ErrorCode));
        Assert.Null(broker.Store.GetTopic("big-a"));

        var fine = await client.SendAsync<CreatePartitionsResponse>(new CreatePartitionsRequest
        {
            Topics = [new CreatePartitionsRequest.CreatePartitionsTopic { Name = "small", Count = 4 }],
            TimeoutMs = 1000,
        }, 3);
        Assert.Equal((short)ErrorCode.None, fine.Results[0].ErrorCode);
    }

    [Fact]
    public async Task Fuzzed_frames_over_sockets_close_only_their_own_connections_while_a_real_producer_carries_on()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "steady", 1);
        using var producer = Clients.Producer(broker, c =>
        {
            c.Acks = Acks.All;
            c.EnableIdempotence = true;
            c.LingerMs = 1;
        });
        using var stop = new CancellationTokenSource();
        var acked = new List<string>();
        var producing = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var value = $"steady-{i}";
                await producer.ProduceAsync("steady", new Message<string, string> { Key = "k", Value = value });
                acked.Add(value);
            }
        });

        var apis = broker.Services.GetRequiredService<RequestDispatcher>().Handlers.Select(h => (h.ApiKey, h.MinVersion, h.MaxVersion)).ToList();
        var seeds = SeedCorpus.Load(apis).Select(s => s.Frame).ToList();
        var mutator = new Mutator(new Random(7), apis);
        var random = new Random(8);
        using var bystander = await RawClient.ConnectAsync(broker);
        int answered = 0, closedByBroker = 0, abandoned = 0;
        for (var i = 0; i < 300; i++)
        {
            var frame = random.Next(10) == 0 ? Garbage(random) : Framed(mutator.Mutate(seeds[random.Next(seeds.Count)], seeds));
            switch (await SendAndWatchAsync(broker, frame))
            {
                case Outcome.Answered:
                    answered++;
                    break;
                case Outcome.Closed:
                    closedByBroker++;
                    break;
                default:
                    abandoned++;
                    break;
            }
            if (i % 50 == 0) Assert.Equal((short)ErrorCode.None, (await bystander.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 2)).ErrorCode);
        }
        var ackedDuringAttack = acked.Count;
        await stop.CancelAsync();
        await producing; // a failed delivery would surface here as a ProduceException

        output.WriteLine($"{answered} answered, {closedByBroker} closed by the broker, {abandoned} still waiting when dropped; {ackedDuringAttack} messages acknowledged meanwhile");
        Assert.True(closedByBroker > 50 && answered > 10, $"{answered} answered, {closedByBroker} closed");
        Assert.True(ackedDuringAttack > 20, $"the producer got only {ackedDuringAttack} acknowledgements during the attack");
        var read = Clients.ConsumeAll(broker, "steady", 1, acked.Count);
        Assert.Equal(acked, read.Select(r => r.Message.Value));
    }

    private enum Outcome
    {
        Answered,
        Closed,
        StillWaiting,
    }

    /// <summary>Sends one frame on a fresh connection and waits up to 2 s for a response frame or the broker closing it.</summary>
    private static async Task<Outcome> SendAndWatchAsync(BrookBroker broker, byte[] frame)
    {
        var endpoint = broker.Node.AdvertisedListeners[0];
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endpoint.Host, endpoint.Port);
        var stream = tcp.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await stream.WriteAsync(frame, timeout.Token);
            var prefix = new byte[4];
            var read = 0;
            while (read < 4)
            {
                var n = await stream.ReadAsync(prefix.AsMemory(read), timeout.Token);
                if (n == 0) return Outcome.Closed;
                read += n;
            }
            return Outcome.Answered;
        }
        catch (IOException)
        {
            return Outcome.Closed;
        }
        catch (OperationCanceledException)
        {
            return Outcome.StillWaiting;
        }
    }

    private static byte[] Framed(byte[] frame)
    {
        var framed = new byte[frame.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(framed, frame.Length);
        frame.CopyTo(framed, 4);
        return framed;
    }

    /// <summary>Random bytes, size prefix included: mostly an absurd length or a truncated frame.</summary>
    private static byte[] Garbage(Random random)
    {
        var bytes = new byte[4 + random.Next(64)];
        random.NextBytes(bytes);
        return bytes;
    }
}
