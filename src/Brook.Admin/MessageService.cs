using System.Diagnostics;
using System.Runtime.CompilerServices;
using Confluent.Kafka;

namespace Brook.Admin;

/// <summary>A message to produce. Header values may be null, as in Kafka.</summary>
public sealed record OutgoingMessage(byte[]? Key, byte[]? Value)
{
    public IReadOnlyList<KeyValuePair<string, byte[]?>> Headers { get; init; } = [];

    /// <summary>Explicit partition; otherwise the producer's partitioner picks one from the key.</summary>
    public int? Partition { get; init; }
}

public sealed record ProduceOptions
{
    /// <summary>Acknowledgements: "all" (or -1), "1" (leader) or "0" (none).</summary>
    public string Acks { get; init; } = "all";

    /// <summary>Partition for messages that name none.</summary>
    public int? Partition { get; init; }

    /// <summary>Upper bound on the send rate; unlimited when null.</summary>
    public double? MessagesPerSecond { get; init; }

    /// <summary>none, gzip, snappy, lz4 or zstd; the client's default when null.</summary>
    public string? Compression { get; init; }
}

public sealed record ProduceSummary(long Messages, long Bytes, TimeSpan Elapsed);

/// <summary>Where a reader without a group starts.</summary>
public enum ConsumeStart
{
    Latest,
    Earliest,
    Offset,
    Timestamp,
}

public sealed record ConsumeOptions
{
    /// <summary>Consume in this group (subscribe, commit what was delivered); without one, read the partitions directly.</summary>
    public string? GroupId { get; init; }

    public ConsumeStart Start { get; init; } = ConsumeStart.Latest;

    /// <summary>The offset for <see cref="ConsumeStart.Offset"/>.</summary>
    public long Offset { get; init; }

    /// <summary>The time for <see cref="ConsumeStart.Timestamp"/>: the first record at or after it.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>Only these partitions (without a group); all when null.</summary>
    public IReadOnlyList<int>? Partitions { get; init; }

    public long? MaxMessages { get; init; }

    /// <summary>Stop after this long without a message; never when null.</summary>
    public TimeSpan? IdleTimeout { get; init; }
}

public sealed record ConsumedMessage(string Topic, int Partition, long Offset, DateTimeOffset Timestamp, string TimestampType,
    byte[]? Key, byte[]? Value, IReadOnlyList<KeyValuePair<string, byte[]?>> Headers);

/// <summary>Where a browse starts in each partition.</summary>
public enum BrowseStart
{
    /// <summary>The last messages of each partition.</summary>
    Newest,

    /// <summary>The log start of each partition.</summary>
    Oldest,

    /// <summary>The same offset in each partition (clamped to the log).</summary>
    Offset,

    /// <summary>The first message at or after a time in each partition.</summary>
    Timestamp,
}

/// <summary>A bounded look at a topic's messages: where to start, how many to return, and an optional text filter.</summary>
public sealed record BrowseOptions
{
    /// <summary>Partitions to read; all when null.</summary>
    public IReadOnlyList<int>? Partitions { get; init; }

    public BrowseStart Start { get; init; } = BrowseStart.Newest;

    /// <summary>The offset for <see cref="BrowseStart.Offset"/>.</summary>
    public long Offset { get; init; }

    /// <summary>The time for <see cref="BrowseStart.Timestamp"/>.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>Most messages returned.</summary>
    public int Limit { get; init; } = 50;

    /// <summary>Keep only messages whose key, value, or a header name or value contains this text (UTF-8, case-insensitive).</summary>
    public string? Search { get; init; }

    /// <summary>Most records examined per partition; bounds the work a search does.</summary>
    public int MaxScanPerPartition { get; init; } = 10_000;
}

/// <summary>
/// Browsed messages: oldest first from a start position, newest first for <see cref="BrowseStart.Newest"/>. Scanned counts
/// the records examined; ScanLimitReached says a partition had more to read than the scan bound allowed.
/// </summary>
public sealed record BrowseResult(IReadOnlyList<ConsumedMessage> Messages, long Scanned, bool ScanLimitReached);

/// <summary>Where an acknowledged message landed.</summary>
public sealed record DeliveredMessage(string Topic, int Partition, long Offset, DateTimeOffset Timestamp);

/// <summary>Producing and consuming messages with a real Kafka client, for tools rather than applications.</summary>
public sealed class MessageService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan StartGrace = TimeSpan.FromSeconds(30);
    private readonly KafkaAdmin _admin;

    internal MessageService(KafkaAdmin admin) => _admin = admin;

    /// <summary>
    /// Produces every message, at most <see cref="ProduceOptions.MessagesPerSecond"/>, waits for all acknowledgements, and
    /// fails on the first delivery error. <paramref name="acknowledged"/> receives the running count of acknowledged messages.
    /// </summary>
    public async Task<ProduceSummary> ProduceAsync(string topic, IAsyncEnumerable<OutgoingMessage> messages, ProduceOptions? options = null,
        IProgress<long>? acknowledged = null, CancellationToken cancellationToken = default)
    {
        options ??= new ProduceOptions();
        var config = _admin.Settings.ProducerConfig();
        config.Acks = ParseAcks(options.Acks);
        config.MessageTimeoutMs = (int)Math.Min(int.MaxValue, _admin.Timeout.TotalMilliseconds);
        config.LingerMs = 5;
        if (options.Compression is not null) config.Set("compression.type", options.Compression);
        if (options.MessagesPerSecond is <= 0) throw AdminException.Invalid("the rate must be above zero");

        using var producer = Build(() => new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build());
        long sent = 0, delivered = 0, bytes = 0;
        Error? firstError = null;
        var clock = Stopwatch.StartNew();
        void OnDelivery(DeliveryReport<byte[]?, byte[]?> report)
        {
            if (report.Error.IsError)
            {
                Interlocked.CompareExchange(ref firstError, report.Error, null);
                return;
            }
            acknowledged?.Report(Interlocked.Increment(ref delivered));
        }

        await foreach (var message in messages.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (firstError is not null) break;
            var partition = message.Partition ?? options.Partition;
            var target = partition is { } p ? new TopicPartition(topic, p) : new TopicPartition(topic, Partition.Any);
            var kafkaMessage = new Message<byte[]?, byte[]?> { Key = message.Key, Value = message.Value, Headers = ToHeaders(message.Headers) };
            await ProduceOneAsync(producer, target, kafkaMessage, OnDelivery, cancellationToken).ConfigureAwait(false);
            sent++;
            bytes += (message.Key?.Length ?? 0) + (message.Value?.Length ?? 0);
            if (options.MessagesPerSecond is { } rate)
            {
                var due = TimeSpan.FromSeconds(sent / rate) - clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due, cancellationToken).ConfigureAwait(false);
            }
        }
        await Task.Run(() =>
        {
            while (producer.Flush(PollInterval) > 0) cancellationToken.ThrowIfCancellationRequested();
        }, cancellationToken).ConfigureAwait(false);
        if (firstError is not null) throw AdminException.From(firstError, $"produce to '{topic}'");
        return new ProduceSummary(sent, bytes, clock.Elapsed);
    }

    /// <summary>Produces one message, waits for its acknowledgement (acks=all unless set) and says where it landed.</summary>
    public async Task<DeliveredMessage> ProduceOneAsync(string topic, OutgoingMessage message, ProduceOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ProduceOptions();
        var config = _admin.Settings.ProducerConfig();
        config.Acks = ParseAcks(options.Acks);
        config.MessageTimeoutMs = (int)Math.Min(int.MaxValue, _admin.Timeout.TotalMilliseconds);
        if (options.Compression is not null) config.Set("compression.type", options.Compression);
        using var producer = Build(() => new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build());
        var partition = message.Partition ?? options.Partition;
        var target = partition is { } p ? new TopicPartition(topic, p) : new TopicPartition(topic, Partition.Any);
        var kafkaMessage = new Message<byte[]?, byte[]?> { Key = message.Key, Value = message.Value, Headers = ToHeaders(message.Headers) };
        try
        {
            var result = await producer.ProduceAsync(target, kafkaMessage, cancellationToken).ConfigureAwait(false);
            return new DeliveredMessage(result.Topic, result.Partition.Value, result.Offset.Value, DateTimeOffset.FromUnixTimeMilliseconds(result.Timestamp.UnixTimestampMs));
        }
        catch (ProduceException<byte[]?, byte[]?> ex)
        {
            throw AdminException.From(ex.Error, $"produce to '{topic}'", ex);
        }
    }

    /// <summary>
    /// Reads a bounded window of a topic without joining a group or committing anything: from each partition's start
    /// position up to its end offset as it was when the browse began, at most <see cref="BrowseOptions.Limit"/> matches.
    /// </summary>
    public async Task<BrowseResult> BrowseAsync(string topic, BrowseOptions options, CancellationToken cancellationToken = default)
    {
        if (options.Limit is < 1 or > 10_000) throw AdminException.Invalid("the limit must be between 1 and 10000");
        if (options.MaxScanPerPartition < 1) throw AdminException.Invalid("the scan bound must be above zero");
        var existing = await _admin.Topics.PartitionsAsync(topic, cancellationToken).ConfigureAwait(false);
        var chosen = options.Partitions ?? existing;
        var missing = chosen.Where(p => !existing.Contains(p)).ToList();
        if (missing.Count > 0) throw AdminException.NotFound($"topic '{topic}' has no partition {missing[0]}");
        var partitions = chosen.Distinct().Select(p => new TopicPartition(topic, p)).ToList();
        var logs = await _admin.Topics.ListOffsetsAsync(partitions, cancellationToken).ConfigureAwait(false);
        var search = string.IsNullOrEmpty(options.Search) ? null : options.Search;
        var byTime = options.Start == BrowseStart.Timestamp
            ? await _admin.Topics.OffsetsForTimeAsync(partitions, options.Time ?? throw AdminException.Invalid("a start time is required"), cancellationToken).ConfigureAwait(false)
            : null;
        if (options.Start == BrowseStart.Offset && options.Offset < 0) throw AdminException.Invalid("the start offset must not be negative");

        var windows = new Dictionary<TopicPartition, BrowseWindow>();
        foreach (var tp in partitions)
        {
            var log = logs[tp];
            var first = options.Start switch
            {
                BrowseStart.Oldest => log.Start,
                BrowseStart.Offset => Math.Clamp(options.Offset, log.Start, log.End),
                BrowseStart.Timestamp => byTime![tp] >= 0 ? byTime[tp] : log.End,
                _ => Math.Max(log.Start, log.End - (search is null ? options.Limit : options.MaxScanPerPartition)),
            };
            var stop = Math.Min(log.End, first + options.MaxScanPerPartition);
            if (first < stop) windows[tp] = new BrowseWindow(first, stop, log.End > stop);
        }
        if (windows.Count == 0) return new BrowseResult([], 0, false);

        var newest = options.Start == BrowseStart.Newest;
        var config = _admin.Settings.ConsumerConfig();
        config.GroupId = "brook-browser-" + Guid.NewGuid().ToString("N");
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = true;
        using var consumer = Build(() => new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build());
        consumer.Assign(windows.Select(w => new TopicPartitionOffset(w.Key, w.Value.First)));

        var matches = windows.Keys.ToDictionary(tp => tp, _ => new Queue<ConsumedMessage>());
        var open = windows.Keys.ToHashSet();
        long scanned = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_admin.Timeout);
        await Task.Run(() =>
        {
            while (open.Count > 0 && !deadline.IsCancellationRequested)
            {
                var result = PollIncludingEnd(consumer);
                if (result is null) continue;
                var tp = result.TopicPartition;
                if (!open.Contains(tp)) continue;
                var window = windows[tp];
                if (result.IsPartitionEOF || result.Offset.Value >= window.Stop)
                {
                    Close(tp);
                    continue;
                }
                scanned++;
                var message = ToMessage(result);
                if (search is null || Matches(message, search))
                {
                    var queue = matches[tp];
                    queue.Enqueue(message);
                    // Newest keeps the last matches of the window; the other starts stop at the first ones.
                    if (newest && queue.Count > options.Limit) queue.Dequeue();
                    if (!newest && queue.Count >= options.Limit) Close(tp);
                }
                if (result.Offset.Value >= window.Stop - 1) Close(tp);
            }
        }, CancellationToken.None).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (open.Count > 0 && scanned == 0) throw new AdminException(AdminErrorKind.Unreachable, $"browse '{topic}': no messages arrived within {_admin.Timeout.TotalSeconds:0.#} s");

        var all = matches.Values.SelectMany(q => q);
        var ordered = newest
            ? all.OrderByDescending(m => m.Timestamp).ThenByDescending(m => m.Offset).ThenBy(m => m.Partition)
            : all.OrderBy(m => m.Timestamp).ThenBy(m => m.Offset).ThenBy(m => m.Partition);
        var limitReached = windows.Any(w => w.Value.MoreBeyond) || (newest && search is not null && windows.Any(w => w.Value.First > logs[w.Key].Start));
        return new BrowseResult(ordered.Take(options.Limit).ToList(), scanned, limitReached);

        void Close(TopicPartition tp)
        {
            open.Remove(tp);
            consumer.Pause([tp]);
        }
    }

    private static bool Matches(ConsumedMessage message, string search)
    {
        static bool Contains(byte[]? bytes, string text) =>
            bytes is not null && System.Text.Encoding.UTF8.GetString(bytes).Contains(text, StringComparison.OrdinalIgnoreCase);
        return Contains(message.Key, search) || Contains(message.Value, search)
            || message.Headers.Any(h => h.Key.Contains(search, StringComparison.OrdinalIgnoreCase) || Contains(h.Value, search));
    }

    private sealed record BrowseWindow(long First, long Stop, bool MoreBeyond);

    /// <summary>
    /// Reads messages from <paramref name="topics"/>. Without a group it reads the chosen partitions from the chosen start;
    /// in a group it subscribes and, when the caller stops, commits past every message the caller has finished with (a
    /// message counts as finished when the next one is asked for, so delivery is at least once). Ends at
    /// <see cref="ConsumeOptions.MaxMessages"/>, after <see cref="ConsumeOptions.IdleTimeout"/> without messages, or on
    /// cancellation (a normal end, not an error).
    /// </summary>
    public async IAsyncEnumerable<ConsumedMessage> ConsumeAsync(IReadOnlyList<string> topics, ConsumeOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (topics.Count == 0) throw AdminException.Invalid("no topic to consume");
        var inGroup = options.GroupId is not null;
        if (inGroup && options.Start is ConsumeStart.Offset or ConsumeStart.Timestamp)
            throw AdminException.Invalid("a start offset or time cannot be used with a group: the group's committed offsets decide; reset them with groups reset-offsets");
        if (inGroup && options.Partitions is not null) throw AdminException.Invalid("partitions cannot be chosen in a group: the group assigns them");

        var assignment = inGroup ? null : await StartPositionsAsync(topics, options, cancellationToken).ConfigureAwait(false);
        var config = _admin.Settings.ConsumerConfig();
        // librdkafka wants a group id even for assigned partitions; without a group nothing is joined or committed.
        config.GroupId = options.GroupId ?? "brook-reader-" + Guid.NewGuid().ToString("N");
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset = options.Start == ConsumeStart.Earliest ? AutoOffsetReset.Earliest : AutoOffsetReset.Latest;
        // End-of-partition events tell when the reader has caught up, which is when "idle" starts to mean "no new messages".
        config.EnablePartitionEof = true;
        using var consumer = Build(() => new ConsumerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build());
        if (assignment is null) consumer.Subscribe(topics);
        else consumer.Assign(assignment);

        long count = 0;
        var idle = Stopwatch.StartNew();
        // Joining a group, looking up start offsets and the first fetch do not count as idle time, up to a bound, so a slow
        // start does not end the read before the messages already there are seen.
        var caughtUpOnce = false;
        try
        {
            while (!cancellationToken.IsCancellationRequested && (options.MaxMessages is not { } max || count < max))
            {
                var result = await Task.Run(() => PollIncludingEnd(consumer, "consume"), CancellationToken.None).ConfigureAwait(false);
                if (result is null || result.IsPartitionEOF)
                {
                    if (result is not null && !caughtUpOnce)
                    {
                        caughtUpOnce = true;
                        idle.Restart();
                    }
                    if (options.IdleTimeout is { } limit && idle.Elapsed >= (caughtUpOnce ? limit : limit + StartGrace)) break;
                    continue;
                }
                caughtUpOnce = true;
                idle.Restart();
                yield return ToMessage(result);
                count++;
                if (inGroup) consumer.StoreOffset(result);
            }
        }
        finally
        {
            if (inGroup) CommitAndLeave(consumer);
        }
    }

    private async Task<List<TopicPartitionOffset>> StartPositionsAsync(IReadOnlyList<string> topics, ConsumeOptions options, CancellationToken cancellationToken)
    {
        var partitions = new List<TopicPartition>();
        foreach (var topic in topics)
        {
            var existing = await _admin.Topics.PartitionsAsync(topic, cancellationToken).ConfigureAwait(false);
            var chosen = options.Partitions ?? existing;
            var missing = chosen.Where(p => !existing.Contains(p)).ToList();
            if (missing.Count > 0) throw AdminException.NotFound($"topic '{topic}' has no partition {missing[0]}");
            partitions.AddRange(chosen.Distinct().Select(p => new TopicPartition(topic, p)));
        }
        switch (options.Start)
        {
            case ConsumeStart.Earliest:
                return partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning)).ToList();
            case ConsumeStart.Latest:
                return partitions.Select(tp => new TopicPartitionOffset(tp, Offset.End)).ToList();
            case ConsumeStart.Offset:
                if (options.Offset < 0) throw AdminException.Invalid("the start offset must not be negative");
                return partitions.Select(tp => new TopicPartitionOffset(tp, options.Offset)).ToList();
            default:
                var time = options.Time ?? throw AdminException.Invalid("a start time is required");
                var offsets = await _admin.Topics.OffsetsForTimeAsync(partitions, time, cancellationToken).ConfigureAwait(false);
                return partitions.Select(tp => new TopicPartitionOffset(tp, offsets[tp] >= 0 ? offsets[tp] : Offset.End)).ToList();
        }
    }

    private static ConsumeResult<byte[]?, byte[]?>? PollIncludingEnd(IConsumer<byte[]?, byte[]?> consumer, string operation = "browse")
    {
        try
        {
            return consumer.Consume(PollInterval);
        }
        catch (ConsumeException ex)
        {
            throw AdminException.From(ex.Error, operation, ex);
        }
    }

    private static void CommitAndLeave(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            consumer.Commit();
        }
        catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing was consumed: nothing to commit.
        }
        finally
        {
            consumer.Close();
        }
    }

    private static ConsumedMessage ToMessage(ConsumeResult<byte[]?, byte[]?> result)
    {
        var headers = result.Message.Headers is { Count: > 0 } h
            ? h.Select(x => new KeyValuePair<string, byte[]?>(x.Key, x.GetValueBytes())).ToList()
            : [];
        var timestamp = result.Message.Timestamp;
        var type = timestamp.Type switch
        {
            TimestampType.CreateTime => "CreateTime",
            TimestampType.LogAppendTime => "LogAppendTime",
            _ => "NoTimestamp",
        };
        return new ConsumedMessage(result.Topic, result.Partition.Value, result.Offset.Value, DateTimeOffset.FromUnixTimeMilliseconds(timestamp.UnixTimestampMs),
            type, result.Message.Key, result.Message.Value, headers);
    }

    private static async Task ProduceOneAsync(IProducer<byte[]?, byte[]?> producer, TopicPartition target, Message<byte[]?, byte[]?> message,
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                producer.Produce(target, message, onDelivery);
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's queue is full: let deliveries drain, then try again.
                await Task.Run(() => producer.Poll(PollInterval), cancellationToken).ConfigureAwait(false);
            }
            catch (ProduceException<byte[]?, byte[]?> ex)
            {
                throw AdminException.From(ex.Error, $"produce to '{target.Topic}'", ex);
            }
        }
    }

    private static Headers? ToHeaders(IReadOnlyList<KeyValuePair<string, byte[]?>> headers)
    {
        if (headers.Count == 0) return null;
        var result = new Headers();
        foreach (var (key, value) in headers) result.Add(key, value);
        return result;
    }

    private static Acks ParseAcks(string acks) => acks.Trim().ToLowerInvariant() switch
    {
        "all" or "-1" => Confluent.Kafka.Acks.All,
        "1" or "leader" => Confluent.Kafka.Acks.Leader,
        "0" or "none" => Confluent.Kafka.Acks.None,
        _ => throw AdminException.Invalid($"acks must be all, 1 or 0, not '{acks}'"),
    };

    private static T Build<T>(Func<T> build)
    {
        try
        {
            return build();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KafkaException)
        {
            throw AdminException.Invalid($"client configuration: {ex.Message}");
        }
    }
}
