using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Admin;

public sealed record TopicListing(string Name, int Partitions, int ReplicationFactor, bool IsInternal);

public sealed record TopicPartitionDetails(int Partition, int? Leader, IReadOnlyList<int> Replicas, IReadOnlyList<int> InSyncReplicas, long StartOffset, long EndOffset)
{
    /// <summary>Records between the start and end offsets (an upper bound under compaction).</summary>
    public long Messages => Math.Max(0, EndOffset - StartOffset);
}

public sealed record TopicDetails(string Name, string? TopicId, bool IsInternal, IReadOnlyList<TopicPartitionDetails> Partitions);

/// <summary>
/// A topic at a glance: message count (end minus start offsets, an upper bound under compaction), bytes on disk (null
/// when the cluster would not tell), and the two configs people look for first.
/// </summary>
public sealed record TopicSummary(string Name, int Partitions, int ReplicationFactor, bool IsInternal, long Messages, long? SizeBytes,
    string? RetentionMs, string? CleanupPolicy);

/// <summary>Topic summaries, and why sizes are missing when they are.</summary>
public sealed record TopicSummaries(IReadOnlyList<TopicSummary> Topics, string? SizeError);

/// <summary>A topic to create. -1 partitions or replication factor means the broker's default.</summary>
public sealed record NewTopic(string Name)
{
    public int Partitions { get; init; } = -1;

    public short ReplicationFactor { get; init; } = -1;

    public IReadOnlyDictionary<string, string>? Configs { get; init; }
}

/// <summary>The log start offset and the log end offset (high watermark) of a partition.</summary>
public sealed record PartitionOffsets(long Start, long End);

/// <summary>Topics: list, describe with partition offsets, create, delete, add partitions, alter configs.</summary>
public sealed class TopicService
{
    private readonly KafkaAdmin _admin;

    internal TopicService(KafkaAdmin admin) => _admin = admin;

    public async Task<IReadOnlyList<TopicListing>> ListAsync(bool includeInternal = true, CancellationToken cancellationToken = default)
    {
        var metadata = await _admin.MetadataAsync(null, cancellationToken).ConfigureAwait(false);
        var names = metadata.Topics.Where(t => !t.Error.IsError).Select(t => t.Topic).ToList();
        if (names.Count == 0) return [];
        var described = await DescribeTopicsAsync(names, tolerateErrors: true, cancellationToken).ConfigureAwait(false);
        return described
            .Where(t => !t.Error.IsError && (includeInternal || !t.IsInternal))
            .Select(t => new TopicListing(t.Name, t.Partitions.Count, t.Partitions.Count == 0 ? 0 : t.Partitions.Max(p => p.Replicas.Count), t.IsInternal))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Every topic with its counts, size and retention settings, from a fixed number of requests whatever the topic count.</summary>
    public async Task<TopicSummaries> SummariesAsync(bool includeInternal = true, CancellationToken cancellationToken = default)
    {
        var metadata = await _admin.MetadataAsync(null, cancellationToken).ConfigureAwait(false);
        var names = metadata.Topics.Where(t => !t.Error.IsError).Select(t => t.Topic).ToList();
        if (names.Count == 0) return new TopicSummaries([], null);
        var described = (await DescribeTopicsAsync(names, tolerateErrors: true, cancellationToken).ConfigureAwait(false))
            .Where(t => !t.Error.IsError && (includeInternal || !t.IsInternal))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        if (described.Count == 0) return new TopicSummaries([], null);

        var partitions = described.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name, p.Partition))).ToList();
        var offsetsTask = ListOffsetsAsync(partitions, cancellationToken);
        var configsTask = _admin.Configs.DescribeManyAsync(described.Select(t => ConfigEntity.Topic(t.Name)).ToList(), cancellationToken);
        var sizesTask = SizesOrErrorAsync(described.Select(t => t.Name).ToList(), cancellationToken);
        var offsets = await offsetsTask.ConfigureAwait(false);
        var configs = await configsTask.ConfigureAwait(false);
        var (sizes, sizeError) = await sizesTask.ConfigureAwait(false);

        var summaries = described.Select(t =>
        {
            var tps = t.Partitions.Select(p => new TopicPartition(t.Name, p.Partition)).ToList();
            var messages = tps.Sum(tp => offsets.TryGetValue(tp, out var o) ? Math.Max(0, o.End - o.Start) : 0);
            long? size = sizes is null ? null : tps.Sum(tp => sizes.GetValueOrDefault(tp));
            var topicConfigs = configs.GetValueOrDefault(ConfigEntity.Topic(t.Name));
            string? Config(string name) => topicConfigs?.FirstOrDefault(c => c.Name == name)?.Value;
            return new TopicSummary(t.Name, t.Partitions.Count, t.Partitions.Count == 0 ? 0 : t.Partitions.Max(p => p.Replicas.Count), t.IsInternal,
                messages, size, Config("retention.ms"), Config("cleanup.policy"));
        }).ToList();
        return new TopicSummaries(summaries, sizeError);
    }

    private async Task<(IReadOnlyDictionary<TopicPartition, long>? Sizes, string? Error)> SizesOrErrorAsync(IReadOnlyCollection<string> topics, CancellationToken cancellationToken)
    {
        try
        {
            return (await _admin.LogDirs.PartitionSizesAsync(topics, cancellationToken).ConfigureAwait(false), null);
        }
        catch (AdminException ex)
        {
            // Sizes are a nicety: a cluster that refuses DescribeLogDirs still lists its topics.
            return (null, ex.Message);
        }
    }

    public async Task<TopicDetails> DescribeAsync(string topic, CancellationToken cancellationToken = default)
    {
        var description = (await DescribeTopicsAsync([topic], tolerateErrors: false, cancellationToken).ConfigureAwait(false))[0];
        var partitions = description.Partitions.Select(p => new TopicPartition(topic, p.Partition)).ToList();
        var offsets = await ListOffsetsAsync(partitions, cancellationToken).ConfigureAwait(false);
        var details = description.Partitions
            .OrderBy(p => p.Partition)
            .Select(p =>
            {
                var o = offsets[new TopicPartition(topic, p.Partition)];
                return new TopicPartitionDetails(p.Partition, p.Leader?.Id, p.Replicas.Select(n => n.Id).ToList(), p.ISR.Select(n => n.Id).ToList(), o.Start, o.End);
            })
            .ToList();
        return new TopicDetails(description.Name, KafkaForm(description.TopicId), description.IsInternal, details);
    }

    // Confluent.Kafka's Uuid prints standard base64; people compare ids with Kafka's tools, which print Uuid.toString's
    // URL-safe base64 without padding.
    private static string? KafkaForm(Uuid? id) =>
        id is { } uuid ? new Brook.Protocol.KafkaUuid(uuid.MostSignificantBits, uuid.LeastSignificantBits).ToString() : null;

    public Task CreateAsync(NewTopic topic, bool validateOnly = false, CancellationToken cancellationToken = default)
    {
        var spec = new TopicSpecification
        {
            Name = topic.Name,
            NumPartitions = topic.Partitions,
            ReplicationFactor = topic.ReplicationFactor,
            Configs = topic.Configs?.ToDictionary(kv => kv.Key, kv => kv.Value),
        };
        return _admin.CallAsync(
            c => c.CreateTopicsAsync([spec], new CreateTopicsOptions { ValidateOnly = validateOnly, RequestTimeout = _admin.Timeout, OperationTimeout = _admin.Timeout }),
            $"create topic '{topic.Name}'", cancellationToken,
            ex => ex is CreateTopicsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, r => $"create topic '{r.Topic}'") : null);
    }

    public Task DeleteAsync(IReadOnlyList<string> topics, CancellationToken cancellationToken = default) =>
        _admin.CallAsync(
            c => c.DeleteTopicsAsync(topics, new DeleteTopicsOptions { RequestTimeout = _admin.Timeout, OperationTimeout = _admin.Timeout }),
            "delete topics", cancellationToken,
            ex => ex is DeleteTopicsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, r => $"delete topic '{r.Topic}'") : null);

    /// <summary>Grows a topic to <paramref name="totalPartitions"/> partitions (Kafka cannot shrink one).</summary>
    public Task AddPartitionsAsync(string topic, int totalPartitions, CancellationToken cancellationToken = default) =>
        _admin.CallAsync(
            c => c.CreatePartitionsAsync([new PartitionsSpecification { Topic = topic, IncreaseTo = totalPartitions }],
                new CreatePartitionsOptions { RequestTimeout = _admin.Timeout, OperationTimeout = _admin.Timeout }),
            $"add partitions to '{topic}'", cancellationToken,
            ex => ex is CreatePartitionsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, r => $"add partitions to '{r.Topic}'") : null);

    /// <summary>Sets and removes topic config overrides; other overrides are kept.</summary>
    public Task AlterConfigAsync(string topic, IReadOnlyDictionary<string, string> set, IReadOnlyList<string> delete, CancellationToken cancellationToken = default) =>
        _admin.Configs.AlterAsync(ConfigEntity.Topic(topic), set, delete, cancellationToken);

    /// <summary>The partition ids of a topic; <see cref="AdminErrorKind.NotFound"/> when it does not exist.</summary>
    public async Task<IReadOnlyList<int>> PartitionsAsync(string topic, CancellationToken cancellationToken = default)
    {
        var description = (await DescribeTopicsAsync([topic], tolerateErrors: false, cancellationToken).ConfigureAwait(false))[0];
        return description.Partitions.Select(p => p.Partition).Order().ToList();
    }

    /// <summary>Start and end offsets of each partition, in one request for each.</summary>
    public async Task<IReadOnlyDictionary<TopicPartition, PartitionOffsets>> ListOffsetsAsync(IReadOnlyCollection<TopicPartition> partitions, CancellationToken cancellationToken = default)
    {
        if (partitions.Count == 0) return new Dictionary<TopicPartition, PartitionOffsets>();
        var starts = await ListOffsetsAsync(partitions, OffsetSpec.Earliest(), cancellationToken).ConfigureAwait(false);
        var ends = await ListOffsetsAsync(partitions, OffsetSpec.Latest(), cancellationToken).ConfigureAwait(false);
        return partitions.Distinct().ToDictionary(p => p, p => new PartitionOffsets(starts[p], ends[p]));
    }

    /// <summary>For each partition, the first offset whose timestamp is at or after <paramref name="time"/>; -1 where there is none.</summary>
    public Task<Dictionary<TopicPartition, long>> OffsetsForTimeAsync(IReadOnlyCollection<TopicPartition> partitions, DateTimeOffset time, CancellationToken cancellationToken = default) =>
        ListOffsetsAsync(partitions, OffsetSpec.ForTimestamp(time.ToUnixTimeMilliseconds()), cancellationToken);

    private async Task<Dictionary<TopicPartition, long>> ListOffsetsAsync(IReadOnlyCollection<TopicPartition> partitions, OffsetSpec spec, CancellationToken cancellationToken)
    {
        var specs = partitions.Distinct().Select(p => new TopicPartitionOffsetSpec { TopicPartition = p, OffsetSpec = spec }).ToList();
        var result = await _admin.CallAsync(
            c => c.ListOffsetsAsync(specs, new ListOffsetsOptions { RequestTimeout = _admin.Timeout }),
            "list offsets", cancellationToken,
            ex => ex is ListOffsetsException e
                ? KafkaAdmin.FirstError(e.Result.ResultInfos, r => r.TopicPartitionOffsetError.Error, r => $"list offsets of {r.TopicPartitionOffsetError.TopicPartition}")
                : null).ConfigureAwait(false);
        return result.ResultInfos.ToDictionary(r => r.TopicPartitionOffsetError.TopicPartition, r => r.TopicPartitionOffsetError.Offset.Value);
    }

    private async Task<List<TopicDescription>> DescribeTopicsAsync(IReadOnlyList<string> names, bool tolerateErrors, CancellationToken cancellationToken)
    {
        var options = new DescribeTopicsOptions { RequestTimeout = _admin.Timeout };
        async Task<List<TopicDescription>> Describe(IAdminClient client)
        {
            try
            {
                return (await client.DescribeTopicsAsync(TopicCollection.OfTopicNames(names), options).ConfigureAwait(false)).TopicDescriptions;
            }
            catch (DescribeTopicsException e) when (tolerateErrors)
            {
                return e.Results.TopicDescriptions;
            }
        }
        return await _admin.CallAsync(Describe,
            "describe topics", cancellationToken,
            ex => ex is DescribeTopicsException e
                ? KafkaAdmin.FirstError(e.Results.TopicDescriptions, d => d.Error,
                    d => d.Error.Code == ErrorCode.UnknownTopicOrPart ? $"topic '{d.Name}' does not exist" : $"topic '{d.Name}'")
                : null).ConfigureAwait(false);
    }
}
