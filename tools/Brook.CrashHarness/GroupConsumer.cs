using Confluent.Kafka;

namespace Brook.CrashHarness;

/// <summary>
/// A consumer group member (subscribe, manual commits) that commits only what it has processed: each poll batch is
/// recorded as processed, then its next offsets are committed synchronously. Records every processed offset and the
/// highest commit the broker acknowledged per partition, so the end state can be checked against the broker's.
/// </summary>
internal sealed class GroupConsumer(string bootstrap, string topic, string groupId)
{
    private readonly object _lock = new();
    private readonly Dictionary<int, HashSet<long>> _processed = [];
    private readonly Dictionary<int, long> _acknowledgedCommits = [];

    public long Processed { get; private set; }

    /// <summary>Records received below an acknowledged commit (guarded by the lock).</summary>
    public List<string> Rewinds { get; } = [];

    public long Commits { get; private set; }

    public long CommitFailures { get; private set; }

    public string GroupId => groupId;

    public Task RunAsync(CancellationToken stop) => Task.Factory.StartNew(() => Run(stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Processed offsets per partition (a copy).</summary>
    public Dictionary<int, HashSet<long>> ProcessedOffsets()
    {
        lock (_lock) return _processed.ToDictionary(p => p.Key, p => p.Value.ToHashSet());
    }

    /// <summary>The highest committed offset the broker acknowledged per partition (a copy).</summary>
    public Dictionary<int, long> AcknowledgedCommits()
    {
        lock (_lock) return new Dictionary<int, long>(_acknowledgedCommits);
    }

    private void Run(CancellationToken stop)
    {
        var config = ClientSettings.Apply(new ConsumerConfig
        {
            GroupId = groupId,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 10_000,
            HeartbeatIntervalMs = 1_000,
        }, bootstrap);
        using var consumer = new ConsumerBuilder<string, string>(config).SetLogHandler(ClientSettings.IgnoreLog).SetErrorHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var batch = new Dictionary<int, long>();
                var until = DateTime.UtcNow.AddMilliseconds(200);
                while (batch.Count == 0 || DateTime.UtcNow < until)
                {
                    ConsumeResult<string, string>? record;
                    try
                    {
                        record = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    }
                    catch (ConsumeException)
                    {
                        continue;
                    }
                    if (stop.IsCancellationRequested) break;
                    if (record is null) continue;
                    lock (_lock)
                    {
                        // The only member never commits less than it processed, so going back below a commit the broker
                        // acknowledged means the broker handed out an older committed offset: the commit was lost.
                        if (record.Offset.Value < _acknowledgedCommits.GetValueOrDefault(record.Partition.Value, -1))
                            Rewinds.Add($"partition {record.Partition.Value}: got offset {record.Offset.Value} after a commit of {_acknowledgedCommits[record.Partition.Value]} was acknowledged");
                        if (!_processed.TryGetValue(record.Partition.Value, out var offsets)) _processed[record.Partition.Value] = offsets = [];
                        offsets.Add(record.Offset.Value);
                        Processed++;
                    }
                    batch[record.Partition.Value] = record.Offset.Value + 1;
                }
                if (batch.Count == 0) continue;
                var offsetsToCommit = batch.Select(b => new TopicPartitionOffset(topic, b.Key, b.Value)).ToList();
                try
                {
                    consumer.Commit(offsetsToCommit);
                    lock (_lock)
                    {
                        Commits++;
                        foreach (var (partition, offset) in batch) _acknowledgedCommits[partition] = Math.Max(_acknowledgedCommits.GetValueOrDefault(partition), offset);
                    }
                }
                catch (KafkaException)
                {
                    // Not acknowledged: the broker was down or the group rebalancing; the records may come again.
                    lock (_lock) CommitFailures++;
                }
            }
        }
        finally
        {
            consumer.Close();
        }
    }
}
