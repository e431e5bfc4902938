using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// TxnOffsetCommit (key 28), versions 0-4: offsets committed inside a transaction, pending in the group coordinator
/// until the transaction ends. v2: leader epoch; v3: generation, member id and instance id (checked like OffsetCommit
/// when a generation is given), flexible. The producer must hold the current epoch of its transactional id and have
/// added the group's offsets partition (AddOffsetsToTxn). Needs WRITE on the transactional id, READ on the group and on
/// each topic.
/// </summary>
public sealed class TxnOffsetCommitHandler(GroupCoordinator groups, TransactionCoordinator transactions) : RequestHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse>
{
    protected override async ValueTask<TxnOffsetCommitResponse?> HandleAsync(RequestContext context, TxnOffsetCommitRequest request, CancellationToken cancellationToken)
    {
        var refusal = !context.IsAllowed(AclOperation.Write, ResourceType.TransactionalId, request.TransactionalId) ? ErrorCode.TransactionalIdAuthorizationFailed
            : !context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId) ? ErrorCode.GroupAuthorizationFailed
            : ErrorCode.None;
        if (refusal != ErrorCode.None) return Refused(request.Topics, refusal);
        var deniedTopics = GroupAuthorization.TakeDeniedTopics(context, request.Topics, t => t.Name, AclOperation.Read);
        var response = await groups.CommitTransactionalOffsetsAsync(request, context.ApiVersion, () => CheckProducer(request), cancellationToken).ConfigureAwait(false);
        foreach (var partition in response.Topics.SelectMany(t => t.Partitions))
            partition.ErrorCode = (short)TransactionErrors.ForVersion((ErrorCode)partition.ErrorCode, context.ApiVersion);
        response.Topics.AddRange(Refused(deniedTopics, ErrorCode.TopicAuthorizationFailed).Topics);
        return response;
    }

    private static TxnOffsetCommitResponse Refused(List<TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic> topics, ErrorCode error) => new()
    {
        Topics = topics.Select(t => new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)error }).ToList(),
        }).ToList(),
    };

    private ErrorCode CheckProducer(TxnOffsetCommitRequest request)
    {
        if (!transactions.IsLoaded || !groups.IsLoaded) return ErrorCode.CoordinatorLoadInProgress;
        if (transactions.Describe(request.TransactionalId) is not { } transaction || transaction.ProducerId != request.ProducerId) return ErrorCode.InvalidProducerIdMapping;
        if (transaction.Epoch != request.ProducerEpoch) return ErrorCode.ProducerFenced;
        var offsetsPartition = new TxnPartition(GroupCoordinator.TopicName, groups.OffsetsPartitionFor(request.GroupId));
        return transaction.State == TransactionState.Ongoing && transaction.Partitions.Contains(offsetsPartition) ? ErrorCode.None : ErrorCode.InvalidTxnState;
    }
}
