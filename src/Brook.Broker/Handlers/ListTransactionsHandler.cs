using Brook.Broker.Security;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// ListTransactions (key 66), versions 0-1: transactional ids filtered by state names and producer ids (empty filters
/// match everything); unknown state names are echoed back. v1: only transactions open longer than the duration filter.
/// Lists only the transactional ids the caller may DESCRIBE.
/// </summary>
public sealed class ListTransactionsHandler(TransactionCoordinator transactions, TimeProvider time) : RequestHandler<ListTransactionsRequest, ListTransactionsResponse>
{
    protected override ValueTask<ListTransactionsResponse?> HandleAsync(RequestContext context, ListTransactionsRequest request, CancellationToken cancellationToken)
    {
        var response = new ListTransactionsResponse();
        if (!transactions.IsLoaded)
        {
            response.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
            return ValueTask.FromResult<ListTransactionsResponse?>(response);
        }
        var known = Enum.GetNames<TransactionState>().ToHashSet(StringComparer.Ordinal);
        response.UnknownStateFilters = request.StateFilters.Where(s => !known.Contains(s)).ToList();
        var states = request.StateFilters.Where(known.Contains).ToHashSet(StringComparer.Ordinal);
        var producerIds = request.ProducerIdFilters.ToHashSet();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var metadata in transactions.List())
        {
            // Only unknown names given: nothing can match.
            if (request.StateFilters.Count > 0 && !states.Contains(metadata.StateName)) continue;
            if (producerIds.Count > 0 && !producerIds.Contains(metadata.ProducerId)) continue;
            if (!context.IsAllowed(AclOperation.Describe, ResourceType.TransactionalId, metadata.TransactionalId, logIfDenied: false)) continue;
            if (request.DurationFilter >= 0 && (metadata.State != TransactionState.Ongoing || now - metadata.StartTimestamp < request.DurationFilter)) continue;
            response.TransactionStates.Add(new ListTransactionsResponse.TransactionStateData
            {
                TransactionalId = metadata.TransactionalId,
                ProducerId = metadata.ProducerId,
                TransactionState = metadata.StateName,
            });
        }
        return ValueTask.FromResult<ListTransactionsResponse?>(response);
    }
}
