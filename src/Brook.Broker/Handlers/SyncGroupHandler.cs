using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// SyncGroup (key 14), v0-5. The leader sends every member's assignment; the others wait for it. v3: static
/// membership; v5: protocol type and name checked against the group's. Needs READ on the group.
/// </summary>
public sealed class SyncGroupHandler(GroupCoordinator coordinator) : RequestHandler<SyncGroupRequest, SyncGroupResponse>
{
    protected override async ValueTask<SyncGroupResponse?> HandleAsync(RequestContext context, SyncGroupRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId)) return new SyncGroupResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        return await coordinator.SyncGroupAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
    }
}
