using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>LeaveGroup (key 13), v0-5. v3: several members at once, by member id or group.instance.id; v5: reason. Needs READ on the group.</summary>
public sealed class LeaveGroupHandler(GroupCoordinator coordinator) : RequestHandler<LeaveGroupRequest, LeaveGroupResponse>
{
    protected override async ValueTask<LeaveGroupResponse?> HandleAsync(RequestContext context, LeaveGroupRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId)) return new LeaveGroupResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        return await coordinator.LeaveGroupAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
    }
}
