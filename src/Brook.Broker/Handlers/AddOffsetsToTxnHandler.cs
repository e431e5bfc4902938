using Brook.Broker.Security;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// AddOffsetsToTxn (key 25), versions 0-4: the group's __consumer_offsets partition joins the transaction so that its
/// TxnOffsetCommits are committed or dropped with it. v2: PRODUCER_FENCED; v3: flexible. Needs WRITE on the transactional
/// id and READ on the group.
/// </summary>
public sealed class AddOffsetsToTxnHandler(TransactionCoordinator transactions) : RequestHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>
{
    protected override async ValueTask<AddOffsetsToTxnResponse?> HandleAsync(RequestContext context, AddOffsetsToTxnRequest request, CancellationToken cancellationToken)
    {
        var error = !context.IsAllowed(AclOperation.Write, ResourceType.TransactionalId, request.TransactionalId) ? ErrorCode.TransactionalIdAuthorizationFailed
            : !context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId) ? ErrorCode.GroupAuthorizationFailed
            : string.IsNullOrEmpty(request.GroupId)
            ? ErrorCode.InvalidGroupId
            : await transactions.AddOffsetsAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.GroupId, cancellationToken).ConfigureAwait(false);
        return new AddOffsetsToTxnResponse { ErrorCode = (short)TransactionErrors.ForVersion(error, context.ApiVersion) };
    }
}
