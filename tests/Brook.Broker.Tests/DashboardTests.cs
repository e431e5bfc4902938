using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Brook.Broker.Tests;

/// <summary>
/// The Grafana dashboard and Prometheus alert rules under deploy/ name only metrics the broker exports: every metric in
/// their queries appears in a scrape of a broker that has produced, consumed with a group, flushed to disk and refused
/// a record. (promtool checks the rules' syntax in scripts/client-smoke.sh.)
/// </summary>
public sealed partial class DashboardTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-dash-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    [GeneratedRegex(@"\bbrook_[a-z_]+")]
    private static partial Regex MetricName();

    private static IEnumerable<string> Queried(string text) =>
        MetricName().Matches(text).Select(m => Regex.Replace(m.Value, "_(bucket|sum|count)$", "")).Distinct(StringComparer.Ordinal);

    [Fact]
    public async Task Every_metric_the_dashboard_and_the_alerts_query_is_exported()
    {
        var deploy = Path.Combine(ExternalClients.RepositoryRoot, "deploy");
        var dashboard = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(deploy, "grafana", "brook-dashboard.json")))!;
        var expressions = dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray().Select(t => t!["expr"]!.GetValue<string>())).ToList();
        Assert.True(expressions.Count >= 12, "the dashboard lost its panels");
        var alerts = await File.ReadAllTextAsync(Path.Combine(deploy, "prometheus", "brook-alerts.yml"));
        var wanted = expressions.SelectMany(Queried).Concat(Queried(alerts)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        await using var broker = await BrookBroker.StartAsync(new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = _dataDir, HttpListeners = ["http://127.0.0.1:0"] });
        await Clients.CreateTopicAsync(broker, "dash", 1);
        await Clients.CreateTopicAsync(broker, "dash-compacted", 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" });
        using (var producer = Clients.Producer(broker, c => c.MessageTimeoutMs = 10_000))
        {
            for (var i = 0; i < 10; i++) await producer.ProduceAsync("dash", new Message<string, string> { Key = "k", Value = "v" + i });
            await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync("dash-compacted", new Message<string, string> { Key = null!, Value = "no key" }));
        }
        using (var consumer = Clients.Consumer(broker, c => c.GroupId = "dash-group"))
        {
            consumer.Subscribe("dash");
            var first = consumer.Consume(TimeSpan.FromSeconds(20));
            Assert.NotNull(first);
            consumer.Commit(first);
        }

        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<string> missing;
        do
        {
            var scrape = await http.GetStringAsync("/metrics");
            var exported = scrape.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToHashSet(StringComparer.Ordinal);
            missing = wanted.Where(n => !exported.Contains(n)).ToList();
            if (missing.Count == 0) break;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        Assert.True(missing.Count == 0, "queried but not exported: " + string.Join(", ", missing));
    }
}
