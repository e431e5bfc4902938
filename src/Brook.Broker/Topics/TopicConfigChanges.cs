using Brook.Protocol;
using Brook.Storage;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Topics;

/// <summary>Applies AlterConfigs (replace all) and IncrementalAlterConfigs (set/delete/append/subtract) to topics.</summary>
public sealed partial class TopicConfigChanges(ILogStore store, BrokerConfig config, ILogger<TopicConfigChanges> logger)
{
    public const sbyte OpSet = 0;
    public const sbyte OpDelete = 1;
    public const sbyte OpAppend = 2;
    public const sbyte OpSubtract = 3;

    /// <summary>Replaces the topic's overrides with <paramref name="configs"/> (legacy AlterConfigs semantics).</summary>
    public ValueTask<(ErrorCode Error, string? Message)> ReplaceAsync(string topicName, IReadOnlyDictionary<string, string?> configs, bool validateOnly, CancellationToken cancellationToken) =>
        ApplyAsync(topicName, _ => configs, validateOnly, cancellationToken);

    public ValueTask<(ErrorCode Error, string? Message)> ApplyIncrementalAsync(string topicName, IReadOnlyList<(string Name, sbyte Operation, string? Value)> changes, bool validateOnly, CancellationToken cancellationToken)
    {
        if (changes.GroupBy(c => c.Name, StringComparer.Ordinal).Any(g => g.Count() > 1))
            return ValueTask.FromResult((ErrorCode.InvalidRequest, (string?)"A config name appears more than once."));
        return ApplyAsync(topicName, current =>
        {
            var next = current.ToDictionary(c => c.Key, c => (string?)c.Value, StringComparer.Ordinal);
            foreach (var (name, op, value) in changes)
            {
                switch (op)
                {
                    case OpSet:
                        next[name] = value;
                        break;
                    case OpDelete:
                        next.Remove(name);
                        break;
                    case OpAppend or OpSubtract:
                        if (TopicConfigs.Find(name) is not { Type: ConfigValueType.List } definition)
                            throw new ConfigChangeException(ErrorCode.InvalidConfig, $"Config '{name}' is not a list; APPEND and SUBTRACT apply to lists only.");
                        // As Kafka: the topic's override, else the config's own default (not the broker's).
                        next[name] = Configuration.ConfigOperations.Combine(next.GetValueOrDefault(name) ?? definition.DefaultValue, value, op);
                        break;
                    default:
                        throw new ConfigChangeException(ErrorCode.InvalidRequest, $"Unknown config operation {op}.");
                }
            }
            return next;
        }, validateOnly, cancellationToken);
    }

    private async ValueTask<(ErrorCode Error, string? Message)> ApplyAsync(
        string topicName, Func<IReadOnlyDictionary<string, string>, IReadOnlyDictionary<string, string?>> change, bool validateOnly, CancellationToken cancellationToken)
    {
        var topic = store.GetTopic(topicName);
        if (topic is null) return (ErrorCode.UnknownTopicOrPartition, $"Topic '{topicName}' does not exist.");
        IReadOnlyDictionary<string, string?> next;
        try
        {
            next = change(topic.Configs);
        }
        catch (ConfigChangeException ex)
        {
            return (ex.Error, ex.Message);
        }
        var (validated, error) = config.ValidateTopicConfigs(next);
        if (error is not null) return (ErrorCode.InvalidConfig, error);
        if (validateOnly) return (ErrorCode.None, null);
        var result = await store.SetTopicConfigsAsync(topicName, validated, cancellationToken).ConfigureAwait(false);
        if (result.Status == StoreStatus.Ok) LogChanged(topicName, Describe(topic.Configs), Describe(validated));
        return result.Status switch
        {
            StoreStatus.Ok => (ErrorCode.None, null),
            StoreStatus.UnknownTopic => (ErrorCode.UnknownTopicOrPartition, $"Topic '{topicName}' does not exist."),
            _ => (ErrorCode.KafkaStorageError, result.Message),
        };
    }

    private static string Describe(IReadOnlyDictionary<string, string> configs) =>
        configs.Count == 0 ? "none" : string.Join(", ", configs.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value}"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Changed the configs of topic {Topic} from {Old} to {New}")]
    private partial void LogChanged(string topic, string old, string @new);

    private sealed class ConfigChangeException(ErrorCode error, string message) : Exception(message)
    {
        public ErrorCode Error { get; } = error;
    }
}
