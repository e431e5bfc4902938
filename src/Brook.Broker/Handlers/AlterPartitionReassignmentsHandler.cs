using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// AlterPartitionReassignments (key 45). A single node holds every replica, so the only valid target is this node
/// alone: that reassignment is already complete and succeeds at once; any other replica list is refused as Kafka
/// refuses one naming brokers that are not registered, and a cancellation finds no reassignment to cancel.
/// Needs ALTER on the cluster.
/// </summary>
public sealed class AlterPartitionReassignmentsHandler(ILogStore store, BrokerNode node)
    : RequestHandler<AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse>
{
    protected override ValueTask<AlterPartitionReassignmentsResponse?> HandleAsync(RequestContext context, AlterPartitionReassignmentsRequest request, CancellationToken cancellationToken)
    {
        var clusterAllowed = context.IsClusterAllowed(AclOperation.Alter);
        var response = new AlterPartitionReassignmentsResponse();
        if (!clusterAllowed)
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            response.ErrorMessage = "The client is not authorized to alter partition reassignments.";
        }
        foreach (var topic in request.Topics)
        {
            var topicResult = new AlterPartitionReassignmentsResponse.ReassignableTopicResponse { Name = topic.Name };
            response.Responses.Add(topicResult);
            var metadata = store.GetTopic(topic.Name);
            foreach (var partition in topic.Partitions)
            {
                var (error, message) = clusterAllowed
                    ? Reassign(metadata, topic.Name, partition.PartitionIndex, partition.Replicas)
                    : (ErrorCode.ClusterAuthorizationFailed, response.ErrorMessage);
                topicResult.Partitions.Add(new AlterPartitionReassignmentsResponse.ReassignablePartitionResponse
                {
                    PartitionIndex = partition.PartitionIndex,
                    ErrorCode = (short)error,
                    ErrorMessage = message,
                });
            }
        }
        return ValueTask.FromResult<AlterPartitionReassignmentsResponse?>(response);
    }

    private (ErrorCode Error, string? Message) Reassign(TopicMetadata? topic, string topicName, int partitionIndex, List<int>? replicas)
    {
        if (topic is null || partitionIndex < 0 || partitionIndex >= topic.PartitionCount)
            return (ErrorCode.UnknownTopicOrPartition, $"Unable to find partition {topicName}-{partitionIndex}.");
        if (replicas is null)
            return (ErrorCode.NoReassignmentInProgress, $"Partition {topicName}-{partitionIndex} has no ongoing reassignment to cancel.");
        if (replicas.Count == 0)
            return (ErrorCode.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.");
        if (replicas.Distinct().Count() != replicas.Count)
            return (ErrorCode.InvalidReplicaAssignment, $"The manual partition assignment includes the broker {replicas.GroupBy(r => r).First(g => g.Count() > 1).Key} more than once.");
        var unknown = replicas.FirstOrDefault(r => r != node.NodeId, node.NodeId);
        if (unknown != node.NodeId)
            return (ErrorCode.InvalidReplicaAssignment, $"The manual partition assignment includes broker {unknown}, but no such broker is registered.");
        return (ErrorCode.None, null);
    }
}
