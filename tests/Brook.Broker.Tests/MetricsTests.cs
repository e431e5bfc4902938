using System.Globalization;
using System.Net;
using Confluent.Kafka;

namespace Brook.Broker.Tests;

public sealed class MetricsTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>The value of the one series named <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    private static double? Value(string text, string name, params string[] labels)
    {
        var lines = text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal))
            .Where(l => labels.All(label => l.Contains(label, StringComparison.Ordinal))).ToList();
        return lines.Count switch
        {
            0 => null,
            1 => double.Parse(lines[0][(lines[0].LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture),
            _ => throw new InvalidOperationException($"{lines.Count} series of {name} match {string.Join(",", labels)}:\n{string.Join("\n", lines)}"),
        };
    }

    /// <summary>Scrapes until the condition holds on the text (instruments may be evaluated from a snapshot up to a second old).</summary>
    private static async Task<string> ScrapeUntilAsync(HttpClient http, Func<string, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var text = await http.GetStringAsync("/metrics");
            if (condition(text)) return text;
            if (DateTime.UtcNow > deadline) Assert.Fail($"/metrics never showed {what}. Last scrape:\n{text}");
            await Task.Yield();
        }
    }

    [Theory]
    [InlineData("127.0.0.1:9080")]
    [InlineData("https://127.0.0.1:9080")]
    public async Task A_malformed_http_listener_fails_the_start_with_a_clear_message(string listener)
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            HttpListeners = [listener],
        }));
        Assert.Equal($"HTTP listener '{listener}' must look like http://HOST:PORT.", refused.Message);
    }

    [Fact]
    public async Task Metrics_and_health_are_served_over_http()
    {
        await using var broker = await BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            HttpListeners = ["http://127.0.0.1:0"],
        });
        await Clients.CreateTopicAsync(broker, "metered", 2);
        using (var producer = Clients.Producer(broker))
        {
            for (var i = 0; i < 25; i++) await producer.ProduceAsync("metered", new Message<string, string> { Key = "k" + i, Value = "v" });
        }
        Clients.ConsumeAll(broker, "metered", 2, expected: 25);

        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        var text = await http.GetStringAsync("/metrics");
        var lines = text.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("brook_requests_total{", StringComparison.Ordinal) && l.Contains("api=\"Produce\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("brook_request_duration_seconds", StringComparison.Ordinal));
        // Request times are bucketed from 100 us (the instrument's advice), not from the default 5 ms.
        Assert.Contains(lines, l => l.StartsWith("brook_request_duration_seconds_bucket{api=\"Produce\",le=\"0.0001\"}", StringComparison.Ordinal));
        var messagesIn = lines.Single(l => l.StartsWith("brook_topic_messages_in_total{", StringComparison.Ordinal) && l.Contains("topic=\"metered\"", StringComparison.Ordinal));
        Assert.Equal(25, double.Parse(messagesIn[(messagesIn.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        var endOffsets = lines.Where(l => l.StartsWith("brook_partition_log_end_offset{", StringComparison.Ordinal) && l.Contains("topic=\"metered\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, endOffsets.Count);
        Assert.Equal(25, endOffsets.Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)));
        Assert.Contains(lines, l => l.StartsWith("brook_topic_bytes_out_total{", StringComparison.Ordinal) && l.Contains("topic=\"metered\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Lag_of_a_real_consumer_group_is_produced_minus_committed_in_messages_and_in_seconds()
    {
        await using var broker = await BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            HttpListeners = ["http://127.0.0.1:0"],
            Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
        });
        await Clients.CreateTopicAsync(broker, "lagged", 2);
        var hourAgo = DateTimeOffset.UtcNow.AddHours(-1);
        using (var producer = Clients.Producer(broker))
        {
            // Partition 0: ten records stamped an hour ago; partition 1: four records stamped now.
            for (var i = 0; i < 10; i++)
                await producer.ProduceAsync(new TopicPartition("lagged", 0), new Message<string, string> { Key = "old" + i, Value = "v", Timestamp = new Timestamp(hourAgo.AddSeconds(i)) });
            for (var i = 0; i < 4; i++)
                await producer.ProduceAsync(new TopicPartition("lagged", 1), new Message<string, string> { Key = "new" + i, Value = "v" });
        }

        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        var consumer = Clients.Consumer(broker, c =>
        {
            c.GroupId = "lag-metrics";
            c.SessionTimeoutMs = 6000;
            c.HeartbeatIntervalMs = 300;
        });
        try
        {
            consumer.Subscribe("lagged");
            var read = new List<ConsumeResult<string, string>>();
            var deadline = DateTime.UtcNow + Deadline;
            while (read.Count < 14)
            {
                if (DateTime.UtcNow > deadline) Assert.Fail($"Read {read.Count} of 14 records.");
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) read.Add(r);
            }
            // Processed three records of partition 0 (the next to read is offset 3) and all of partition 1.
            consumer.Commit([new TopicPartitionOffset("lagged", 0, 3), new TopicPartitionOffset("lagged", 1, 4)]);

            const string group = "group=\"lag-metrics\"";
            var text = await ScrapeUntilAsync(http, t => Value(t, "brook_group_lag", group, "partition=\"0\"") is not null, "the group's lag");
            Assert.Equal(10 - 3, Value(text, "brook_group_lag", group, "topic=\"lagged\"", "partition=\"0\""));
            Assert.Equal(0, Value(text, "brook_group_lag", group, "topic=\"lagged\"", "partition=\"1\""));
            // The first unconsumed record (offset 3) was stamped an hour ago plus three seconds.
            var seconds = Value(text, "brook_group_lag_seconds", group, "partition=\"0\"")!.Value;
            Assert.InRange(seconds, 3600 - 3 - 1, 3600 - 3 + 120);
            Assert.Equal(0, Value(text, "brook_group_lag_seconds", group, "partition=\"1\""));
            Assert.Equal(1, Value(text, "brook_group_members", group, "state=\"Stable\"", "type=\"classic\""));
            Assert.True(Value(text, "brook_groups", "state=\"Stable\"") >= 1);
        }
        finally
        {
            consumer.Close();
            consumer.Dispose();
        }

        var empty = await ScrapeUntilAsync(http, t => Value(t, "brook_group_members", "group=\"lag-metrics\"", "state=\"Empty\"") is not null, "the group empty");
        Assert.Equal(0, Value(empty, "brook_group_members", "group=\"lag-metrics\"", "state=\"Empty\""));
        Assert.Equal(7, Value(empty, "brook_group_lag", "group=\"lag-metrics\"", "partition=\"0\""));
    }

    [Fact]
    public async Task Fsync_latency_and_disk_usage_are_measured_on_a_disk_broker()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "brook-metrics-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var broker = await BrookBroker.StartAsync(new BrokerOptions
            {
                Listeners = ["PLAINTEXT://127.0.0.1:0"],
                DataDirectory = dataDir,
                HttpListeners = ["http://127.0.0.1:0"],
            });
            using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
            // The flush histogram is process-wide (storage has no per-broker instruments): compare before and after.
            var before = Value(await http.GetStringAsync("/metrics"), "brook_storage_flush_duration_seconds_count") ?? 0;

            await Clients.CreateTopicAsync(broker, "synced", 1);
            using (var producer = Clients.Producer(broker, p => p.LingerMs = 0))
            {
                // Acknowledged one at a time: each append waits for its own fsync (flush.messages=1 by default).
                for (var i = 0; i < 20; i++) await producer.ProduceAsync("synced", new Message<string, string> { Key = "k" + i, Value = new string('x', 1000) });
            }

            var text = await http.GetStringAsync("/metrics");
            Assert.True(Value(text, "brook_storage_flush_duration_seconds_count") - before >= 20, "fewer than one fsync per acknowledged append was measured");
            Assert.True(Value(text, "brook_storage_flush_duration_seconds_sum") > 0);
            var used = Value(text, "brook_disk_used_bytes", $"directory=\"{Path.GetFullPath(dataDir)}\"");
            var size = Value(text, "brook_partition_size_bytes", "topic=\"synced\"");
            Assert.True(size >= 20 * 1000, $"partition size {size}");
            Assert.True(used >= size, $"disk used {used} < partition size {size}");
        }
        finally
        {
            if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
        }
    }
}
