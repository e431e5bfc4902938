using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// ConsumerGroupDescribe (key 69), v0: epochs, assignor and members with current and target assignments of
/// consumer-protocol groups, and the authorized operations when asked. Needs DESCRIBE on each group.
/// </summary>
public sealed class ConsumerGroupDescribeHandler(GroupCoordinator coordinator) : RequestHandler<ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse>
{
    protected override async ValueTask<ConsumerGroupDescribeResponse?> HandleAsync(RequestContext context, ConsumerGroupDescribeRequest request, CancellationToken cancellationToken)
    {
        var response = new ConsumerGroupDescribeResponse();
        foreach (var id in request.GroupIds)
        {
            if (!context.IsAllowed(AclOperation.Describe, ResourceType.Group, id))
            {
                response.Groups.Add(new ConsumerGroupDescribeResponse.DescribedGroup { GroupId = id, ErrorCode = (short)ErrorCode.GroupAuthorizationFailed, ErrorMessage = "Not authorized to describe the group." });
                continue;
            }
            var group = await coordinator.DescribeConsumerGroupAsync(id, cancellationToken).ConfigureAwait(false);
            if (request.IncludeAuthorizedOperations) group.AuthorizedOperations = context.AuthorizedOperations(ResourceType.Group, id);
            response.Groups.Add(group);
        }
        return response;
    }
}
