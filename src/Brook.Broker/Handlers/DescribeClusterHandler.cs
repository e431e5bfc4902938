using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeCluster (key 60): this broker is the whole cluster and its controller, at the address advertised for the
/// client's listener. v1: endpoint type (1 = brokers). Cluster authorized operations need DESCRIBE on the cluster.
/// </summary>
public sealed class DescribeClusterHandler(BrokerNode node) : RequestHandler<DescribeClusterRequest, DescribeClusterResponse>
{
    protected override ValueTask<DescribeClusterResponse?> HandleAsync(RequestContext context, DescribeClusterRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeClusterResponse { ClusterId = node.ClusterId, ControllerId = node.NodeId, EndpointType = request.EndpointType };
        if (request.EndpointType != 1)
        {
            response.ErrorCode = (short)ErrorCode.UnsupportedEndpointType;
            response.ErrorMessage = "Only broker endpoints (type 1) are served.";
            return ValueTask.FromResult<DescribeClusterResponse?>(response);
        }
        if (request.IncludeClusterAuthorizedOperations)
            response.ClusterAuthorizedOperations = context.IsClusterAllowed(AclOperation.Describe) ? context.AuthorizedOperations(ResourceType.Cluster, Acl.ClusterResourceName) : 0;
        var endpoint = node.EndpointFor(context.ListenerName);
        response.Brokers.Add(new DescribeClusterResponse.DescribeClusterBroker { BrokerId = node.NodeId, Host = endpoint.Host, Port = endpoint.Port });
        return ValueTask.FromResult<DescribeClusterResponse?>(response);
    }
}
