using Brook.Broker.Security;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// AddPartitionsToTxn (key 24), versions 0-3: a producer adds partitions to its transaction before writing to them.
/// v2: PRODUCER_FENCED (older versions get INVALID_PRODUCER_EPOCH); v3: flexible. Versions 4+ are the broker-to-broker
/// batched form, which a single node never sends, so they are not offered. Unknown partitions fail the whole request:
/// they get UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as in Kafka. Needs WRITE on the
/// transactional id and on each topic (TOPIC_AUTHORIZATION_FAILED fails the request like an unknown partition).
/// </summary>
public sealed class AddPartitionsToTxnHandler(TransactionCoordinator transactions, ILogStore store) : RequestHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>
{
    public override short MaxVersion => 3;

    protected override async ValueTask<AddPartitionsToTxnResponse?> HandleAsync(RequestContext context, AddPartitionsToTxnRequest request, CancellationToken cancellationToken)
    {
        var requested = request.V3AndBelowTopics.SelectMany(t => t.Partitions.Select(p => new TxnPartition(t.Name, p))).ToList();
        var transactionalIdAllowed = context.IsAllowed(AclOperation.Write, ResourceType.TransactionalId, request.V3AndBelowTransactionalId);
        var denied = requested.Where(p => !context.IsAllowed(AclOperation.Write, ResourceType.Topic, p.Topic)).ToHashSet();
        var unknown = requested.Where(p => !denied.Contains(p) && store.GetPartition(p.Topic, p.Partition) is null).ToHashSet();
        ErrorCode error;
        if (!transactionalIdAllowed)
        {
            error = ErrorCode.TransactionalIdAuthorizationFailed;
            denied.Clear();
            unknown.Clear();
        }
        else if (unknown.Count > 0 || denied.Count > 0)
        {
            error = ErrorCode.OperationNotAttempted;
        }
        else
        {
            error = await transactions.AddPartitionsAsync(request.V3AndBelowTransactionalId, request.V3AndBelowProducerId, request.V3AndBelowProducerEpoch, requested, cancellationToken).ConfigureAwait(false);
            error = TransactionErrors.ForVersion(error, context.ApiVersion);
        }
        var response = new AddPartitionsToTxnResponse();
        foreach (var topic in request.V3AndBelowTopics)
        {
            response.ResultsByTopicV3AndBelow.Add(new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult
            {
                Name = topic.Name,
                ResultsByPartition = topic.Partitions.Select(p => new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult
                {
                    PartitionIndex = p,
                    PartitionErrorCode = (short)(denied.Contains(new TxnPartition(topic.Name, p)) ? ErrorCode.TopicAuthorizationFailed
                        : unknown.Contains(new TxnPartition(topic.Name, p)) ? ErrorCode.UnknownTopicOrPartition : error),
                }).ToList(),
            });
        }
        return response;
    }
}

/// <summary>Error codes of the transactional APIs as each version knows them.</summary>
internal static class TransactionErrors
{
    /// <summary>PRODUCER_FENCED arrived with v2 of AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and TxnOffsetCommit; older clients get INVALID_PRODUCER_EPOCH.</summary>
    public static ErrorCode ForVersion(ErrorCode error, short version) =>
        error == ErrorCode.ProducerFenced && version < 2 ? ErrorCode.InvalidProducerEpoch : error;
}
