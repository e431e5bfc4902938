using Brook.Broker.Security;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeTransactions (key 65), version 0: state, producer, timeout and partitions of transactional ids. Needs DESCRIBE
/// on each transactional id; partitions of topics the caller may not DESCRIBE are left out, as in Kafka.
/// </summary>
public sealed class DescribeTransactionsHandler(TransactionCoordinator transactions) : RequestHandler<DescribeTransactionsRequest, DescribeTransactionsResponse>
{
    protected override ValueTask<DescribeTransactionsResponse?> HandleAsync(RequestContext context, DescribeTransactionsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeTransactionsResponse();
        foreach (var id in request.TransactionalIds)
        {
            var state = new DescribeTransactionsResponse.TransactionStateData { TransactionalId = id, TransactionState = "", ProducerId = -1, ProducerEpoch = -1, TransactionStartTimeMs = -1 };
            response.TransactionStates.Add(state);
            if (!context.IsAllowed(AclOperation.Describe, ResourceType.TransactionalId, id))
            {
                state.ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed;
                continue;
            }
            if (!transactions.IsLoaded)
            {
                state.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
                continue;
            }
            if (transactions.Describe(id) is not { } metadata)
            {
                state.ErrorCode = (short)ErrorCode.TransactionalIdNotFound;
                continue;
            }
            state.TransactionState = metadata.StateName;
            state.TransactionTimeoutMs = metadata.TimeoutMs;
            state.TransactionStartTimeMs = metadata.StartTimestamp;
            state.ProducerId = metadata.ProducerId;
            state.ProducerEpoch = metadata.Epoch;
            foreach (var topic in metadata.Partitions.GroupBy(p => p.Topic, StringComparer.Ordinal).Where(t => context.IsAllowed(AclOperation.Describe, ResourceType.Topic, t.Key, logIfDenied: false)))
                state.Topics.Add(new DescribeTransactionsResponse.TopicData { Topic = topic.Key, Partitions = topic.Select(p => p.Partition).ToList() });
        }
        return ValueTask.FromResult<DescribeTransactionsResponse?>(response);
    }
}
