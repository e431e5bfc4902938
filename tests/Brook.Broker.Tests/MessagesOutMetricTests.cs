using System.Globalization;
using Confluent.Kafka;

namespace Brook.Broker.Tests;

/// <summary>topic.messages_out counts the records fetches return, read from batch headers.</summary>
public sealed class MessagesOutMetricTests
{
    [Fact]
    public async Task Records_fetched_by_a_real_consumer_are_counted_once_each()
    {
        await using var broker = await BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            HttpListeners = ["http://127.0.0.1:0"],
        });
        await Clients.CreateTopicAsync(broker, "counted-out", 2);
        using (var producer = Clients.Producer(broker))
        {
            for (var i = 0; i < 40; i++) producer.Produce("counted-out", new Message<string, string> { Key = "k" + i, Value = "v" + i });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        Assert.Equal(40, Clients.ConsumeAll(broker, "counted-out", 2, expected: 40).Count);

        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        var lines = (await http.GetStringAsync("/metrics")).Split('\n')
            .Where(l => l.StartsWith("brook_topic_messages_out_total{", StringComparison.Ordinal) && l.Contains("topic=\"counted-out\"", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(40, lines.Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void A_cut_off_batch_at_the_end_of_a_fetch_is_not_counted()
    {
        var batch = new byte[Protocol.Records.RecordBatchHeader.Size + 20];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(Protocol.Records.RecordBatchHeader.LengthPosition), batch.Length - 12);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(Protocol.Records.RecordBatchHeader.RecordCountPosition), 3);
        var twoAndAHalf = batch.Concat(batch).Concat(batch.AsSpan(0, 70).ToArray()).ToArray();
        Assert.Equal(6, Telemetry.BrokerMetrics.CountRecords(twoAndAHalf));
        var control = (byte[])batch.Clone();
        control[Protocol.Records.RecordBatchHeader.AttributesPosition + 1] = 0x20;
        Assert.Equal(3, Telemetry.BrokerMetrics.CountRecords(batch.Concat(control).ToArray()));
        Assert.Equal(0, Telemetry.BrokerMetrics.CountRecords(new byte[10]));
    }
}
