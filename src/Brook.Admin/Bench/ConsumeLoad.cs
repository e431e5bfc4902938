using System.Buffers.Binary;
using System.Diagnostics;
using Confluent.Kafka;

namespace Brook.Admin.Bench;

/// <summary>
/// One consumer reading as fast as it can. Values are not copied out of the client: a deserializer returns only what is
/// measured (the length, or for end-to-end runs the send time carried in the first 8 bytes). The clock runs from the
/// first message to the last, so connecting and joining do not count against throughput.
/// </summary>
internal sealed class ConsumeLoad
{
    private static readonly TimeSpan StartGrace = TimeSpan.FromSeconds(30);
    private readonly ConnectionSettings _settings;
    private readonly string? _groupId;
    private readonly IReadOnlyDictionary<string, string> _properties;
    private readonly bool _measureLatency;
    private long _received;
    private long _bytes;
    private long _firstTimestamp;
    private long _lastTimestamp;

    public ConsumeLoad(ConnectionSettings settings, string? groupId, IReadOnlyDictionary<string, string> properties, bool measureLatency)
    {
        _settings = settings;
        _groupId = groupId;
        _properties = properties;
        _measureLatency = measureLatency;
    }

    public LatencyHistogram EndToEndLatency { get; } = new();

    public long Received => Volatile.Read(ref _received);

    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Seconds between the first and the last message received.</summary>
    public double Seconds
    {
        get
        {
            var first = Volatile.Read(ref _firstTimestamp);
            return first == 0 ? 0 : (Volatile.Read(ref _lastTimestamp) - first) / (double)Stopwatch.Frequency;
        }
    }

    public IConsumer<Ignore, Sample> Create()
    {
        var config = _settings.ConsumerConfig();
        config.GroupId = _groupId ?? "brook-bench-" + Guid.NewGuid().ToString("N");
        config.EnableAutoCommit = _groupId is not null;
        config.AutoOffsetReset = AutoOffsetReset.Earliest;
        // End-of-partition events say when the reader has caught up: only from then does the idle timeout run.
        config.EnablePartitionEof = true;
        // librdkafka pauses a partition's fetching for fetch.queue.backoff.ms (1 s) once its local queue holds
        // queued.min.messages (100k); a consumer slower than the broker then idles. Keep fetching instead.
        config.QueuedMinMessages = 1_000_000;
        config.Set("fetch.queue.backoff.ms", "10");
        foreach (var (key, value) in _properties) config.Set(key, value);
        try
        {
            return new ConsumerBuilder<Ignore, Sample>(config)
                .SetValueDeserializer(new SampleDeserializer(_measureLatency))
                .SetLogHandler((_, _) => { })
                .SetErrorHandler((_, _) => { })
                .Build();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KafkaException)
        {
            throw AdminException.Invalid($"client configuration: {ex.Message}");
        }
    }

    /// <summary>
    /// Consumes until <paramref name="enough"/> says so, until <paramref name="idleTimeout"/> passes without a message once
    /// caught up, or on cancellation. Runs on the calling thread.
    /// </summary>
    public void Run(IConsumer<Ignore, Sample> consumer, Func<long, bool> enough, TimeSpan idleTimeout, CancellationToken cancellationToken)
    {
        var idle = Stopwatch.StartNew();
        var caughtUpOnce = false;
        while (!cancellationToken.IsCancellationRequested && !enough(Received))
        {
            ConsumeResult<Ignore, Sample>? result;
            try
            {
                result = consumer.Consume(100);
            }
            catch (ConsumeException ex)
            {
                throw AdminException.From(ex.Error, "consume", ex);
            }
            if (result is null || result.IsPartitionEOF)
            {
                if (result is not null && !caughtUpOnce)
                {
                    caughtUpOnce = true;
                    idle.Restart();
                }
                // Joining the group and the first fetch are not idle time, up to a bound.
                if (idle.Elapsed >= (caughtUpOnce ? idleTimeout : idleTimeout + StartGrace)) break;
                continue;
            }
            caughtUpOnce = true;
            idle.Restart();
            var now = Stopwatch.GetTimestamp();
            if (_firstTimestamp == 0) Volatile.Write(ref _firstTimestamp, now);
            Volatile.Write(ref _lastTimestamp, now);
            var sample = result.Message.Value;
            if (_measureLatency) EndToEndLatency.Record((DateTime.UtcNow.Ticks - sample.SentTicks) / 10);
            Volatile.Write(ref _bytes, _bytes + sample.Length);
            Volatile.Write(ref _received, _received + 1);
        }
    }

    /// <summary>What a consumed value is reduced to: its length and, for end-to-end runs, the send time it carries.</summary>
    public readonly record struct Sample(int Length, long SentTicks);

    private sealed class SampleDeserializer(bool readTimestamp) : IDeserializer<Sample>
    {
        public Sample Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context) =>
            new(data.Length, readTimestamp && data.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(data) : 0);
    }
}
