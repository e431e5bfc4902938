using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// OffsetFetch (key 9), v0-9. v2: null topics = every committed partition, top-level error; v5: leader epoch;
/// v7: require_stable (UNSTABLE_OFFSET_COMMIT while a transaction holds a pending offset); v8: several groups at once;
/// v9: a member of a consumer-protocol group is checked by id and epoch (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH).
/// Needs DESCRIBE on each group and topic (see <see cref="OffsetFetchAuthorization"/>).
/// </summary>
public sealed class OffsetFetchHandler(GroupCoordinator coordinator) : RequestHandler<OffsetFetchRequest, OffsetFetchResponse>
{
    protected override async ValueTask<OffsetFetchResponse?> HandleAsync(RequestContext context, OffsetFetchRequest request, CancellationToken cancellationToken)
    {
        var authorization = OffsetFetchAuthorization.Prepare(context, request);
        if (authorization.DeniedResponse is { } denied) return denied;
        var response = await coordinator.FetchOffsetsAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
        authorization.Complete(request, response);
        return response;
    }
}
