using Brook.Storage;
using Confluent.Kafka;
using Batch = Brook.Protocol.Records;

namespace Brook.Broker.Tests;

/// <summary>A compacted topic as librdkafka sees it: batches the cleaner rewrote (fewer records, a delete horizon) still consume correctly.</summary>
public sealed class CompactionClientTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task A_compacted_topic_refuses_records_without_a_key_and_keeps_the_rest()
    {
        await Clients.CreateTopicAsync(_broker, "keys-only", partitions: 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact,delete" });
        using var producer = Clients.Producer(_broker, c => c.MessageTimeoutMs = 10_000);

        var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(new TopicPartition("keys-only", 0), new Message<string, string> { Key = null!, Value = "orphan" }));
        Assert.Equal(ErrorCode.InvalidRecord, refused.Error.Code);

        var kept = await producer.ProduceAsync(new TopicPartition("keys-only", 0), new Message<string, string> { Key = "k", Value = "v" });
        Assert.Equal(0, kept.Offset.Value);
        Assert.Equal(1, _broker.Store.GetPartition("keys-only", 0)!.LogEndOffset);
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Confluent_consumer_reads_the_latest_value_per_key_and_original_timestamps_after_compaction(CompressionType compression)
    {
        var topic = "table-" + compression.ToString().ToLowerInvariant();
        await Clients.CreateTopicAsync(_broker, topic, partitions: 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" });
        var baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        var latest = new Dictionary<string, (string? Value, long Timestamp)>();
        using (var producer = Clients.Producer(_broker, c =>
        {
            c.CompressionType = compression;
            c.EnableIdempotence = true;
            c.LingerMs = 20;
        }))
        {
            for (var i = 0; i < 300; i++)
            {
                var key = "k" + (i % 12);
                // Every fortieth message deletes its key, and k2 ends deleted.
                var value = i % 40 == 39 || i == 290 ? null : "v" + i;
                producer.Produce(topic, new Message<string, string> { Key = key, Value = value!, Timestamp = new Timestamp(baseTime + i, TimestampType.CreateTime) });
                latest[key] = (value, baseTime + i);
                if (i % 25 == 24) producer.Flush(TimeSpan.FromSeconds(30)); // several batches
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
            // The newest batch is never cleaned: keep it apart from the keys above.
            producer.Produce(topic, new Message<string, string> { Key = "tail", Value = "t", Timestamp = new Timestamp(baseTime + 300, TimestampType.CreateTime) });
            latest["tail"] = ("t", baseTime + 300);
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(1, await ((ILogMaintenance)_broker.Store).RunCleanerAsync());

        // The cleaner rewrote batches with the producer's codec, and gave the one holding k2's tombstone a delete horizon.
        using (var stored = await _broker.Store.GetPartition(topic, 0)!.ReadAsync(0, int.MaxValue, true, long.MaxValue))
        {
            var headers = new List<(bool Rewritten, Batch.CompressionType Compression, bool HasDeleteHorizon)>();
            foreach (var batch in new Batch.RecordBatchEnumerator(stored.Records))
            {
                var header = batch.Header;
                headers.Add((header.RecordCount < header.LastOffsetDelta + 1, header.Compression, header.HasDeleteHorizon));
            }
            Assert.Contains(headers, h => h.HasDeleteHorizon);
            Assert.Contains(headers, h => h.Rewritten && h.Compression == (Batch.CompressionType)(int)compression);
        }

        using var consumer = Clients.Consumer(_broker, c => c.EnablePartitionEof = true);
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var received = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null) continue;
            if (result.IsPartitionEOF) break;
            received.Add(result);
        }

        Assert.InRange(received.Count, latest.Count, 299);
        Assert.Equal(received.Select(r => r.Offset.Value).Order(), received.Select(r => r.Offset.Value));
        foreach (var result in received) Assert.Equal(baseTime + result.Offset.Value, result.Message.Timestamp.UnixTimestampMs);
        var lastSeen = received.GroupBy(r => r.Message.Key)
            .ToDictionary(g => g.Key, g => ((string?)g.Last().Message.Value, g.Last().Message.Timestamp.UnixTimestampMs));
        Assert.Equal(latest.OrderBy(p => p.Key), lastSeen.OrderBy(p => p.Key));
    }
}
