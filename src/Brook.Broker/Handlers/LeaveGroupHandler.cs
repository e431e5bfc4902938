using Brook.Broker.Groups;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>LeaveGroup (key 13), v0-5. v3: several members at once, by member id or group.instance.id; v5: reason.</summary>
public sealed class LeaveGroupHandler(GroupCoordinator coordinator) : RequestHandler<LeaveGroupRequest, LeaveGroupResponse>
{
    protected override async ValueTask<LeaveGroupResponse?> HandleAsync(RequestContext context, LeaveGroupRequest request, CancellationToken cancellationToken) =>
        await coordinator.LeaveGroupAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
}
