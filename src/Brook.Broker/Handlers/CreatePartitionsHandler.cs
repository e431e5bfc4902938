using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>CreatePartitions (key 37). v2: flexible. Partitions can only grow. Needs ALTER on each topic.</summary>
public sealed class CreatePartitionsHandler(TopicService topics, Storage.ILogStore store, BrokerNode node) : RequestHandler<CreatePartitionsRequest, CreatePartitionsResponse>
{
    /// <summary>One assignment per added partition, each naming only this node once (the topic has one replica).</summary>
    private string? AssignmentError(List<CreatePartitionsRequest.CreatePartitionsAssignment> assignments, int added) =>
        assignments.Count != added
            ? $"Attempted to add {added} additional partition(s), but only {assignments.Count} assignment(s) were specified."
            : ReplicaAssignments.Validate(assignments.Select(a => (IReadOnlyList<int>)a.BrokerIds).ToList(), node.NodeId, existingReplicationFactor: 1);

    protected override async ValueTask<CreatePartitionsResponse?> HandleAsync(RequestContext context, CreatePartitionsRequest request, CancellationToken cancellationToken)
    {
        var response = new CreatePartitionsResponse();
        foreach (var topic in request.Topics)
        {
            var result = new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = topic.Name };
            response.Results.Add(result);
            if (!context.IsAllowed(AclOperation.Alter, ResourceType.Topic, topic.Name))
            {
                result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                result.ErrorMessage = "The topic authorization is failed.";
                continue;
            }
            if (topic.Assignments is { Count: > 0 } assignments && store.GetTopic(topic.Name) is { } existing && topic.Count > existing.PartitionCount
                && AssignmentError(assignments, topic.Count - existing.PartitionCount) is { } invalid)
            {
                result.ErrorCode = (short)ErrorCode.InvalidReplicaAssignment;
                result.ErrorMessage = invalid;
                continue;
            }
            var outcome = await topics.AddPartitionsAsync(topic.Name, topic.Count, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            result.ErrorCode = (short)outcome.Error;
            result.ErrorMessage = outcome.Message;
        }
        return response;
    }
}
