using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// FindCoordinator (key 10), v0-6. v1: key type (0 group, 1 transaction); v4: several keys at once. This node
/// coordinates every group and every transactional id.
/// </summary>
public sealed class FindCoordinatorHandler(BrokerNode node) : RequestHandler<FindCoordinatorRequest, FindCoordinatorResponse>
{
    protected override ValueTask<FindCoordinatorResponse?> HandleAsync(RequestContext context, FindCoordinatorRequest request, CancellationToken cancellationToken)
    {
        var endpoint = node.EndpointFor(null);
        var error = request.KeyType is 0 or 1 ? ErrorCode.None : ErrorCode.InvalidRequest;
        var response = new FindCoordinatorResponse();
        if (context.ApiVersion < 4)
        {
            response.ErrorCode = (short)error;
            response.ErrorMessage = error == ErrorCode.None ? null : $"Unknown key type {request.KeyType}.";
            response.NodeId = error == ErrorCode.None ? node.NodeId : -1;
            response.Host = error == ErrorCode.None ? endpoint.Host : "";
            response.Port = error == ErrorCode.None ? endpoint.Port : -1;
            return ValueTask.FromResult<FindCoordinatorResponse?>(response);
        }
        foreach (var key in request.CoordinatorKeys)
        {
            response.Coordinators.Add(new FindCoordinatorResponse.Coordinator
            {
                Key = key,
                NodeId = error == ErrorCode.None ? node.NodeId : -1,
                Host = error == ErrorCode.None ? endpoint.Host : "",
                Port = error == ErrorCode.None ? endpoint.Port : -1,
                ErrorCode = (short)error,
                ErrorMessage = error == ErrorCode.None ? null : $"Unknown key type {request.KeyType}.",
            });
        }
        return ValueTask.FromResult<FindCoordinatorResponse?>(response);
    }
}
