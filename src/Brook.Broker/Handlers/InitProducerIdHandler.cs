using Brook.Broker.Producers;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// InitProducerId (key 22), versions 0-5: producer ids for idempotent and transactional producers (see
/// <see cref="ProducerIdManager"/>). v3+: the request may carry the current id and epoch (KIP-360). Clients below v4
/// do not know PRODUCER_FENCED and get INVALID_PRODUCER_EPOCH instead, as Kafka does.
/// </summary>
public sealed class InitProducerIdHandler(ProducerIdManager producers) : RequestHandler<InitProducerIdRequest, InitProducerIdResponse>
{
    protected override ValueTask<InitProducerIdResponse?> HandleAsync(RequestContext context, InitProducerIdRequest request, CancellationToken cancellationToken)
    {
        var result = producers.InitProducerId(request.TransactionalId, request.TransactionTimeoutMs, request.ProducerId, request.ProducerEpoch);
        var error = result.Error == ErrorCode.ProducerFenced && context.ApiVersion < 4 ? ErrorCode.InvalidProducerEpoch : result.Error;
        return ValueTask.FromResult<InitProducerIdResponse?>(new InitProducerIdResponse
        {
            ErrorCode = (short)error,
            ProducerId = result.ProducerId,
            ProducerEpoch = result.Epoch,
        });
    }
}
