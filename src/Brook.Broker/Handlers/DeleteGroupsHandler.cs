using Brook.Broker.Groups;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>DeleteGroups (key 42), v0-2: deletes empty groups with their offsets; NON_EMPTY_GROUP while members remain.</summary>
public sealed class DeleteGroupsHandler(GroupCoordinator coordinator) : RequestHandler<DeleteGroupsRequest, DeleteGroupsResponse>
{
    protected override async ValueTask<DeleteGroupsResponse?> HandleAsync(RequestContext context, DeleteGroupsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteGroupsResponse();
        foreach (var id in request.GroupsNames)
        {
            var error = await coordinator.DeleteGroupAsync(id, cancellationToken).ConfigureAwait(false);
            response.Results.Add(new DeleteGroupsResponse.DeletableGroupResult { GroupId = id, ErrorCode = (short)error });
        }
        return response;
    }
}
