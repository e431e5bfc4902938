using System.Buffers.Binary;
using System.Diagnostics;
using Confluent.Kafka;

namespace Brook.Admin.Bench;

/// <summary>
/// Producers sending one reused payload as fast as allowed. Each producer has its own thread and connection; the
/// produce→ack latency of every message is taken from its delivery report. With <c>embedTimestamp</c> the first
/// 8 bytes of each value carry the send time (UTC ticks) for an end-to-end measurement at a consumer; the client
/// copies the value when it is produced, so the payload buffer is rewritten for each message.
/// </summary>
internal sealed class ProduceLoad
{
    private readonly ConnectionSettings _settings;
    private readonly ProduceBenchOptions _options;
    private readonly bool _embedTimestamp;
    private long _sent;
    private long _acked;
    private long _ackedBytes;
    private long _errors;
    private string? _firstError;

    public ProduceLoad(ConnectionSettings settings, ProduceBenchOptions options, bool embedTimestamp)
    {
        _settings = settings;
        _options = options;
        _embedTimestamp = embedTimestamp;
    }

    public LatencyHistogram AckLatency { get; } = new();

    public long Sent => Volatile.Read(ref _sent);

    public long Acked => Volatile.Read(ref _acked);

    public long AckedBytes => Volatile.Read(ref _ackedBytes);

    public long Errors => Volatile.Read(ref _errors);

    public string? FirstError => Volatile.Read(ref _firstError);

    /// <summary>Builds the producers (so configuration errors surface before the clock starts).</summary>
    public List<IProducer<byte[]?, byte[]?>> CreateProducers()
    {
        var producers = new List<IProducer<byte[]?, byte[]?>>();
        try
        {
            for (var i = 0; i < _options.Producers; i++)
            {
                var config = _settings.ProducerConfig();
                config.Acks = BenchService.ParseAcks(_options.Acks);
                config.LingerMs = _options.LingerMs;
                config.BatchSize = _options.BatchSize;
                config.DeliveryReportFields = "status";
                config.MessageTimeoutMs = 300_000;
                if (_options.Compression is { } codec) config.Set("compression.type", codec);
                foreach (var (key, value) in _options.Properties) config.Set(key, value);
                producers.Add(new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build());
            }
            return producers;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KafkaException)
        {
            foreach (var p in producers) p.Dispose();
            throw AdminException.Invalid($"client configuration: {ex.Message}");
        }
    }

    /// <summary>Sends until the limit (split evenly over the producers) or cancellation, then waits for every acknowledgement.</summary>
    public Task RunAsync(IReadOnlyList<IProducer<byte[]?, byte[]?>> producers, long startTimestamp, CancellationToken cancellationToken)
    {
        var tasks = new Task[producers.Count];
        for (var i = 0; i < producers.Count; i++)
        {
            var index = i;
            tasks[i] = Task.Factory.StartNew(() => Send(producers[index], index, producers.Count, startTimestamp, cancellationToken),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        return Task.WhenAll(tasks);
    }

    private void Send(IProducer<byte[]?, byte[]?> producer, int index, int count, long startTimestamp, CancellationToken cancellationToken)
    {
        var limit = _options.Limit;
        var quota = limit.Messages is { } total ? total / count + (index < total % count ? 1 : 0) : long.MaxValue;
        var endTimestamp = limit.Duration is { } duration ? startTimestamp + (long)(duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var ticksPerMessage = _options.MessagesPerSecond is { } rate ? Stopwatch.Frequency / (rate / count) : 0;
        var payload = Payload(_options.MessageSize, index);
        var keys = Enumerable.Range(0, _options.Keys).Select(k => System.Text.Encoding.UTF8.GetBytes($"key-{k}")).ToArray();
        var keyless = new Message<byte[]?, byte[]?> { Value = payload };
        var topic = _options.Topic;
        for (long sent = 0; sent < quota && !cancellationToken.IsCancellationRequested; sent++)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= endTimestamp) break;
            if (ticksPerMessage > 0)
            {
                // Paced against the start, so sleeping in whole milliseconds keeps the average rate exact.
                var due = startTimestamp + (long)(sent * ticksPerMessage);
                if (due > now)
                {
                    Thread.Sleep(Math.Max(1, (int)((due - now) * 1000 / Stopwatch.Frequency)));
                    now = Stopwatch.GetTimestamp();
                }
            }
            if (_embedTimestamp) BinaryPrimitives.WriteInt64LittleEndian(payload, DateTime.UtcNow.Ticks);
            var message = keys.Length == 0 ? keyless : new Message<byte[]?, byte[]?> { Key = keys[sent % keys.Length], Value = payload };
            var started = now;
            while (true)
            {
                try
                {
                    producer.Produce(topic, message, report => Delivered(report, started));
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // The client's queue is full: let deliveries drain.
                    producer.Poll(TimeSpan.FromMilliseconds(1));
                }
                catch (ProduceException<byte[]?, byte[]?> ex)
                {
                    Failed(ex.Error);
                    break;
                }
            }
            Interlocked.Increment(ref _sent);
        }
        while (producer.Flush(TimeSpan.FromMilliseconds(100)) > 0 && !cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Delivered(DeliveryReport<byte[]?, byte[]?> report, long started)
    {
        if (report.Error.IsError)
        {
            Failed(report.Error);
            return;
        }
        AckLatency.RecordTicks(Stopwatch.GetTimestamp() - started);
        Interlocked.Add(ref _ackedBytes, _options.MessageSize);
        Interlocked.Increment(ref _acked);
    }

    private void Failed(Error error)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, string.IsNullOrWhiteSpace(error.Reason) ? error.Code.ToString() : error.Reason, null);
    }

    /// <summary>Random capital letters, like Kafka's producer perf test: compressible about as much as text.</summary>
    private static byte[] Payload(int size, int seed)
    {
        var random = new Random(seed + 1);
        var payload = new byte[size];
        for (var i = 0; i < payload.Length; i++) payload[i] = (byte)('A' + random.Next(26));
        return payload;
    }
}
