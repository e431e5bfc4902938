using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeGroups (key 15), v0-5: state, protocol and members (metadata and assignment while stable). An unknown group
/// is described as Dead with no error, as Kafka does up to v5, and so is a consumer-protocol group (ConsumerGroupDescribe
/// describes those). v3: authorized operations; v4: group.instance.id. Needs DESCRIBE on each group.
/// </summary>
public sealed class DescribeGroupsHandler(GroupCoordinator coordinator) : RequestHandler<DescribeGroupsRequest, DescribeGroupsResponse>
{
    protected override async ValueTask<DescribeGroupsResponse?> HandleAsync(RequestContext context, DescribeGroupsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeGroupsResponse();
        foreach (var id in request.Groups)
        {
            if (!context.IsAllowed(AclOperation.Describe, ResourceType.Group, id))
            {
                response.Groups.Add(new DescribeGroupsResponse.DescribedGroup { GroupId = id, ErrorCode = (short)ErrorCode.GroupAuthorizationFailed });
                continue;
            }
            var group = await coordinator.DescribeGroupAsync(id, cancellationToken).ConfigureAwait(false);
            if (request.IncludeAuthorizedOperations) group.AuthorizedOperations = context.AuthorizedOperations(ResourceType.Group, id);
            response.Groups.Add(group);
        }
        return response;
    }
}
