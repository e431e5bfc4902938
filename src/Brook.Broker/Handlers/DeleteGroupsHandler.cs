using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>DeleteGroups (key 42), v0-2: deletes empty groups with their offsets; NON_EMPTY_GROUP while members remain. Needs DELETE on each group.</summary>
public sealed class DeleteGroupsHandler(GroupCoordinator coordinator) : RequestHandler<DeleteGroupsRequest, DeleteGroupsResponse>
{
    protected override async ValueTask<DeleteGroupsResponse?> HandleAsync(RequestContext context, DeleteGroupsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteGroupsResponse();
        foreach (var id in request.GroupsNames)
        {
            var error = !context.IsAllowed(AclOperation.Delete, ResourceType.Group, id) ? ErrorCode.GroupAuthorizationFailed
                : await coordinator.DeleteGroupAsync(id, cancellationToken).ConfigureAwait(false);
            response.Results.Add(new DeleteGroupsResponse.DeletableGroupResult { GroupId = id, ErrorCode = (short)error });
        }
        return response;
    }
}
