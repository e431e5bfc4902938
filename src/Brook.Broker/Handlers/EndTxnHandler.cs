using Brook.Broker.Security;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// EndTxn (key 26), versions 0-4: commit or abort. The response comes once every marker is written. v2:
/// PRODUCER_FENCED; v3: flexible. v5 (transactions v2, KIP-890: an epoch bump per transaction) is not offered. Needs
/// WRITE on the transactional id.
/// </summary>
public sealed class EndTxnHandler(TransactionCoordinator transactions) : RequestHandler<EndTxnRequest, EndTxnResponse>
{
    public override short MaxVersion => 4;

    protected override async ValueTask<EndTxnResponse?> HandleAsync(RequestContext context, EndTxnRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Write, ResourceType.TransactionalId, request.TransactionalId))
            return new EndTxnResponse { ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed };
        var error = await transactions.EndTransactionAsync(request.TransactionalId, request.ProducerId, request.ProducerEpoch, request.Committed, cancellationToken).ConfigureAwait(false);
        return new EndTxnResponse { ErrorCode = (short)TransactionErrors.ForVersion(error, context.ApiVersion) };
    }
}
