using Confluent.Kafka;

namespace Brook.Broker.Tests.Transactions;

/// <summary>A consume-transform-produce pipeline with Confluent.Kafka transactions that is killed and restarted.</summary>
public sealed class ExactlyOnceTests : IAsyncLifetime
{
    private const int InputCount = 30;
    private const int BatchSize = 10;
    private const string GroupId = "transformer";
    private const string TransactionalId = "transformer-app";
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(30);
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    /// <summary>
    /// Runs one instance of the pipeline: reads "input" from the group's committed offset and, per batch, writes the
    /// transformed records and the input offsets in one transaction. With <paramref name="dieInBatch"/> the instance
    /// stops dead in that batch after its records and offsets were sent, neither committing nor aborting.
    /// </summary>
    private int RunInstance(int? dieInBatch)
    {
        using var consumer = Clients.Consumer(_broker, c =>
        {
            c.GroupId = GroupId;
            c.IsolationLevel = IsolationLevel.ReadCommitted;
            c.EnablePartitionEof = true;
        });
        consumer.Assign(new TopicPartitionOffset("input", 0, Offset.Stored));
        var producer = Clients.Producer(_broker, c =>
        {
            c.TransactionalId = TransactionalId;
            c.TransactionTimeoutMs = 60_000;
            c.MessageTimeoutMs = 60_000;
        });
        var processed = 0;
        try
        {
            producer.InitTransactions(ClientTimeout);
            for (var batch = 0; ; batch++)
            {
                var records = NextBatch(consumer);
                if (records.Count == 0) return processed;
                producer.BeginTransaction();
                foreach (var record in records)
                    producer.Produce("output", new Message<string, string> { Key = record.Message.Key, Value = "transformed-" + record.Message.Value });
                producer.SendOffsetsToTransaction([new TopicPartitionOffset("input", 0, records[^1].Offset + 1)], consumer.ConsumerGroupMetadata, ClientTimeout);
                if (batch == dieInBatch)
                {
                    producer.Flush(ClientTimeout); // the records reached the broker; the transaction stays open
                    return processed;
                }
                producer.CommitTransaction(ClientTimeout);
                processed += records.Count;
            }
        }
        finally
        {
            producer.Dispose();
        }
    }

    private static List<ConsumeResult<string, string>> NextBatch(IConsumer<string, string> consumer)
    {
        var records = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + ClientTimeout;
        while (records.Count < BatchSize && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null) continue;
            if (r.IsPartitionEOF)
            {
                if (records.Count > 0 || r.Offset >= InputCount) break;
                continue;
            }
            records.Add(r);
        }
        return records;
    }

    private List<string> ReadOutput(IsolationLevel isolation)
    {
        using var consumer = Clients.Consumer(_broker, c =>
        {
            c.IsolationLevel = isolation;
            c.EnablePartitionEof = true;
        });
        consumer.Assign(new TopicPartitionOffset("output", 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow + ClientTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null) continue;
            if (r.IsPartitionEOF) return values;
            values.Add(r.Message.Value);
        }
        throw new TimeoutException("The output partition never reached its end.");
    }

    [Fact]
    public async Task A_pipeline_killed_mid_transaction_and_restarted_outputs_each_record_exactly_once()
    {
        await Clients.CreateTopicAsync(_broker, "input", 1);
        await Clients.CreateTopicAsync(_broker, "output", 1);
        using (var producer = Clients.Producer(_broker))
        {
            for (var i = 0; i < InputCount; i++) producer.Produce("input", new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
            producer.Flush(ClientTimeout);
        }

        // The first instance commits one batch, then dies with the second one open.
        Assert.Equal(BatchSize, RunInstance(dieInBatch: 1));
        // The successor fences it (aborting the open transaction) and resumes from the committed input offset.
        Assert.Equal(InputCount - BatchSize, RunInstance(dieInBatch: null));

        var expected = Enumerable.Range(0, InputCount).Select(i => $"transformed-v{i}").ToList();
        Assert.Equal(expected, ReadOutput(IsolationLevel.ReadCommitted));
        // The dead instance's batch is in the log, aborted: read_uncommitted sees it twice.
        var uncommitted = ReadOutput(IsolationLevel.ReadUncommitted);
        Assert.Equal(InputCount + BatchSize, uncommitted.Count);
        Assert.Equal(2, uncommitted.Count(v => v == $"transformed-v{BatchSize}"));

        using var checker = Clients.Consumer(_broker, c => c.GroupId = GroupId);
        var committed = checker.Committed([new TopicPartition("input", 0)], ClientTimeout);
        Assert.Equal(InputCount, committed.Single().Offset.Value);
    }
}
