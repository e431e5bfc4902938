using Brook.Broker.Handlers;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;

namespace Brook.Broker.Security;

/// <summary>Kafka's transactional check on Produce, kept out of the handler's hot loop.</summary>
internal static class ProduceAuthorization
{
    /// <summary>
    /// True when the request carries transactional batches and its transactional id is missing or not allowed WRITE;
    /// then every partition is refused (Kafka answers the whole request with TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
    /// </summary>
    public static bool IsTransactionDenied(RequestContext context, ProduceRequest request)
    {
        if (!context.Authorizer.IsEnabled || !HasTransactionalRecords(request)) return false;
        return request.TransactionalId is not { } id || !context.IsAllowed(AclOperation.Write, ResourceType.TransactionalId, id);
    }

    // Kafka looks at the first batch of each partition: a producer never mixes transactional and plain batches.
    private static bool HasTransactionalRecords(ProduceRequest request)
    {
        foreach (var topic in request.TopicData)
        {
            foreach (var partition in topic.PartitionData)
            {
                if (partition.Records is { Length: >= RecordBatchHeader.Size } records && new RecordBatchHeader(records.Span).IsTransactional)
                    return true;
            }
        }
        return false;
    }
}
