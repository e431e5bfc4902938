using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeTopicPartitions (key 75): paged partition metadata. Topics are answered in name order; at most
/// ResponsePartitionLimit partitions per response, with a cursor naming where the next page starts. Topics the client
/// may not DESCRIBE are left out of "all topics" and answered TOPIC_AUTHORIZATION_FAILED when named.
/// </summary>
public sealed class DescribeTopicPartitionsHandler(ILogStore store, BrokerNode node) : RequestHandler<DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse>
{
    protected override ValueTask<DescribeTopicPartitionsResponse?> HandleAsync(RequestContext context, DescribeTopicPartitionsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeTopicPartitionsResponse();
        var limit = Math.Clamp(request.ResponsePartitionLimit, 1, 2000);
        var names = request.Topics.Count == 0
            ? store.ListTopics().Select(t => t.Name)
            : request.Topics.Select(t => t.Name);
        var ordered = names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var cursor = request.Cursor;
        var used = 0;
        foreach (var name in ordered)
        {
            if (cursor is not null && string.CompareOrdinal(name, cursor.TopicName) < 0) continue;
            if (!context.IsAllowed(AclOperation.Describe, ResourceType.Topic, name, logIfDenied: request.Topics.Count > 0))
            {
                if (request.Topics.Count > 0) response.Topics.Add(new() { Name = name, ErrorCode = (short)ErrorCode.TopicAuthorizationFailed });
                continue;
            }
            var topic = store.GetTopic(name);
            if (topic is null)
            {
                response.Topics.Add(new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic
                {
                    Name = name,
                    ErrorCode = (short)(TopicService.ValidateName(name) is null ? ErrorCode.UnknownTopicOrPartition : ErrorCode.InvalidTopicException),
                });
                continue;
            }
            var result = new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic
            {
                Name = topic.Name,
                TopicId = topic.TopicId,
                IsInternal = topic.IsInternal,
                TopicAuthorizedOperations = context.AuthorizedOperations(ResourceType.Topic, topic.Name),
            };
            response.Topics.Add(result);
            var first = cursor is not null && cursor.TopicName == name ? Math.Max(0, cursor.PartitionIndex) : 0;
            cursor = null;
            for (var p = first; p < topic.PartitionCount; p++)
            {
                if (used == limit)
                {
                    response.NextCursor = new DescribeTopicPartitionsResponse.Cursor { TopicName = topic.Name, PartitionIndex = p };
                    return ValueTask.FromResult<DescribeTopicPartitionsResponse?>(response);
                }
                result.Partitions.Add(new DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition
                {
                    PartitionIndex = p,
                    LeaderId = node.NodeId,
                    LeaderEpoch = 0,
                    ReplicaNodes = [node.NodeId],
                    IsrNodes = [node.NodeId],
                    EligibleLeaderReplicas = [],
                    LastKnownElr = [],
                });
                used++;
            }
        }
        return ValueTask.FromResult<DescribeTopicPartitionsResponse?>(response);
    }
}
