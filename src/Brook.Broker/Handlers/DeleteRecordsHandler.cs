using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>DeleteRecords (key 21). Moves a partition's log start offset; -1 means up to the high watermark. Needs DELETE on each topic.</summary>
public sealed class DeleteRecordsHandler(ILogStore store) : RequestHandler<DeleteRecordsRequest, DeleteRecordsResponse>
{
    protected override async ValueTask<DeleteRecordsResponse?> HandleAsync(RequestContext context, DeleteRecordsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteRecordsResponse();
        foreach (var topic in request.Topics)
        {
            var topicResult = new DeleteRecordsResponse.DeleteRecordsTopicResult { Name = topic.Name };
            response.Topics.Add(topicResult);
            var allowed = context.IsAllowed(AclOperation.Delete, ResourceType.Topic, topic.Name);
            foreach (var partition in topic.Partitions)
            {
                var result = new DeleteRecordsResponse.DeleteRecordsPartitionResult { PartitionIndex = partition.PartitionIndex, LowWatermark = -1 };
                topicResult.Partitions.Add(result);
                var log = allowed ? store.GetPartition(topic.Name, partition.PartitionIndex) : null;
                if (log is null)
                {
                    result.ErrorCode = (short)(allowed ? ErrorCode.UnknownTopicOrPartition : ErrorCode.TopicAuthorizationFailed);
                    continue;
                }
                var target = partition.Offset == -1 ? log.HighWatermark : partition.Offset;
                if (target < 0 || target > log.HighWatermark)
                {
                    result.ErrorCode = (short)ErrorCode.OffsetOutOfRange;
                    continue;
                }
                try
                {
                    result.LowWatermark = await log.DeleteRecordsBeforeAsync(target, cancellationToken).ConfigureAwait(false);
                }
                catch (StorageException)
                {
                    result.ErrorCode = (short)ErrorCode.KafkaStorageError;
                }
            }
        }
        return response;
    }
}
