using System.Net;
using Confluent.Kafka;

namespace Brook.Broker.Tests;

public sealed class MetricsTests
{
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
        Assert.Contains(lines, l => l.StartsWith("brook_requests{", StringComparison.Ordinal) && l.Contains("api=\"Produce\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("brook_request_duration", StringComparison.Ordinal));
        var messagesIn = lines.Single(l => l.StartsWith("brook_topic_messages_in{", StringComparison.Ordinal) && l.Contains("topic=\"metered\"", StringComparison.Ordinal));
        Assert.Equal(25, double.Parse(messagesIn[(messagesIn.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var endOffsets = lines.Where(l => l.StartsWith("brook_partition_log_end_offset{", StringComparison.Ordinal) && l.Contains("topic=\"metered\"", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, endOffsets.Count);
        Assert.Equal(25, endOffsets.Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains(lines, l => l.StartsWith("brook_topic_bytes_out{", StringComparison.Ordinal) && l.Contains("topic=\"metered\"", StringComparison.Ordinal));
    }
}
