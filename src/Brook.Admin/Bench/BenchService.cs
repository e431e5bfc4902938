using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;

namespace Brook.Admin.Bench;

/// <summary>
/// Load runs against any Kafka cluster with a real client (Confluent.Kafka over librdkafka), in the manner of Kafka's
/// producer and consumer perf tests: produce throughput with produce→ack latency, consume throughput, and end-to-end
/// latency (send time carried in each message, read at a consumer in the same process).
/// </summary>
public sealed class BenchService
{
    public static readonly TimeSpan DefaultProgressInterval = TimeSpan.FromSeconds(1);

    private readonly KafkaAdmin _admin;

    internal BenchService(KafkaAdmin admin) => _admin = admin;

    /// <summary>Produces the load and waits for every acknowledgement; delivery errors are counted, not thrown.</summary>
    public async Task<BenchResult> ProduceAsync(ProduceBenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(options);
        await EnsureTopicAsync(options.Topic, options.Partitions, cancellationToken).ConfigureAwait(false);
        var load = new ProduceLoad(_admin.Settings, options, embedTimestamp: false);
        var producers = load.CreateProducers();
        try
        {
            var start = Stopwatch.GetTimestamp();
            var run = load.RunAsync(producers, start, cancellationToken);
            await ReportWhileRunningAsync(run, start, () => (load.Acked, load.AckedBytes, load.AckLatency), progress).ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return new BenchResult("produce", options.Topic, load.Acked, load.AckedBytes, load.Errors, seconds, load.AckLatency.Summary())
            {
                FirstError = load.FirstError,
                Settings = Describe(options),
            };
        }
        finally
        {
            foreach (var producer in producers) producer.Dispose();
        }
    }

    /// <summary>Reads the topic (every partition from the beginning, or in a group) until the limit or until it is drained.</summary>
    public async Task<BenchResult> ConsumeAsync(ConsumeBenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(options.Limit);
        var partitions = options.GroupId is null ? await _admin.Topics.PartitionsAsync(options.Topic, cancellationToken).ConfigureAwait(false) : null;
        var load = new ConsumeLoad(_admin.Settings, options.GroupId, options.Properties, measureLatency: false);
        using var consumer = load.Create();
        if (partitions is null) consumer.Subscribe(options.Topic);
        else consumer.Assign(partitions.Select(p => new TopicPartitionOffset(options.Topic, p, Offset.Beginning)));
        var quota = options.Limit.Messages ?? long.MaxValue;
        var start = Stopwatch.GetTimestamp();
        var end = options.Limit.Duration is { } duration ? start + (long)(duration.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        var run = Task.Factory.StartNew(() => load.Run(consumer, received => received >= quota || Stopwatch.GetTimestamp() >= end, options.IdleTimeout, cancellationToken),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await ReportWhileRunningAsync(run, start, () => (load.Received, load.Bytes, null), progress).ConfigureAwait(false);
        consumer.Close();
        return new BenchResult("consume", options.Topic, load.Received, load.Bytes, 0, load.Seconds, null)
        {
            Settings = new Dictionary<string, string>
            {
                ["group"] = options.GroupId ?? "-",
                ["partitions"] = partitions is null ? "assigned by the group" : partitions.Count.ToString(CultureInfo.InvariantCulture),
            },
        };
    }

    /// <summary>
    /// Produces with the send time in each message while a consumer in this process reads the topic from its current end;
    /// the latency is the time from send to receipt. Ends when every acknowledged message has been received (or after
    /// the consumer's idle timeout).
    /// </summary>
    public async Task<BenchResult> EndToEndAsync(ProduceBenchOptions options, IProgress<BenchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Validate(options);
        if (options.MessageSize < 8) throw AdminException.Invalid("end-to-end messages carry an 8-byte timestamp: the size must be at least 8");
        await EnsureTopicAsync(options.Topic, options.Partitions, cancellationToken).ConfigureAwait(false);
        var partitions = (await _admin.Topics.PartitionsAsync(options.Topic, cancellationToken).ConfigureAwait(false))
            .Select(p => new TopicPartition(options.Topic, p)).ToList();
        // Explicit end offsets taken before the first send, so the consumer cannot start past early messages.
        var offsets = await _admin.Topics.ListOffsetsAsync(partitions, cancellationToken).ConfigureAwait(false);
        var consumeLoad = new ConsumeLoad(_admin.Settings, null, options.Properties.Where(p => !IsProducerOnly(p.Key)).ToDictionary(), measureLatency: true);
        using var consumer = consumeLoad.Create();
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, offsets[p].End)));

        var produceLoad = new ProduceLoad(_admin.Settings, options with { Properties = options.Properties.Where(p => !IsConsumerOnly(p.Key)).ToDictionary() }, embedTimestamp: true);
        var producers = produceLoad.CreateProducers();
        try
        {
            var start = Stopwatch.GetTimestamp();
            var produced = produceLoad.RunAsync(producers, start, cancellationToken);
            var consumed = Task.Factory.StartNew(
                () => consumeLoad.Run(consumer, received => produced.IsCompleted && received >= produceLoad.Acked, TimeSpan.FromSeconds(10), cancellationToken),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await ReportWhileRunningAsync(Task.WhenAll(produced, consumed), start, () => (consumeLoad.Received, consumeLoad.Bytes, consumeLoad.EndToEndLatency), progress)
                .ConfigureAwait(false);
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            consumer.Close();
            return new BenchResult("e2e", options.Topic, consumeLoad.Received, consumeLoad.Bytes, produceLoad.Errors, seconds, consumeLoad.EndToEndLatency.Summary())
            {
                AckLatency = produceLoad.AckLatency.Summary(),
                FirstError = produceLoad.FirstError,
                Settings = Describe(options),
            };
        }
        finally
        {
            foreach (var producer in producers) producer.Dispose();
        }
    }

    internal static Acks ParseAcks(string acks) => acks.Trim().ToLowerInvariant() switch
    {
        "all" or "-1" => Acks.All,
        "1" or "leader" => Acks.Leader,
        "0" or "none" => Acks.None,
        _ => throw AdminException.Invalid($"acks must be all, 1 or 0, not '{acks}'"),
    };

    private static void Validate(ProduceBenchOptions options)
    {
        Validate(options.Limit);
        if (options.MessageSize < 0) throw AdminException.Invalid("the message size must not be negative");
        if (options.Producers < 1) throw AdminException.Invalid("at least one producer is needed");
        if (options.Keys < 0) throw AdminException.Invalid("the number of keys must not be negative");
        if (options.MessagesPerSecond is <= 0) throw AdminException.Invalid("the rate must be above zero");
        if (options.Partitions is <= 0) throw AdminException.Invalid("the partition count must be above zero");
        ParseAcks(options.Acks);
    }

    private static void Validate(BenchLimit limit)
    {
        if (limit.Messages is null && limit.Duration is null) throw AdminException.Invalid("give a message count or a duration");
        if (limit.Messages is <= 0) throw AdminException.Invalid("the message count must be above zero");
        if (limit.Duration is { } d && d <= TimeSpan.Zero) throw AdminException.Invalid("the duration must be above zero");
    }

    /// <summary>Creates the topic when a partition count is given and it does not exist; an existing topic must match.</summary>
    private async Task EnsureTopicAsync(string topic, int? partitions, CancellationToken cancellationToken)
    {
        if (partitions is not { } wanted) return;
        try
        {
            var existing = await _admin.Topics.PartitionsAsync(topic, cancellationToken).ConfigureAwait(false);
            if (existing.Count != wanted)
                throw AdminException.Conflict($"topic '{topic}' exists with {existing.Count} partition(s), not {wanted}");
            return;
        }
        catch (AdminException ex) when (ex.Kind == AdminErrorKind.NotFound)
        {
        }
        await _admin.Topics.CreateAsync(new NewTopic(topic) { Partitions = wanted }, cancellationToken: cancellationToken).ConfigureAwait(false);
        // The new topic must be known to the cluster's metadata before producers look it up.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await _admin.Topics.PartitionsAsync(topic, cancellationToken).ConfigureAwait(false)).Count == wanted) return;
            }
            catch (AdminException ex) when (ex.Kind == AdminErrorKind.NotFound && deadline.Elapsed < _admin.Timeout)
            {
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ReportWhileRunningAsync(Task run, long start, Func<(long Messages, long Bytes, LatencyHistogram? Latency)> snapshot,
        IProgress<BenchProgress>? progress)
    {
        if (progress is null)
        {
            await run.ConfigureAwait(false);
            return;
        }
        var (lastMessages, lastBytes, lastTime) = (0L, 0L, start);
        while (await Task.WhenAny(run, Task.Delay(DefaultProgressInterval)).ConfigureAwait(false) != run)
        {
            var now = Stopwatch.GetTimestamp();
            var (messages, bytes, latency) = snapshot();
            var seconds = (now - lastTime) / (double)Stopwatch.Frequency;
            progress.Report(new BenchProgress(Stopwatch.GetElapsedTime(start, now), messages, bytes, (messages - lastMessages) / seconds,
                (bytes - lastBytes) / seconds / 1e6, latency is { Count: > 0 } l ? l.Percentile(0.99) / 1000.0 : null));
            (lastMessages, lastBytes, lastTime) = (messages, bytes, now);
        }
        await run.ConfigureAwait(false);
    }

    private static Dictionary<string, string> Describe(ProduceBenchOptions options)
    {
        var settings = new Dictionary<string, string>
        {
            ["messageSize"] = options.MessageSize.ToString(CultureInfo.InvariantCulture),
            ["acks"] = options.Acks,
            ["lingerMs"] = options.LingerMs?.ToString(CultureInfo.InvariantCulture) ?? "default",
            ["batchSize"] = options.BatchSize?.ToString(CultureInfo.InvariantCulture) ?? "default",
            ["compression"] = options.Compression ?? "default",
            ["producers"] = options.Producers.ToString(CultureInfo.InvariantCulture),
            ["keys"] = options.Keys.ToString(CultureInfo.InvariantCulture),
            ["rate"] = options.MessagesPerSecond?.ToString(CultureInfo.InvariantCulture) ?? "unthrottled",
        };
        if (options.Partitions is { } p) settings["partitions"] = p.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in options.Properties) settings[key] = value;
        return settings;
    }

    private static bool IsProducerOnly(string key) =>
        key.StartsWith("linger", StringComparison.Ordinal) || key.StartsWith("batch.", StringComparison.Ordinal) || key.StartsWith("queue.buffering", StringComparison.Ordinal)
        || key is "acks" or "request.required.acks" or "compression.type" or "compression.codec" or "enable.idempotence" or "message.timeout.ms" or "max.in.flight";

    private static bool IsConsumerOnly(string key) =>
        key.StartsWith("fetch.", StringComparison.Ordinal) || key.StartsWith("queued.", StringComparison.Ordinal) || key is "max.partition.fetch.bytes" or "isolation.level";
}
