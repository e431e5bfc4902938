using Brook.Broker.Groups;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// SyncGroup (key 14), v0-5. The leader sends every member's assignment; the others wait for it. v3: static
/// membership; v5: protocol type and name checked against the group's.
/// </summary>
public sealed class SyncGroupHandler(GroupCoordinator coordinator) : RequestHandler<SyncGroupRequest, SyncGroupResponse>
{
    protected override async ValueTask<SyncGroupResponse?> HandleAsync(RequestContext context, SyncGroupRequest request, CancellationToken cancellationToken) =>
        await coordinator.SyncGroupAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
}
