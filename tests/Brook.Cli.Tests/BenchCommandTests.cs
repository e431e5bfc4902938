using System.Diagnostics;
using System.Text.Json;
using Brook.Broker;

namespace Brook.Cli.Tests;

public sealed class BenchCommandTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Bench_produce_creates_the_topic_and_reports_every_acknowledged_message_as_json()
    {
        // Keyless messages stick to one partition for sticky.partitioning.linger.ms (librdkafka's KIP-480 default 10 ms),
        // which a fast run can fit in; 0 spreads them per message, so all three partitions are used whatever the timing.
        var result = (await Cli.RunAsync(_broker, "bench", "produce", "load", "--count", "2000", "--size", "64", "--partitions", "3",
            "--linger-ms", "2", "--batch-size", "16384", "--compression", "lz4", "--property", "sticky.partitioning.linger.ms=0", "--json")).Ok();

        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("produce", root.GetProperty("mode").GetString());
        Assert.Equal("load", root.GetProperty("topic").GetString());
        Assert.Equal(2000, root.GetProperty("messages").GetInt64());
        Assert.Equal(2000 * 64, root.GetProperty("bytes").GetInt64());
        Assert.Equal(0, root.GetProperty("errors").GetInt64());
        Assert.True(root.GetProperty("messagesPerSecond").GetDouble() > 0);
        Assert.True(root.GetProperty("megabytesPerSecond").GetDouble() > 0);
        var latency = root.GetProperty("latencyMs");
        Assert.Equal(2000, latency.GetProperty("count").GetInt64());
        var (p50, p99, p999, max) = (latency.GetProperty("p50").GetDouble(), latency.GetProperty("p99").GetDouble(),
            latency.GetProperty("p999").GetDouble(), latency.GetProperty("max").GetDouble());
        Assert.True(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max, latency.ToString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("ackLatencyMs").ValueKind);
        Assert.Equal("lz4", root.GetProperty("settings").GetProperty("compression").GetString());
        Assert.Equal("64", root.GetProperty("settings").GetProperty("messageSize").GetString());

        var read = Kafka.ReadAll(_broker, "load", 3, 2000);
        Assert.Equal(2000, read.Count);
        Assert.All(read, r => Assert.Equal(64, r.Message.Value.Length));
        Assert.Equal(3, read.Select(r => r.Partition.Value).Distinct().Count());
    }

    [Fact]
    public async Task Bench_produce_with_keys_and_parallel_producers_prints_a_plain_report()
    {
        var result = (await Cli.RunAsync(_broker, "bench", "produce", "keyed", "--count", "1001", "--keys", "4", "--producers", "2",
            "--partitions", "2", "--acks", "1")).Ok();

        var report = result.Lines.Select(l => l.Split('\t')).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("produce", report["mode"]);
        Assert.Equal("1001", report["messages"]);
        Assert.Equal("0", report["errors"]);
        Assert.Matches(@"^p50 [\d.]+ p99 [\d.]+ p99\.9 [\d.]+ max [\d.]+ mean [\d.]+$", report["ack latency ms"]);

        var read = Kafka.ReadAll(_broker, "keyed", 2, 1001);
        Assert.Equal(1001, read.Count);
        Assert.Equal(["key-0", "key-1", "key-2", "key-3"], read.Select(r => r.Message.Key).Distinct().Order(StringComparer.Ordinal));
        // One key always lands on one partition.
        Assert.All(read.GroupBy(r => r.Message.Key), g => Assert.Single(g.Select(r => r.Partition.Value).Distinct()));
    }

    [Fact]
    public async Task Bench_consume_reads_every_message_and_stops_when_the_topic_is_drained()
    {
        (await Cli.RunAsync(_broker, "bench", "produce", "drained", "--count", "3000", "--size", "200", "--partitions", "2")).Ok();

        var counted = (await Cli.RunAsync(_broker, "bench", "consume", "drained", "--count", "3000", "--json")).Ok();
        using (var json = JsonDocument.Parse(counted.Out))
        {
            Assert.Equal("consume", json.RootElement.GetProperty("mode").GetString());
            Assert.Equal(3000, json.RootElement.GetProperty("messages").GetInt64());
            Assert.Equal(3000 * 200, json.RootElement.GetProperty("bytes").GetInt64());
            Assert.Equal("2", json.RootElement.GetProperty("settings").GetProperty("partitions").GetString());
        }

        var clock = Stopwatch.StartNew();
        var drained = (await Cli.RunAsync(_broker, "bench", "consume", "drained", "--idle-timeout", "1s", "--json")).Ok();
        using (var json = JsonDocument.Parse(drained.Out))
            Assert.Equal(3000, json.RootElement.GetProperty("messages").GetInt64());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Bench_e2e_measures_each_message_at_the_consumer_at_the_requested_rate()
    {
        var clock = Stopwatch.StartNew();
        var result = (await Cli.RunAsync(_broker, "bench", "e2e", "round-trip", "--count", "500", "--rate", "1000", "--linger-ms", "1",
            "--partitions", "2", "--json")).Ok();

        // 500 messages at 1000/s: the last leaves 499 ms after the first.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.45), $"took only {clock.Elapsed}");
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal("e2e", root.GetProperty("mode").GetString());
        Assert.Equal(500, root.GetProperty("messages").GetInt64());
        Assert.Equal(500, root.GetProperty("latencyMs").GetProperty("count").GetInt64());
        Assert.Equal(500, root.GetProperty("ackLatencyMs").GetProperty("count").GetInt64());
        var e2e = root.GetProperty("latencyMs");
        Assert.True(e2e.GetProperty("p50").GetDouble() > 0 && e2e.GetProperty("max").GetDouble() < 10_000, e2e.ToString());
        Assert.Equal("1000", root.GetProperty("settings").GetProperty("rate").GetString());
    }

    [Fact]
    public async Task Bench_on_a_terminal_shows_live_progress_while_it_runs()
    {
        var console = new CliConsole(new StringWriter(), new StringWriter(), new StringReader("")) { Interactive = true, Width = 120 };

        var result = (await Cli.RunAsync(console, "bench", "produce", "watched", "--duration", "2.5s", "--rate", "2000", "--partitions", "1",
            "--bootstrap-server", _broker.BootstrapServers)).Ok();

        var progressLines = result.Error.Split('\r').Where(l => l.Contains("msg/s", StringComparison.Ordinal)).ToList();
        Assert.True(progressLines.Count >= 2, result.Error);
        Assert.Contains("p99", progressLines[^1], StringComparison.Ordinal);
        Assert.Contains("msg/s", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_rejects_bad_settings_and_a_topic_with_other_partitions()
    {
        await Kafka.CreateTopicAsync(_broker, "two", 2);

        (await Cli.RunAsync(_broker, "bench", "produce", "two", "--count", "10", "--partitions", "3")).Fails(ExitCodes.Conflict);
        (await Cli.RunAsync(_broker, "bench", "produce", "two", "--count", "10", "--rate", "0")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "bench", "produce", "two", "--count", "10", "--acks", "2")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "bench", "e2e", "two", "--count", "10", "--size", "4")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "bench", "consume", "missing-topic", "--count", "10")).Fails(ExitCodes.NotFound);
        (await Cli.RunAsync(_broker, "bench", "produce", "two", "--count", "10", "--property", "no.such.property=1")).Fails(ExitCodes.Usage);
    }
}
