using System.Runtime.InteropServices;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// Produce (key 0), versions 3+ (record batch v2 only). v5: log start offset; v8: per-batch record errors and
/// an error message; v9: flexible. acks=0 gets no response at all. Needs WRITE on each topic, and WRITE on the
/// transactional id when the records are transactional.
/// </summary>
public sealed class ProduceHandler(PartitionWriter writer, BrokerMetrics metrics) : RequestHandler<ProduceRequest, ProduceResponse>
{
    protected override async ValueTask<ProduceResponse?> HandleAsync(RequestContext context, ProduceRequest request, CancellationToken cancellationToken)
    {
        var response = new ProduceResponse();
        var transactionDenied = ProduceAuthorization.IsTransactionDenied(context, request);
        var acksValid = request.Acks is -1 or 0 or 1;
        // Partitions are appended concurrently; each partition's appends are serialized by its log.
        var pending = new List<(ProduceResponse.PartitionProduceResponse Response, ValueTask<StagedOutcome> Append)>();
        foreach (var topic in request.TopicData)
        {
            var topicResponse = new ProduceResponse.TopicProduceResponse { Name = topic.Name };
            response.Responses.Add(topicResponse);
            var denied = transactionDenied ? ErrorCode.TransactionalIdAuthorizationFailed
                : !context.IsAllowed(AclOperation.Write, ResourceType.Topic, topic.Name) ? ErrorCode.TopicAuthorizationFailed : ErrorCode.None;
            foreach (var partition in topic.PartitionData)
            {
                var partitionResponse = new ProduceResponse.PartitionProduceResponse { Index = partition.Index, BaseOffset = -1 };
                topicResponse.PartitionResponses.Add(partitionResponse);
                if (!acksValid || denied != ErrorCode.None)
                {
                    partitionResponse.ErrorCode = (short)(acksValid ? denied : ErrorCode.InvalidRequiredAcks);
                    continue;
                }
                // The request frame is a pooled buffer owned by this request, so its records may be patched in place.
                var records = partition.Records is { } r ? MemoryMarshal.AsMemory(r) : Memory<byte>.Empty;
                pending.Add((partitionResponse, writer.AppendAsync(topic.Name, partition.Index, records, request.Acks, context.ApiVersion, cancellationToken)));
            }
        }
        // Every partition written in order first; then the connection may read its next request while fsyncs run.
        var staged = new StagedOutcome[pending.Count];
        for (var i = 0; i < pending.Count; i++) staged[i] = await pending[i].Append.ConfigureAwait(false);
        context.SignalApplied();
        for (var i = 0; i < pending.Count; i++)
        {
            var partitionResponse = pending[i].Response;
            var outcome = await staged[i].CompleteAsync().ConfigureAwait(false);
            partitionResponse.ErrorCode = (short)outcome.Error;
            if (outcome.Error != ErrorCode.None) metrics.ErrorReturned("Produce", outcome.Error);
            partitionResponse.ErrorMessage = outcome.Message;
            partitionResponse.BaseOffset = outcome.BaseOffset;
            partitionResponse.LogAppendTimeMs = outcome.LogAppendTime;
            partitionResponse.LogStartOffset = outcome.LogStartOffset;
            if (outcome.RecordErrors is { } recordErrors && context.ApiVersion >= 8)
            {
                foreach (var error in recordErrors)
                    partitionResponse.RecordErrors.Add(new ProduceResponse.BatchIndexAndErrorMessage { BatchIndex = error.BatchIndex, BatchIndexErrorMessage = error.Message });
            }
        }
        return request.Acks == 0 ? null : response;
    }
}
