using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// CreateTopics (key 19). v1: validate-only and error messages; v5: flexible, and the response describes the
/// created topic (partitions, replication factor, configs); v7: topic ids. Replication above 1 is refused on one node.
/// Needs CREATE on the cluster or on each topic; the configs are shown only with DESCRIBE_CONFIGS on the topic.
/// </summary>
public sealed class CreateTopicsHandler(TopicService topics, BrokerConfig config, BrokerNode node) : RequestHandler<CreateTopicsRequest, CreateTopicsResponse>
{
    /// <summary>Partition indexes 0..n-1, each once, with a valid replica list (Kafka's checks of a manual assignment).</summary>
    private string? AssignmentError(List<CreateTopicsRequest.CreatableReplicaAssignment> assignments)
    {
        var indexes = assignments.Select(a => a.PartitionIndex).Order().ToList();
        if (!indexes.SequenceEqual(Enumerable.Range(0, assignments.Count)))
            return "Partitions should be a consecutive 0-based integer sequence: " + string.Join(", ", indexes) + ".";
        return ReplicaAssignments.Validate(assignments.OrderBy(a => a.PartitionIndex).Select(a => (IReadOnlyList<int>)a.BrokerIds).ToList(), node.NodeId);
    }

    protected override async ValueTask<CreateTopicsResponse?> HandleAsync(RequestContext context, CreateTopicsRequest request, CancellationToken cancellationToken)
    {
        var response = new CreateTopicsResponse();
        var clusterCreate = context.IsClusterAllowed(AclOperation.Create, logIfDenied: false);
        var duplicates = request.Topics.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        // Counted as Kafka counts: the whole request fails when its topics together ask for too many partitions.
        var requested = request.Topics.Sum(t => t.Assignments.Count > 0 ? t.Assignments.Count : t.NumPartitions == -1 ? config.DefaultPartitions : Math.Max(t.NumPartitions, 0L));
        foreach (var topic in request.Topics)
        {
            var result = new CreateTopicsResponse.CreatableTopicResult { Name = topic.Name };
            response.Topics.Add(result);
            if (requested > TopicService.MaxPartitionsPerRequest)
            {
                Fail(result, ErrorCode.PolicyViolation, TopicService.TooManyPartitionsMessage);
                continue;
            }
            if (duplicates.Contains(topic.Name))
            {
                Fail(result, ErrorCode.InvalidRequest, $"Topic '{topic.Name}' appears more than once in the request.");
                continue;
            }
            if (!clusterCreate && !context.IsAllowed(AclOperation.Create, ResourceType.Topic, topic.Name))
            {
                Fail(result, ErrorCode.TopicAuthorizationFailed, "Authorization failed.");
                continue;
            }
            if (topic.Assignments.Count > 0 && (topic.NumPartitions != -1 || topic.ReplicationFactor != -1))
            {
                Fail(result, ErrorCode.InvalidRequest, "Both a manual assignment and a partition count or replication factor were given.");
                continue;
            }
            if (topic.Assignments.Count > 0 && AssignmentError(topic.Assignments) is { } invalid)
            {
                Fail(result, ErrorCode.InvalidReplicaAssignment, invalid);
                continue;
            }
            var partitions = topic.Assignments.Count > 0 ? topic.Assignments.Count : topic.NumPartitions;
            var replication = topic.Assignments.Count > 0 ? topic.Assignments.Max(a => a.BrokerIds.Count) : topic.ReplicationFactor;
            var configs = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var c in topic.Configs) configs[c.Name] = c.Value;
            var outcome = await topics.CreateAsync(topic.Name, partitions, replication, configs, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            if (outcome.Error != ErrorCode.None)
            {
                Fail(result, outcome.Error, outcome.Message);
                continue;
            }
            var created = outcome.Topic!;
            result.TopicId = created.TopicId;
            result.NumPartitions = created.PartitionCount;
            result.ReplicationFactor = 1;
            result.Configs = [];
            if (!context.IsAllowed(AclOperation.DescribeConfigs, ResourceType.Topic, topic.Name, logIfDenied: false))
            {
                result.TopicConfigErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                continue;
            }
            foreach (var entry in config.DescribeTopic(created))
            {
                result.Configs.Add(new CreateTopicsResponse.CreatableTopicConfigs
                {
                    Name = entry.Name,
                    Value = entry.Value,
                    ReadOnly = entry.IsReadOnly,
                    ConfigSource = (sbyte)entry.Source,
                    IsSensitive = entry.IsSensitive,
                });
            }
        }
        return response;
    }

    private static void Fail(CreateTopicsResponse.CreatableTopicResult result, ErrorCode error, string? message)
    {
        result.ErrorCode = (short)error;
        result.ErrorMessage = message;
        result.Configs = null;
    }
}
