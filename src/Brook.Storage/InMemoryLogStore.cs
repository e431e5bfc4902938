using System.Collections.Immutable;
using Brook.Protocol;

namespace Brook.Storage;

/// <summary>
/// A log store held entirely in memory; nothing survives disposal. Same behaviour as the disk store apart from
/// durability. Thread-safety: topic changes are serialized by one lock and published as an immutable snapshot,
/// so lookups never lock; each partition serializes its own appends.
/// </summary>
public sealed class InMemoryLogStore : ILogStore
{
    private readonly object _topicsLock = new();
    private readonly TimeProvider _timeProvider;
    private ImmutableDictionary<string, TopicEntry> _topics = ImmutableDictionary.Create<string, TopicEntry>(StringComparer.Ordinal);

    /// <param name="timeProvider">Clock; the system clock when null.</param>
    /// <param name="brokerConfigs">Broker-level settings of topic defaults by broker name (log.retention.hours, ...), used by <see cref="DescribeTopicConfigs"/>.</param>
    public InMemoryLogStore(TimeProvider? timeProvider = null, IReadOnlyDictionary<string, string>? brokerConfigs = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
        BrokerConfigs = brokerConfigs ?? ImmutableDictionary<string, string>.Empty;
        var errors = TopicConfigs.ValidateBrokerDefaults(BrokerConfigs);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors.Select(e => e.Message)), nameof(brokerConfigs));
    }

    public IReadOnlyDictionary<string, string> BrokerConfigs { get; }

    public IReadOnlyList<ConfigEntry> DescribeTopicConfigs(string topic) =>
        GetTopic(topic) is { } metadata ? TopicConfigs.Describe(BrokerConfigs, metadata.Configs) : [];

    /// <summary>The store's clock (the in-memory store applies no retention; see the disk store).</summary>
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
            var partitions = Enumerable.Range(0, partitionCount).Select(p => new InMemoryPartitionLog(name, p)).ToImmutableArray();
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
            var added = Enumerable.Range(current, newPartitionCount - current).Select(p => new InMemoryPartitionLog(name, p));
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
            Volatile.Write(ref _topics, _topics.SetItem(name, entry with { Metadata = metadata }));
            return ValueTask.FromResult(StoreResult<TopicMetadata>.Success(metadata));
        }
    }

    public IPartitionLog? GetPartition(string topic, int partition) =>
        Volatile.Read(ref _topics).TryGetValue(topic, out var entry) && partition >= 0 && partition < entry.Partitions.Length
            ? entry.Partitions[partition]
            : null;

    public ValueTask DisposeAsync()
    {
        lock (_topicsLock)
        {
            foreach (var entry in _topics.Values)
            {
                foreach (var partition in entry.Partitions) partition.MarkDeleted();
            }
            Volatile.Write(ref _topics, _topics.Clear());
        }
        return ValueTask.CompletedTask;
    }

    private static ImmutableDictionary<string, string> Copy(IReadOnlyDictionary<string, string> configs) =>
        configs.ToImmutableDictionary(StringComparer.Ordinal);

    private sealed record TopicEntry(TopicMetadata Metadata, ImmutableArray<InMemoryPartitionLog> Partitions);
}
