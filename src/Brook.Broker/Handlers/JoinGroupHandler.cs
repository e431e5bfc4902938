using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// JoinGroup (key 11), v0-9. v1: rebalance timeout; v4: MEMBER_ID_REQUIRED for new members; v5: static membership;
/// v7: protocol type in the response; v8: reason; v9: skip assignment for a static leader that rejoined.
/// The response waits (asynchronously) until the join phase of the rebalance completes. Needs READ on the group.
/// </summary>
public sealed class JoinGroupHandler(GroupCoordinator coordinator) : RequestHandler<JoinGroupRequest, JoinGroupResponse>
{
    protected override async ValueTask<JoinGroupResponse?> HandleAsync(RequestContext context, JoinGroupRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId)) return GroupAuthorization.JoinGroupDenied(request, context.ApiVersion);
        return await coordinator.JoinGroupAsync(request, context.ApiVersion, GroupHandlerContext.Client(context), cancellationToken).ConfigureAwait(false);
    }
}
