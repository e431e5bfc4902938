using Brook.Broker.Producers;
using Brook.Broker.Security;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// InitProducerId (key 22), versions 0-5: producer ids for idempotent producers (<see cref="ProducerIdManager"/>) and
/// transactional ones (<see cref="TransactionCoordinator"/>: a stable id per transactional id, epoch bumps, fencing).
/// v3+: the request may carry the current id and epoch (KIP-360). Clients below v4 do not know PRODUCER_FENCED and get
/// INVALID_PRODUCER_EPOCH instead, as Kafka does.
/// A transactional id needs WRITE on it; an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some
/// topic (KIP-679).
/// </summary>
public sealed class InitProducerIdHandler(ProducerIdManager producers, TransactionCoordinator transactions) : RequestHandler<InitProducerIdRequest, InitProducerIdResponse>
{
    protected override async ValueTask<InitProducerIdResponse?> HandleAsync(RequestContext context, InitProducerIdRequest request, CancellationToken cancellationToken)
    {
        if (Denied(context, request.TransactionalId) is not ErrorCode.None and var denied)
            return new InitProducerIdResponse { ErrorCode = (short)denied, ProducerId = -1, ProducerEpoch = -1 };
        var result = request.TransactionalId is null
            ? producers.NewIdempotentProducer()
            : await transactions.InitProducerIdAsync(request.TransactionalId, request.TransactionTimeoutMs, request.ProducerId, request.ProducerEpoch, cancellationToken).ConfigureAwait(false);
        var error = result.Error == ErrorCode.ProducerFenced && context.ApiVersion < 4 ? ErrorCode.InvalidProducerEpoch : result.Error;
        return new InitProducerIdResponse
        {
            ErrorCode = (short)error,
            ProducerId = result.ProducerId,
            ProducerEpoch = result.Epoch,
        };
    }

    private static ErrorCode Denied(RequestContext context, string? transactionalId) =>
        transactionalId is not null
            ? context.IsAllowed(AclOperation.Write, ResourceType.TransactionalId, transactionalId) ? ErrorCode.None : ErrorCode.TransactionalIdAuthorizationFailed
            : context.IsClusterAllowed(AclOperation.IdempotentWrite, logIfDenied: false) || context.IsAllowedOnAny(AclOperation.Write, ResourceType.Topic) ? ErrorCode.None : ErrorCode.ClusterAuthorizationFailed;
}
