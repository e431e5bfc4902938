using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// OffsetCommit (key 8), v0-9. v1: generation and member id (generation -1 commits for a group without members);
/// v2-4: retention time (ignored, the broker's offsets.retention.minutes applies); v6: leader epoch; v7: static membership.
/// Needs READ on the group and on each topic.
/// </summary>
public sealed class OffsetCommitHandler(GroupCoordinator coordinator) : RequestHandler<OffsetCommitRequest, OffsetCommitResponse>
{
    protected override async ValueTask<OffsetCommitResponse?> HandleAsync(RequestContext context, OffsetCommitRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId)) return GroupAuthorization.OffsetCommitDenied(request);
        var deniedTopics = GroupAuthorization.TakeDeniedTopics(context, request.Topics, t => t.Name, AclOperation.Read);
        var response = await coordinator.CommitOffsetsAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
        GroupAuthorization.AddDenied(response, deniedTopics);
        return response;
    }
}
