using Brook.Broker;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Cli.Tests;

/// <summary>What one in-process run of the CLI printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    /// <summary>The data rows of plain (tab-separated) output, without the header row.</summary>
    public List<string[]> Rows => Lines.Skip(1).Select(l => l.Split('\t')).ToList();

    public string[] Header => Lines.Count > 0 ? Lines[0].Split('\t') : [];

    public List<string> Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();

    /// <summary>The value of <paramref name="column"/> in every row.</summary>
    public List<string> Column(string column)
    {
        var index = Array.IndexOf(Header, column);
        Assert.True(index >= 0, $"no column {column} in: {Out}");
        return Rows.Select(r => r[index]).ToList();
    }

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Out}\nstderr:\n{Error}";
}

/// <summary>Runs the brook CLI in-process against a broker, capturing its output.</summary>
internal static class Cli
{
    public static Task<CliResult> RunAsync(BrookBroker broker, params string[] args) => RunWithInputAsync(broker, "", args);

    public static async Task<CliResult> RunWithInputAsync(BrookBroker broker, string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync([.. args, "--bootstrap-server", broker.BootstrapServers], stdout, stderr, new StringReader(stdin));
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public static async Task<CliResult> RunAsync(CliConsole console, params string[] args)
    {
        var code = await CliApp.RunAsync(args, console);
        return new CliResult(code, console.Out.ToString() ?? "", console.Error.ToString() ?? "");
    }

    /// <summary>Asserts success and returns the result.</summary>
    public static CliResult Ok(this CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    /// <summary>Asserts a failure with this exit code and a single-line error (no stack trace) on stderr.</summary>
    public static CliResult Fails(this CliResult result, int exitCode)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit {exitCode}; {result}");
        var errorLines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("error: ", errorLines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        return result;
    }
}

/// <summary>Real Confluent.Kafka clients against the broker, to set up and check what the CLI does.</summary>
internal static class Kafka
{
    public static IAdminClient Admin(BrookBroker broker) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();

    public static IProducer<string, string> Producer(BrookBroker broker) =>
        new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 1 }).Build();

    public static IConsumer<string, string> Consumer(BrookBroker broker, string groupId, Action<ConsumerConfig>? configure = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
        };
        configure?.Invoke(config);
        return new ConsumerBuilder<string, string>(config).Build();
    }

    public static async Task CreateTopicAsync(BrookBroker broker, string name, int partitions)
    {
        using var admin = Admin(broker);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    /// <summary>Produces <paramref name="counts"/>[p] messages to each partition p, keyed "k{p}", valued "p{p}-{i}".</summary>
    public static async Task FillAsync(BrookBroker broker, string topic, params int[] counts)
    {
        using var producer = Producer(broker);
        for (var p = 0; p < counts.Length; p++)
        {
            for (var i = 0; i < counts[p]; i++)
                await producer.ProduceAsync(new TopicPartition(topic, p), new Message<string, string> { Key = $"k{p}", Value = $"p{p}-{i}" });
        }
    }

    /// <summary>Reads every partition from the start (no group) until <paramref name="expected"/> messages arrived or a deadline passed.</summary>
    public static List<ConsumeResult<string, string>> ReadAll(BrookBroker broker, string topic, int partitions, int expected)
    {
        using var consumer = Consumer(broker, "reader-" + Guid.NewGuid().ToString("N"));
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (results.Count < expected && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } r) results.Add(r);
        }
        return results;
    }

    /// <summary>The group's committed offsets by partition (-1001 where none).</summary>
    public static async Task<Dictionary<int, long>> CommittedAsync(BrookBroker broker, string group, string topic)
    {
        using var admin = Admin(broker);
        var result = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, null)]);
        return result[0].Partitions.Where(p => p.Topic == topic).ToDictionary(p => p.Partition.Value, p => p.Offset.Value);
    }

    /// <summary>Polls the consumer (which runs its group protocol) until <paramref name="condition"/> holds; fails at a deadline.</summary>
    public static void PollUntil(IConsumer<string, string> consumer, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            consumer.Consume(TimeSpan.FromMilliseconds(50));
        }
    }
}

internal static class TestBroker
{
    /// <summary>An in-memory broker on a free loopback port; groups rebalance without Kafka's initial 3 s delay.</summary>
    public static Task<BrookBroker> StartAsync() => BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
    });
}
