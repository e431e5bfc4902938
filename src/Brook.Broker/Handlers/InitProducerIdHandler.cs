using Brook.Broker.Producers;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// InitProducerId (key 22), versions 0-5: producer ids for idempotent producers (<see cref="ProducerIdManager"/>) and
/// transactional ones (<see cref="TransactionCoordinator"/>: a stable id per transactional id, epoch bumps, fencing).
/// v3+: the request may carry the current id and epoch (KIP-360). Clients below v4 do not know PRODUCER_FENCED and get
/// INVALID_PRODUCER_EPOCH instead, as Kafka does.
/// </summary>
public sealed class InitProducerIdHandler(ProducerIdManager producers, TransactionCoordinator transactions) : RequestHandler<InitProducerIdRequest, InitProducerIdResponse>
{
    protected override async ValueTask<InitProducerIdResponse?> HandleAsync(RequestContext context, InitProducerIdRequest request, CancellationToken cancellationToken)
    {
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
}
