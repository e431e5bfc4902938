using System.Globalization;
using Confluent.Kafka;

namespace Brook.CrashHarness;

/// <summary>What the pipeline knows about how a transaction ended.</summary>
internal enum TransactionOutcome
{
    /// <summary>CommitTransaction returned: the transaction must be visible to read_committed, in full.</summary>
    Committed,
    /// <summary>AbortTransaction returned: nothing of it may be visible to read_committed.</summary>
    Aborted,
    /// <summary>The producer failed in between (the broker died): either outcome is allowed, but not half of one.</summary>
    Unknown,
}

/// <summary>One transaction of the pipeline: the input records it transformed and how it ended.</summary>
internal sealed record PipelineTransaction(long Id, List<(int Partition, long Offset)> Inputs)
{
    public TransactionOutcome Outcome { get; set; } = TransactionOutcome.Unknown;
}

/// <summary>
/// A consume-transform-produce pipeline with Confluent.Kafka transactions: reads the input topic from the offsets its
/// group committed, writes <c>{transaction}|{partition}:{offset}:{value}</c> for each input record to the same partition of the
/// output topic, and commits the input offsets in the same transaction. On any failure it aborts if it can, then
/// starts over with a new consumer and producer (InitTransactions fences the old one and ends its open transaction),
/// resuming from the committed offsets. Every transaction and its outcome as the client saw it is recorded.
/// </summary>
internal sealed class TransactionalPipeline(string bootstrap, string input, string output, int partitions, string groupId, string transactionalId)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly object _lock = new();
    private readonly List<PipelineTransaction> _transactions = [];
    private readonly Dictionary<int, long> _committedPositions = [];

    public long Restarts { get; private set; }

    public string GroupId => groupId;

    public List<PipelineTransaction> Transactions()
    {
        lock (_lock) return [.. _transactions];
    }

    /// <summary>Where the input has been committed up to, by transactions the client saw commit.</summary>
    public Dictionary<int, long> CommittedPositions()
    {
        lock (_lock) return new Dictionary<int, long>(_committedPositions);
    }

    public Task RunAsync(CancellationToken stop) => Task.Factory.StartNew(() => Run(stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        var nextId = 0L;
        while (!stop.IsCancellationRequested)
        {
            using var consumer = new ConsumerBuilder<string, string>(ClientSettings.Apply(new ConsumerConfig
            {
                GroupId = groupId,
                EnableAutoCommit = false,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                IsolationLevel = IsolationLevel.ReadCommitted,
            }, bootstrap)).SetLogHandler(ClientSettings.IgnoreLog).SetErrorHandler((_, _) => { }).Build();
            using var producer = new ProducerBuilder<string, string>(ClientSettings.Apply(new ProducerConfig
            {
                TransactionalId = transactionalId,
                TransactionTimeoutMs = 15_000,
                MessageTimeoutMs = 15_000, // librdkafka requires it not to exceed the transaction timeout
                LingerMs = 5,
            }, bootstrap)).SetLogHandler(ClientSettings.IgnoreLog).SetErrorHandler((_, _) => { }).Build();
            try
            {
                InitTransactions(producer, stop);
                consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(input, p, Offset.Stored)));
                while (!stop.IsCancellationRequested)
                {
                    var records = NextBatch(consumer, stop);
                    if (records.Count == 0) continue;
                    var transaction = new PipelineTransaction(nextId++, records.Select(r => (r.Partition.Value, r.Offset.Value)).ToList());
                    lock (_lock) _transactions.Add(transaction);
                    RunTransaction(producer, consumer, records, transaction);
                }
            }
            catch (KafkaException)
            {
                // The broker died mid-transaction (or the producer was fenced): start over from the committed offsets.
                lock (_lock) Restarts++;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private void RunTransaction(IProducer<string, string> producer, IConsumer<string, string> consumer, List<ConsumeResult<string, string>> records, PipelineTransaction transaction)
    {
        producer.BeginTransaction();
        try
        {
            foreach (var record in records)
            {
                var value = string.Create(CultureInfo.InvariantCulture, $"{transaction.Id}|{record.Partition.Value}:{record.Offset.Value}:{record.Message.Value}");
                producer.Produce(new TopicPartition(output, record.Partition), new Message<string, string> { Key = record.Message.Key, Value = value });
            }
            var offsets = records.GroupBy(r => r.Partition.Value).Select(g => new TopicPartitionOffset(input, g.Key, g.Max(r => r.Offset.Value) + 1)).ToList();
            producer.SendOffsetsToTransaction(offsets, consumer.ConsumerGroupMetadata, Timeout);
            CommitTransaction(producer);
            transaction.Outcome = TransactionOutcome.Committed;
            lock (_lock)
            {
                foreach (var offset in offsets) _committedPositions[offset.Partition.Value] = offset.Offset.Value;
            }
        }
        catch (KafkaException e) when (e is KafkaTxnRequiresAbortException || !e.Error.IsFatal)
        {
            try
            {
                producer.AbortTransaction(Timeout);
                transaction.Outcome = TransactionOutcome.Aborted;
            }
            catch (KafkaException)
            {
                // Outcome unknown: the next instance's InitTransactions settles it.
            }
            // The consumer's position is past the records of the aborted transaction: start over from the committed offsets.
            throw;
        }
    }

    private static void CommitTransaction(IProducer<string, string> producer)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                producer.CommitTransaction(Timeout);
                return;
            }
            catch (KafkaRetriableException) when (attempt < 5)
            {
                // The commit may be retried as is; the coordinator answers a repeat with the same outcome.
            }
        }
    }

    private static void InitTransactions(IProducer<string, string> producer, CancellationToken stop)
    {
        while (true)
        {
            stop.ThrowIfCancellationRequested();
            try
            {
                producer.InitTransactions(Timeout);
                return;
            }
            catch (KafkaRetriableException)
            {
            }
        }
    }

    private static List<ConsumeResult<string, string>> NextBatch(IConsumer<string, string> consumer, CancellationToken stop)
    {
        var records = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow.AddMilliseconds(300);
        while (records.Count < 200 && DateTime.UtcNow < until && !stop.IsCancellationRequested)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(50));
            if (record is not null) records.Add(record);
        }
        return records;
    }
}
