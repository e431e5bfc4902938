using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace Brook.CrashHarness;

/// <summary>
/// One idempotent producer (acks=all) writing numbered messages round-robin over the partitions of a topic: value
/// <c>w{writer}.{instance}-{sequence}</c>, so that loss, duplicates and reordering per producer and partition are
/// visible in the log. Records what was acknowledged, where, and what failed. A fatal producer error (the broker lost
/// track of the producer's sequence: a sign of lost data) is recorded and the producer replaced by a new instance.
/// </summary>
internal sealed class IdempotentWriter(int id, string bootstrap, string topic, int partitions, int messagesPerSecond)
{
    private readonly object _lock = new();
    private IProducer<string, string>? _producer;
    private int _instance;
    private long _inFlight;

    /// <summary>Acknowledged messages: value → where the broker said it put them.</summary>
    public ConcurrentDictionary<string, TopicPartitionOffset> Acked { get; } = new(StringComparer.Ordinal);

    /// <summary>Messages whose delivery failed, with the error.</summary>
    public ConcurrentDictionary<string, ErrorCode> Failed { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> FatalErrors { get; } = new();

    public long Sent { get; private set; }

    public Task RunAsync(CancellationToken stop) => Task.Factory.StartNew(() => Run(stop), stop, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        var sequence = 0L;
        NewProducer();
        while (!stop.IsCancellationRequested)
        {
            // Paced, with a cap on unacknowledged messages so a dead broker does not pile up an unbounded queue.
            if (Sent > clock.Elapsed.TotalSeconds * messagesPerSecond || Interlocked.Read(ref _inFlight) > 20_000)
            {
                Thread.Sleep(5);
                continue;
            }
            var producer = _producer!;
            var value = $"w{id}.{_instance}-{sequence.ToString("D9", CultureInfo.InvariantCulture)}";
            var partition = (int)(sequence % partitions);
            try
            {
                Interlocked.Increment(ref _inFlight);
                producer.Produce(new TopicPartition(topic, partition), new Message<string, string> { Key = value, Value = value }, report =>
                {
                    Interlocked.Decrement(ref _inFlight);
                    if (report.Error.IsError) Failed[value] = report.Error.Code;
                    else Acked[value] = report.TopicPartitionOffset;
                });
                sequence++;
                Sent++;
            }
            catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                Interlocked.Decrement(ref _inFlight);
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
            catch (KafkaException e)
            {
                // Produce only refuses synchronously once the producer is in a fatal state (e.g. the broker answered
                // OUT_OF_ORDER_SEQUENCE_NUMBER: it lost messages the producer had acknowledged).
                Interlocked.Decrement(ref _inFlight);
                Replace(e.Error);
                sequence = 0;
            }
        }
    }

    /// <summary>Waits for every outstanding delivery report, then closes the producer.</summary>
    public int Close(TimeSpan timeout)
    {
        var left = _producer?.Flush(timeout) ?? 0;
        _producer?.Dispose();
        _producer = null;
        return left;
    }

    private void NewProducer()
    {
        var config = ClientSettings.Apply(new ProducerConfig
        {
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
            MessageTimeoutMs = 300_000,
            QueueBufferingMaxMessages = 100_000,
        }, bootstrap);
        _producer = new ProducerBuilder<string, string>(config)
            .SetLogHandler(ClientSettings.IgnoreLog)
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal) FatalErrors.Enqueue($"writer {id}.{_instance}: {error.Code} {error.Reason}");
            })
            .Build();
    }

    private void Replace(Error error)
    {
        lock (_lock)
        {
            // The error handler already recorded the fatal error; the new instance starts its own sequence.
            if (FatalErrors.IsEmpty) FatalErrors.Enqueue($"writer {id}.{_instance}: {error.Code} {error.Reason}");
            _producer?.Flush(TimeSpan.FromSeconds(10));
            _producer?.Dispose();
            _instance++;
            NewProducer();
        }
    }
}
