using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// ListPartitionReassignments (key 46). A single node never has a reassignment in progress (one to itself completes
/// at once), so the answer lists none, whichever topics are asked about. Needs DESCRIBE on the cluster.
/// </summary>
public sealed class ListPartitionReassignmentsHandler : RequestHandler<ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse>
{
    protected override ValueTask<ListPartitionReassignmentsResponse?> HandleAsync(RequestContext context, ListPartitionReassignmentsRequest request, CancellationToken cancellationToken)
    {
        var response = new ListPartitionReassignmentsResponse();
        if (!context.IsClusterAllowed(AclOperation.Describe))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            response.ErrorMessage = "The client is not authorized to list partition reassignments.";
        }
        return ValueTask.FromResult<ListPartitionReassignmentsResponse?>(response);
    }
}
