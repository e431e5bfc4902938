using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Brook.Broker.Tests;

/// <summary>/metrics as Prometheus expects it: counters that only grow, typed and named by Prometheus' conventions.</summary>
public sealed partial class PrometheusExpositionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Counters_keep_their_totals_across_an_idle_period_and_the_exposition_passes_promtool()
    {
        await using var broker = await BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            HttpListeners = ["http://127.0.0.1:0"],
            // The idle period is measured by the broker's own clock: connections idle this long are closed.
            Configs = { ["connections.max.idle.ms"] = "300" },
        });
        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        await Clients.CreateTopicAsync(broker, "idle-kept", 1);
        using (var producer = Clients.Producer(broker))
        {
            for (var i = 0; i < 10; i++) await producer.ProduceAsync("idle-kept", new Message<string, string> { Key = "k", Value = "v" + i });
        }
        var before = await http.GetStringAsync("/metrics");
        Assert.Equal(10, Sample(before, "brook_topic_messages_in_total", "topic=\"idle-kept\""));

        // Idle: no traffic to the topic, and a connection that sends nothing until the broker closes it for idleness.
        using (var idle = new TcpClient())
        {
            await idle.ConnectAsync(IPAddress.Loopback, int.Parse(broker.BootstrapServers.Split(':')[1], CultureInfo.InvariantCulture));
            var closedAt = DateTime.UtcNow + Deadline;
            var buffer = new byte[1];
            while (await idle.GetStream().ReadAsync(buffer) > 0)
                Assert.True(DateTime.UtcNow < closedAt, "the idle connection was not closed");
        }
        var after = await ScrapeUntilAsync(http, t => Sample(t, "brook_connections") == 0, "no open connection");

        var counters = Series(before).Where(s => s.Type == "counter" || s.Name.EndsWith("_count", StringComparison.Ordinal) || s.Name.EndsWith("_sum", StringComparison.Ordinal)
            || s.Name.EndsWith("_bucket", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(counters);
        var later = Series(after).ToDictionary(s => s.Name + "{" + s.Labels + "}", s => s.Value, StringComparer.Ordinal);
        foreach (var counter in counters)
        {
            var key = counter.Name + "{" + counter.Labels + "}";
            Assert.True(later.TryGetValue(key, out var value), $"{key} disappeared after the idle period");
            Assert.True(value >= counter.Value, $"{key} went from {counter.Value} down to {value}");
        }
        Assert.Equal(10, Sample(after, "brook_topic_messages_in_total", "topic=\"idle-kept\""));
        Assert.True(Sample(after, "brook_connections_opened_total") > Sample(before, "brook_connections_opened_total"));

        Assert.Contains("# TYPE brook_request_duration_seconds histogram", after, StringComparison.Ordinal);
        Assert.Contains("# TYPE brook_requests_total counter", after, StringComparison.Ordinal);
        Assert.Contains("# TYPE brook_connections_opened_total counter", after, StringComparison.Ordinal);
        Assert.Contains("# TYPE brook_partition_size_bytes gauge", after, StringComparison.Ordinal);
        CheckExposition(after);
        await PromtoolAsync(after);
    }

    [Fact]
    public async Task Runtime_series_are_off_by_default_and_on_with_metrics_runtime_enabled()
    {
        await using (var plain = await StartAsync(runtime: false))
        {
            using var http = new HttpClient { BaseAddress = new Uri(plain.HttpAddresses[0]) };
            var text = await http.GetStringAsync("/metrics");
            Assert.All(Series(text), s => Assert.StartsWith("brook_", s.Name, StringComparison.Ordinal));
            var health = await http.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("ready", (await health.Content.ReadAsStringAsync()).Trim());
        }
        await using var withRuntime = await StartAsync(runtime: true);
        using (var http = new HttpClient { BaseAddress = new Uri(withRuntime.HttpAddresses[0]) })
        {
            var text = await ScrapeUntilAsync(http, t => t.Contains("\nkestrel_", StringComparison.Ordinal), "Kestrel's series");
            Assert.Contains(Series(text), s => s.Name == "dotnet_gc_collections_total");
            Assert.Contains("# TYPE dotnet_gc_collections_total counter", text, StringComparison.Ordinal);
            CheckExposition(text);
            await PromtoolAsync(text);
        }
    }

    private static Task<BrookBroker> StartAsync(bool runtime) => BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        HttpListeners = ["http://127.0.0.1:0"],
        Configs = { ["metrics.runtime.enabled"] = runtime ? "true" : "false" },
    });

    private sealed record SeriesLine(string Name, string Labels, double Value, string? Type);

    /// <summary>Every sample with the type of its family; fails on a sample before its family's HELP and TYPE.</summary>
    private static List<SeriesLine> Series(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var result = new List<SeriesLine>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                types[parts[2]] = parts[3];
                continue;
            }
            if (line.StartsWith('#')) continue;
            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a sample line: {line}");
            var name = match.Groups["name"].Value;
            var family = types.ContainsKey(name) ? name : HistogramSuffix().Replace(name, "");
            Assert.True(types.TryGetValue(family, out var type), $"{name} has no TYPE line before it");
            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            result.Add(new SeriesLine(name, match.Groups["labels"].Value, value, type));
        }
        return result;
    }

    /// <summary>Prometheus' naming conventions, beyond what promtool lints.</summary>
    private static void CheckExposition(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var help in lines.Where(l => l.StartsWith("# HELP ", StringComparison.Ordinal)))
        {
            // Help texts are plain: no .NET instrument types (Counter`1) or UCUM units ((By)) in them.
            Assert.DoesNotContain("`", help, StringComparison.Ordinal);
            Assert.DoesNotContain("(By)", help, StringComparison.Ordinal);
        }
        foreach (var type in lines.Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')))
        {
            Assert.True(type[3] != "counter" || type[2].EndsWith("_total", StringComparison.Ordinal), $"counter {type[2]} lacks _total");
            Assert.True(type[3] == "counter" || !type[2].EndsWith("_total", StringComparison.Ordinal), $"{type[3]} {type[2]} ends in _total");
            Assert.Contains($"# HELP {type[2]} ", text, StringComparison.Ordinal);
        }
        var series = Series(text).Select(s => s.Name + "{" + s.Labels + "}").ToList();
        Assert.Equal(series.Count, series.Distinct(StringComparer.Ordinal).Count());
    }

    /// <summary>promtool check metrics (Debian's prometheus package, installed by scripts/setup-test-deps.sh) finds nothing.</summary>
    private static async Task PromtoolAsync(string text)
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        Assert.True(promtool is not null, "promtool is missing: run scripts/setup-test-deps.sh (Debian package prometheus).");
        var start = new ProcessStartInfo(promtool, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0 && output.Trim().Length == 0, $"promtool check metrics: exit {process.ExitCode}\n{output}");
    }

    private static double? Sample(string text, string name, string? label = null) =>
        Series(text).Where(s => s.Name == name && (label is null || s.Labels.Contains(label, StringComparison.Ordinal))).Select(s => (double?)s.Value).SingleOrDefault();

    private static async Task<string> ScrapeUntilAsync(HttpClient http, Func<string, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var text = await http.GetStringAsync("/metrics");
            if (condition(text)) return text;
            if (DateTime.UtcNow > deadline) Assert.Fail($"/metrics never showed {what}. Last scrape:\n{text}");
            await Task.Delay(20);
        }
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$")]
    private static partial Regex SampleLine();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();
}
