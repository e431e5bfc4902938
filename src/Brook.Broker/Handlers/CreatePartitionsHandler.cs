using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>CreatePartitions (key 37). v2: flexible. Partitions can only grow. Needs ALTER on each topic.</summary>
public sealed class CreatePartitionsHandler(TopicService topics) : RequestHandler<CreatePartitionsRequest, CreatePartitionsResponse>
{
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
            if (topic.Assignments is { } assignments && assignments.Any(a => a.BrokerIds.Count != 1))
            {
                result.ErrorCode = (short)ErrorCode.InvalidReplicaAssignment;
                result.ErrorMessage = "Each new partition must be assigned to exactly the one broker.";
                continue;
            }
            var outcome = await topics.AddPartitionsAsync(topic.Name, topic.Count, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            result.ErrorCode = (short)outcome.Error;
            result.ErrorMessage = outcome.Message;
        }
        return response;
    }
}
