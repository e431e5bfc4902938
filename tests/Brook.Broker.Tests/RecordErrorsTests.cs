using Confluent.Kafka;

namespace Brook.Broker.Tests;

/// <summary>
/// Per-record produce errors (KIP-467) as librdkafka reads them: a batch with refused records fails exactly those records
/// with the broker's error, and the other records of the batch with librdkafka's "different record" error.
/// </summary>
public sealed class RecordErrorsTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    /// <summary>Produces the messages in one batch (a long linger, one flush) and returns each one's delivery error.</summary>
    private async Task<List<ErrorCode>> ProduceOneBatchAsync(string topic, IReadOnlyList<Message<string, string>> messages)
    {
        using var producer = Clients.Producer(_broker, c =>
        {
            c.LingerMs = 10_000;
            c.MessageTimeoutMs = 20_000;
            c.EnableIdempotence = false;
            c.MessageSendMaxRetries = 0;
        });
        var reports = messages.Select(_ => new TaskCompletionSource<ErrorCode>(TaskCreationOptions.RunContinuationsAsynchronously)).ToList();
        for (var i = 0; i < messages.Count; i++)
        {
            var report = reports[i];
            producer.Produce(new TopicPartition(topic, 0), messages[i], r => report.SetResult(r.Error.Code));
        }
        producer.Flush(TimeSpan.FromSeconds(30));
        return [.. await Task.WhenAll(reports.Select(r => r.Task))];
    }

    [Fact]
    public async Task Keyless_records_in_a_compacted_topic_fail_alone_and_the_rest_of_the_batch_can_be_sent_again()
    {
        await Clients.CreateTopicAsync(_broker, "compacted-mixed", 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" });
        var messages = new List<Message<string, string>>
        {
            new() { Key = "a", Value = "1" },
            new() { Key = null!, Value = "no key" },
            new() { Key = "b", Value = "2" },
            new() { Key = null!, Value = "no key either" },
        };
        var errors = await ProduceOneBatchAsync("compacted-mixed", messages);
        Assert.Equal([ErrorCode.Local_InvalidDifferentRecord, ErrorCode.InvalidRecord, ErrorCode.Local_InvalidDifferentRecord, ErrorCode.InvalidRecord], errors);
        Assert.Equal(0, _broker.Store.GetPartition("compacted-mixed", 0)!.LogEndOffset);

        // The records refused only for their neighbours go through when sent again.
        var again = await ProduceOneBatchAsync("compacted-mixed", [messages[0], messages[2]]);
        Assert.Equal([ErrorCode.NoError, ErrorCode.NoError], again);
        Assert.Equal(2, _broker.Store.GetPartition("compacted-mixed", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task Records_with_timestamps_out_of_range_are_refused_and_named_one_by_one()
    {
        await Clients.CreateTopicAsync(_broker, "recent-only", 1, new Dictionary<string, string> { ["message.timestamp.before.max.ms"] = "3600000" });
        var now = DateTimeOffset.UtcNow;
        var messages = new List<Message<string, string>>
        {
            new() { Key = "k", Value = "old", Timestamp = new Timestamp(now.AddDays(-2)) },
            new() { Key = "k", Value = "fresh", Timestamp = new Timestamp(now) },
        };
        // librdkafka fails the whole batch with INVALID_TIMESTAMP (it splits record errors only for INVALID_RECORD).
        var errors = await ProduceOneBatchAsync("recent-only", messages);
        Assert.Equal([ErrorCode.InvalidTimestamp, ErrorCode.InvalidTimestamp], errors);

        // On the wire only the old record is named, as Kafka names it.
        using var builder = new Protocol.Records.RecordBatchBuilder(Protocol.Records.CompressionType.None);
        builder.Append(now.ToUnixTimeMilliseconds(), "k"u8.ToArray(), "fresh"u8.ToArray());
        builder.Append(now.AddDays(-2).ToUnixTimeMilliseconds(), "k"u8.ToArray(), "old"u8.ToArray());
        using var raw = await RawClient.ConnectAsync(_broker);
        var response = await raw.SendAsync<Protocol.Messages.ProduceResponse>(RawProduce.Request("recent-only", builder.ToArray()), 9);
        var partition = response.Responses[0].PartitionResponses[0];
        Assert.Equal((short)Protocol.ErrorCode.InvalidTimestamp, partition.ErrorCode);
        Assert.Equal([1], partition.RecordErrors.Select(e => e.BatchIndex));
        Assert.Contains("is out of range", partition.RecordErrors[0].BatchIndexErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, _broker.Store.GetPartition("recent-only", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task The_wire_answer_lists_every_refused_record_with_a_message()
    {
        await Clients.CreateTopicAsync(_broker, "compacted-raw", 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" });
        using var builder = new Protocol.Records.RecordBatchBuilder(Protocol.Records.CompressionType.None);
        builder.Append(1000, "k"u8.ToArray(), "v"u8.ToArray());
        builder.Append(1001, null, "v"u8.ToArray());
        builder.Append(1002, null, "v"u8.ToArray());
        using var raw = await RawClient.ConnectAsync(_broker);
        var response = await raw.SendAsync<Protocol.Messages.ProduceResponse>(RawProduce.Request("compacted-raw", builder.ToArray()), 9);
        var partition = response.Responses[0].PartitionResponses[0];
        Assert.Equal((short)Protocol.ErrorCode.InvalidRecord, partition.ErrorCode);
        Assert.Equal([1, 2], partition.RecordErrors.Select(e => e.BatchIndex));
        Assert.All(partition.RecordErrors, e => Assert.Equal("Compacted topic cannot accept message without key in topic partition compacted-raw-0.", e.BatchIndexErrorMessage));
        Assert.StartsWith("One or more records have been rejected due to 2 record errors", partition.ErrorMessage, StringComparison.Ordinal);
    }
}
