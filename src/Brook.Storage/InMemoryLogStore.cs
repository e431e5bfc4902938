using System.Collections.Immutable;
using Brook.Protocol;

namespace Brook.Storage;

/// <summary>
/// A log store held entirely in memory; nothing survives disposal. Same behaviour as the disk store apart from
/// durability, including retention and compaction (per batch rather than per segment: see
/// <see cref="InMemoryPartitionLog"/>), run by a background loop when given an interval and by
/// <see cref="EnforceRetentionAsync"/> and <see cref="RunCleanerAsync"/>. Thread-safety: topic changes are serialized by
/// one lock and published as an immutable snapshot, so lookups never lock; each partition serializes its own appends.
/// </summary>
public sealed class InMemoryLogStore : ILogStore, ILogMaintenance
{
    private readonly object _topicsLock = new();
    private readonly TimeProvider _timeProvider;
    private readonly long _producerIdExpirationMs;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _background = Task.CompletedTask;
    private int _disposed;
    private IReadOnlyDictionary<string, string> _brokerConfigs;
    private ImmutableDictionary<string, TopicEntry> _topics = ImmutableDictionary.Create<string, TopicEntry>(StringComparer.Ordinal);

    /// <param name="timeProvider">Clock for producer expiry, retention and compaction; the system clock when null.</param>
    /// <param name="brokerConfigs">Broker-level settings of topic defaults by broker name (log.retention.hours, ...), under the topics' own configs.</param>
    /// <param name="producerIdExpiration">How long an idle producer's state is kept (producer.id.expiration.ms); default one day.</param>
    /// <param name="backgroundInterval">How often a background loop applies retention and compaction; null (the default) runs none.</param>
    public InMemoryLogStore(TimeProvider? timeProvider = null, IReadOnlyDictionary<string, string>? brokerConfigs = null, TimeSpan? producerIdExpiration = null,
        TimeSpan? backgroundInterval = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        _brokerConfigs = brokerConfigs ?? ImmutableDictionary<string, string>.Empty;
        var errors = TopicConfigs.ValidateBrokerDefaults(BrokerConfigs);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors.Select(e => e.Message)), nameof(brokerConfigs));
        _producerIdExpirationMs = (long)(producerIdExpiration ?? ProducerStateManager.DefaultExpiration).TotalMilliseconds;
        if (backgroundInterval is { } interval) _background = RunBackgroundAsync(interval);
    }

    public IReadOnlyDictionary<string, string> BrokerConfigs => Volatile.Read(ref _brokerConfigs);

    public ValueTask UpdateBrokerConfigsAsync(IReadOnlyDictionary<string, string> brokerConfigs, CancellationToken cancellationToken = default)
    {
        lock (_topicsLock)
        {
            Volatile.Write(ref _brokerConfigs, new Dictionary<string, string>(brokerConfigs, StringComparer.Ordinal));
            foreach (var entry in _topics.Values)
            {
                var config = LogConfig.Create(BrokerConfigs, entry.Metadata.Configs);
                foreach (var partition in entry.Partitions) partition.Config = config;
            }
        }
        return ValueTask.CompletedTask;
    }

    public IReadOnlyList<ConfigEntry> DescribeTopicConfigs(string topic) =>
        GetTopic(topic) is { } metadata ? TopicConfigs.Describe(BrokerConfigs, metadata.Configs) : [];

    /// <summary>The store's clock.</summary>
    public TimeProvider TimeProvider => _timeProvider;

    public IReadOnlyList<TopicMetadata> ListTopics() =>
        Volatile.Read(ref _topics).Values.Select(t => t.Metadata).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();

    public TopicMetadata? GetTopic(string name) =>
        Volatile.Read(ref _topics).TryGetValue(name, out var entry) ? entry.Metadata : null;

    public TopicMetadata? GetTopic(KafkaUuid topicId) =>
        Volatile.Read(ref _topics).Values.FirstOrDefault(t => t.Metadata.TopicId == topicId)?.Metadata;

    public ValueTask<StoreResult<TopicMetadata>> CreateTopicAsync(string name, int partitionCount, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken = default)
    {
        if (partitionCount < 1) return ValueTask.FromResult(StoreResult<TopicMetadata>.Failure(StoreStatus.InvalidPartitions, "Partition count must be at least 1."));
        lock (_topicsLock)
        {
            if (_topics.ContainsKey(name)) return ValueTask.FromResult(StoreResult<TopicMetadata>.Failure(StoreStatus.TopicAlreadyExists, $"Topic '{name}' already exists."));
            var metadata = new TopicMetadata(name, KafkaUuid.NewRandom(), partitionCount, Copy(configs));
            var config = LogConfig.Create(BrokerConfigs, metadata.Configs);
            var partitions = Enumerable.Range(0, partitionCount).Select(p => NewPartition(name, p, config)).ToImmutableArray();
            Volatile.Write(ref _topics, _topics.SetItem(name, new TopicEntry(metadata, partitions)));
            return ValueTask.FromResult(StoreResult<TopicMetadata>.Success(metadata));
        }
    }

    public ValueTask<StoreStatus> DeleteTopicAsync(string name, CancellationToken cancellationToken = default)
    {
        TopicEntry? removed;
        lock (_topicsLock)
        {
            if (!_topics.TryGetValue(name, out removed)) return ValueTask.FromResult(StoreStatus.UnknownTopic);
            Volatile.Write(ref _topics, _topics.Remove(name));
        }
        foreach (var partition in removed.Partitions) partition.MarkDeleted();
        return ValueTask.FromResult(StoreStatus.Ok);
    }

    public ValueTask<StoreResult<TopicMetadata>> AddPartitionsAsync(string name, int newPartitionCount, CancellationToken cancellationToken = default)
    {
        lock (_topicsLock)
        {
            if (!_topics.TryGetValue(name, out var entry)) return ValueTask.FromResult(StoreResult<TopicMetadata>.Failure(StoreStatus.UnknownTopic, $"Topic '{name}' does not exist."));
            var current = entry.Metadata.PartitionCount;
            if (newPartitionCount <= current)
            {
                return ValueTask.FromResult(StoreResult<TopicMetadata>.Failure(StoreStatus.InvalidPartitions,
                    $"Topic currently has {current} partitions, which is higher than or equal to the requested {newPartitionCount}."));
            }
            var config = entry.Partitions[0].Config;
            var added = Enumerable.Range(current, newPartitionCount - current).Select(p => NewPartition(name, p, config));
            var metadata = entry.Metadata with { PartitionCount = newPartitionCount };
            Volatile.Write(ref _topics, _topics.SetItem(name, new TopicEntry(metadata, entry.Partitions.AddRange(added))));
            return ValueTask.FromResult(StoreResult<TopicMetadata>.Success(metadata));
        }
    }

    public ValueTask<StoreResult<TopicMetadata>> SetTopicConfigsAsync(string name, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken = default)
    {
        lock (_topicsLock)
        {
            if (!_topics.TryGetValue(name, out var entry)) return ValueTask.FromResult(StoreResult<TopicMetadata>.Failure(StoreStatus.UnknownTopic, $"Topic '{name}' does not exist."));
            var metadata = entry.Metadata with { Configs = Copy(configs) };
            var config = LogConfig.Create(BrokerConfigs, metadata.Configs);
            foreach (var partition in entry.Partitions) partition.Config = config;
            Volatile.Write(ref _topics, _topics.SetItem(name, entry with { Metadata = metadata }));
            return ValueTask.FromResult(StoreResult<TopicMetadata>.Success(metadata));
        }
    }

    public IPartitionLog? GetPartition(string topic, int partition) =>
        Volatile.Read(ref _topics).TryGetValue(topic, out var entry) && partition >= 0 && partition < entry.Partitions.Length
            ? entry.Partitions[partition]
            : null;

    /// <summary>Applies retention to every partition now; returns the number of batches deleted.</summary>
    public Task<int> EnforceRetentionAsync(CancellationToken cancellationToken = default)
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var deleted = 0;
        foreach (var partition in AllPartitions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            deleted += partition.EnforceRetention(now);
        }
        return Task.FromResult(deleted);
    }

    /// <summary>Compacts partitions of compacted topics that are due, off the caller's thread; returns how many partitions were cleaned.</summary>
    public Task<int> RunCleanerAsync(CancellationToken cancellationToken = default) => Task.Run(() =>
    {
        var now = _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var cleaned = 0;
        foreach (var partition in AllPartitions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (partition.Config.IsCompacted && partition.Clean(now, _producerIdExpirationMs, force: false)) cleaned++;
        }
        return cleaned;
    }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stopping.Dispose();
        lock (_topicsLock)
        {
            foreach (var entry in _topics.Values)
            {
                foreach (var partition in entry.Partitions) partition.MarkDeleted();
            }
            Volatile.Write(ref _topics, _topics.Clear());
        }
    }

    private IEnumerable<InMemoryPartitionLog> AllPartitions => Volatile.Read(ref _topics).Values.SelectMany(t => t.Partitions);

    private InMemoryPartitionLog NewPartition(string topic, int partition, LogConfig config) =>
        new(topic, partition, _timeProvider, _producerIdExpirationMs) { Config = config };

    private async Task RunBackgroundAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval, _timeProvider);
        while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
        {
            try
            {
                await EnforceRetentionAsync(_stopping.Token).ConfigureAwait(false);
                await RunCleanerAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (StorageException)
            {
                // A partition that cannot be cleaned now must not stop the loop; the next tick retries.
            }
        }
    }

    private static ImmutableDictionary<string, string> Copy(IReadOnlyDictionary<string, string> configs) =>
        configs.ToImmutableDictionary(StringComparer.Ordinal);

    private sealed record TopicEntry(TopicMetadata Metadata, ImmutableArray<InMemoryPartitionLog> Partitions);
}
