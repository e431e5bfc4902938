using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// ListGroups (key 16), v0-5. v4: filter by state; v5: filter by type (every group here is "classic"). Lists every
/// group to a client that may DESCRIBE the cluster, else only the groups it may DESCRIBE.
/// </summary>
public sealed class ListGroupsHandler(GroupCoordinator coordinator) : RequestHandler<ListGroupsRequest, ListGroupsResponse>
{
    protected override async ValueTask<ListGroupsResponse?> HandleAsync(RequestContext context, ListGroupsRequest request, CancellationToken cancellationToken)
    {
        if (!coordinator.IsLoaded) return new ListGroupsResponse { ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress };
        var groups = await coordinator.ListGroupsAsync(request.StatesFilter, request.TypesFilter, cancellationToken).ConfigureAwait(false);
        return new ListGroupsResponse { Groups = GroupAuthorization.Visible(context, groups) };
    }
}
