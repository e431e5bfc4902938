using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>Heartbeat (key 12), v0-4: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin. Needs READ on the group.</summary>
public sealed class HeartbeatHandler(GroupCoordinator coordinator) : RequestHandler<HeartbeatRequest, HeartbeatResponse>
{
    protected override async ValueTask<HeartbeatResponse?> HandleAsync(RequestContext context, HeartbeatRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId)) return new HeartbeatResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        return new HeartbeatResponse { ErrorCode = (short)await coordinator.HeartbeatAsync(request, cancellationToken).ConfigureAwait(false) };
    }
}
