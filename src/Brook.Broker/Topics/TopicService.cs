using Brook.Protocol;
using Brook.Storage;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Topics;

/// <summary>Outcome of a topic operation: an error code (None on success), a message, and the topic.</summary>
public readonly record struct TopicOutcome(ErrorCode Error, string? Message, TopicMetadata? Topic)
{
    public static TopicOutcome Ok(TopicMetadata topic) => new(ErrorCode.None, null, topic);

    public static TopicOutcome Fail(ErrorCode error, string message) => new(error, message, null);
}

/// <summary>Topic administration with Kafka's validation rules, on top of the log store.</summary>
public sealed partial class TopicService(ILogStore store, BrokerConfig config, ILogger<TopicService> logger)
{
    public const int MaxNameLength = 249;

    /// <summary>
    /// Most partitions one request may create, as Kafka's controller limits it (POLICY_VIOLATION): a request asking for
    /// millions must not make the broker allocate for millions.
    /// </summary>
    public const int MaxPartitionsPerRequest = 10_000;

    public const string TooManyPartitionsMessage = "Excessively large number of partitions per request.";

    public ILogStore Store => store;

    /// <summary>Kafka's rule: 1–249 characters from [a-zA-Z0-9._-], and not "." or "..".</summary>
    public static string? ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "Topic name is empty.";
        if (name is "." or "..") return "Topic name cannot be '.' or '..'.";
        if (name.Length > MaxNameLength) return $"Topic name is longer than {MaxNameLength} characters.";
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                return $"Topic name '{name}' contains '{c}'; only ASCII letters, digits, '.', '_' and '-' are allowed.";
        return null;
    }

    public async ValueTask<TopicOutcome> CreateAsync(string name, int partitions, int replicationFactor, IReadOnlyDictionary<string, string?> configs, bool validateOnly, CancellationToken cancellationToken)
    {
        if (ValidateName(name) is { } nameError) return TopicOutcome.Fail(ErrorCode.InvalidTopicException, nameError);
        if (partitions == -1) partitions = config.DefaultPartitions;
        if (partitions <= 0) return TopicOutcome.Fail(ErrorCode.InvalidPartitions, "Number of partitions must be larger than 0.");
        if (replicationFactor == -1) replicationFactor = 1;
        if (replicationFactor != 1)
            return TopicOutcome.Fail(ErrorCode.InvalidReplicationFactor, $"Replication factor {replicationFactor} is larger than the 1 broker available.");
        var (validated, configError) = config.ValidateTopicConfigs(configs);
        if (configError is not null) return TopicOutcome.Fail(ErrorCode.InvalidConfig, configError);
        if (store.GetTopic(name) is not null) return TopicOutcome.Fail(ErrorCode.TopicAlreadyExists, $"Topic '{name}' already exists.");
        if (validateOnly) return TopicOutcome.Ok(new TopicMetadata(name, KafkaUuid.Zero, partitions, validated));
        var result = await store.CreateTopicAsync(name, partitions, validated, cancellationToken).ConfigureAwait(false);
        if (result.Status == StoreStatus.Ok)
        {
            LogCreated(name, partitions, result.Value!.TopicId.ToString(),
                validated.Count == 0 ? "none" : string.Join(", ", validated.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}")));
        }
        return result.Status switch
        {
            StoreStatus.Ok => TopicOutcome.Ok(result.Value!),
            StoreStatus.TopicAlreadyExists => TopicOutcome.Fail(ErrorCode.TopicAlreadyExists, $"Topic '{name}' already exists."),
            _ => TopicOutcome.Fail(ErrorCode.KafkaStorageError, result.Message ?? "Could not create the topic."),
        };
    }

    /// <summary>Creates a topic with broker defaults when auto-creation is enabled and the topic is missing.</summary>
    public async ValueTask<TopicOutcome> GetOrAutoCreateAsync(string name, bool allowAutoCreate, CancellationToken cancellationToken)
    {
        if (store.GetTopic(name) is { } existing) return TopicOutcome.Ok(existing);
        if (!allowAutoCreate || !config.AutoCreateTopics) return TopicOutcome.Fail(ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
        var created = await CreateAsync(name, -1, -1, new Dictionary<string, string?>(), validateOnly: false, cancellationToken).ConfigureAwait(false);
        // Two clients may race to auto-create the same topic: the loser sees the winner's topic.
        if (created.Error == ErrorCode.TopicAlreadyExists && store.GetTopic(name) is { } raced) return TopicOutcome.Ok(raced);
        return created;
    }

    public async ValueTask<TopicOutcome> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var topic = store.GetTopic(name);
        if (topic is null) return TopicOutcome.Fail(ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
        if (topic.IsInternal) return TopicOutcome.Fail(ErrorCode.TopicAuthorizationFailed, $"Internal topic '{name}' cannot be deleted.");
        var status = await store.DeleteTopicAsync(name, cancellationToken).ConfigureAwait(false);
        if (status == StoreStatus.Ok) LogDeleted(name, topic.PartitionCount, topic.TopicId.ToString());
        return status switch
        {
            StoreStatus.Ok => TopicOutcome.Ok(topic),
            StoreStatus.UnknownTopic => TopicOutcome.Fail(ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist."),
            _ => TopicOutcome.Fail(ErrorCode.KafkaStorageError, "Could not delete the topic."),
        };
    }

    public async ValueTask<TopicOutcome> AddPartitionsAsync(string name, int newCount, bool validateOnly, CancellationToken cancellationToken)
    {
        var topic = store.GetTopic(name);
        if (topic is null) return TopicOutcome.Fail(ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
        if (newCount <= topic.PartitionCount)
            return TopicOutcome.Fail(ErrorCode.InvalidPartitions, $"Topic currently has {topic.PartitionCount} partitions, which is higher than or equal to the requested {newCount}.");
        if ((long)newCount - topic.PartitionCount > MaxPartitionsPerRequest) return TopicOutcome.Fail(ErrorCode.PolicyViolation, TooManyPartitionsMessage);
        if (validateOnly) return TopicOutcome.Ok(topic with { PartitionCount = newCount });
        var result = await store.AddPartitionsAsync(name, newCount, cancellationToken).ConfigureAwait(false);
        if (result.Status == StoreStatus.Ok) LogPartitionsAdded(name, topic.PartitionCount, newCount);
        return result.Status == StoreStatus.Ok
            ? TopicOutcome.Ok(result.Value!)
            : TopicOutcome.Fail(result.Status == StoreStatus.UnknownTopic ? ErrorCode.UnknownTopicOrPartition : ErrorCode.InvalidPartitions, result.Message ?? "Could not add partitions.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions (id {TopicId}), configs: {Configs}")]
    private partial void LogCreated(string topic, int partitions, string topicId, string configs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted topic {Topic} with {Partitions} partitions (id {TopicId})")]
    private partial void LogDeleted(string topic, int partitions, string topicId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Topic {Topic} grew from {OldCount} to {NewCount} partitions")]
    private partial void LogPartitionsAdded(string topic, int oldCount, int newCount);
}
