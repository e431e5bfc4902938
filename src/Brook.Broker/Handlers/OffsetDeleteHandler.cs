using Brook.Broker.Groups;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>OffsetDelete (key 47), v0: deletes committed offsets of partitions the group's members do not consume.</summary>
public sealed class OffsetDeleteHandler(GroupCoordinator coordinator) : RequestHandler<OffsetDeleteRequest, OffsetDeleteResponse>
{
    protected override async ValueTask<OffsetDeleteResponse?> HandleAsync(RequestContext context, OffsetDeleteRequest request, CancellationToken cancellationToken) =>
        await coordinator.DeleteOffsetsAsync(request, cancellationToken).ConfigureAwait(false);
}
