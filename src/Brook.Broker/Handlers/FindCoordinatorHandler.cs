using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// FindCoordinator (key 10), v0-6. v1: key type (0 group, 1 transaction); v4: several keys at once. This node
/// coordinates every group and every transactional id, at the address advertised for the client's listener.
/// Needs DESCRIBE on the group or transactional id.
/// </summary>
public sealed class FindCoordinatorHandler(BrokerNode node) : RequestHandler<FindCoordinatorRequest, FindCoordinatorResponse>
{
    protected override ValueTask<FindCoordinatorResponse?> HandleAsync(RequestContext context, FindCoordinatorRequest request, CancellationToken cancellationToken)
    {
        var endpoint = node.EndpointFor(context.ListenerName);
        var response = new FindCoordinatorResponse();
        if (context.ApiVersion < 4)
        {
            var error = Check(context, request.KeyType, request.Key);
            response.ErrorCode = (short)error;
            response.ErrorMessage = Message(error, request.KeyType);
            response.NodeId = error == ErrorCode.None ? node.NodeId : -1;
            response.Host = error == ErrorCode.None ? endpoint.Host : "";
            response.Port = error == ErrorCode.None ? endpoint.Port : -1;
            return ValueTask.FromResult<FindCoordinatorResponse?>(response);
        }
        foreach (var key in request.CoordinatorKeys)
        {
            var error = Check(context, request.KeyType, key);
            response.Coordinators.Add(new FindCoordinatorResponse.Coordinator
            {
                Key = key,
                NodeId = error == ErrorCode.None ? node.NodeId : -1,
                Host = error == ErrorCode.None ? endpoint.Host : "",
                Port = error == ErrorCode.None ? endpoint.Port : -1,
                ErrorCode = (short)error,
                ErrorMessage = Message(error, request.KeyType),
            });
        }
        return ValueTask.FromResult<FindCoordinatorResponse?>(response);
    }

    private static ErrorCode Check(RequestContext context, sbyte keyType, string key) => keyType switch
    {
        0 => context.IsAllowed(AclOperation.Describe, ResourceType.Group, key) ? ErrorCode.None : ErrorCode.GroupAuthorizationFailed,
        1 => context.IsAllowed(AclOperation.Describe, ResourceType.TransactionalId, key) ? ErrorCode.None : ErrorCode.TransactionalIdAuthorizationFailed,
        _ => ErrorCode.InvalidRequest,
    };

    private static string? Message(ErrorCode error, sbyte keyType) => error switch
    {
        ErrorCode.None => null,
        ErrorCode.InvalidRequest => $"Unknown key type {keyType}.",
        _ => "Not authorized to describe the coordinator key.",
    };
}
