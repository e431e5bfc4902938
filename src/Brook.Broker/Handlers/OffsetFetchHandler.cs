using Brook.Broker.Groups;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// OffsetFetch (key 9), v0-9. v2: null topics = every committed partition, top-level error; v5: leader epoch;
/// v7: require_stable (accepted: no transactional offsets are ever pending); v8: several groups at once; v9: a member of a
/// consumer-protocol group is checked by id and epoch (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH).
/// </summary>
public sealed class OffsetFetchHandler(GroupCoordinator coordinator) : RequestHandler<OffsetFetchRequest, OffsetFetchResponse>
{
    protected override async ValueTask<OffsetFetchResponse?> HandleAsync(RequestContext context, OffsetFetchRequest request, CancellationToken cancellationToken) =>
        await coordinator.FetchOffsetsAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
}
