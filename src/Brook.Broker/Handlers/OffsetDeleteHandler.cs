using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>OffsetDelete (key 47), v0: deletes committed offsets of partitions the group's members do not consume. Needs DELETE on the group, READ on each topic.</summary>
public sealed class OffsetDeleteHandler(GroupCoordinator coordinator) : RequestHandler<OffsetDeleteRequest, OffsetDeleteResponse>
{
    protected override async ValueTask<OffsetDeleteResponse?> HandleAsync(RequestContext context, OffsetDeleteRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Delete, ResourceType.Group, request.GroupId)) return new OffsetDeleteResponse { ErrorCode = (short)ErrorCode.GroupAuthorizationFailed };
        var deniedTopics = GroupAuthorization.TakeDeniedTopics(context, request.Topics, t => t.Name, AclOperation.Read);
        var response = await coordinator.DeleteOffsetsAsync(request, cancellationToken).ConfigureAwait(false);
        GroupAuthorization.AddDenied(response, deniedTopics);
        return response;
    }
}
