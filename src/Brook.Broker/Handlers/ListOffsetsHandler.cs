using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// ListOffsets (key 2). Special timestamps: -1 latest, -2 earliest, -3 max timestamp (v7), -4 earliest local (v8),
/// -5 latest tiered (v9). v0 answers with a list of old-style offsets. v2: isolation level (read_committed: latest is
/// the last stable offset, and lookups find nothing past it); v4: leader epoch.
/// Needs DESCRIBE on each topic.
/// </summary>
public sealed class ListOffsetsHandler(ILogStore store) : RequestHandler<ListOffsetsRequest, ListOffsetsResponse>
{
    protected override async ValueTask<ListOffsetsResponse?> HandleAsync(RequestContext context, ListOffsetsRequest request, CancellationToken cancellationToken)
    {
        var response = new ListOffsetsResponse();
        foreach (var topic in request.Topics)
        {
            var topicResult = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = topic.Name };
            response.Topics.Add(topicResult);
            var allowed = context.IsAllowed(AclOperation.Describe, ResourceType.Topic, topic.Name);
            foreach (var partition in topic.Partitions)
            {
                var result = new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = partition.PartitionIndex, LeaderEpoch = 0 };
                topicResult.Partitions.Add(result);
                var log = allowed ? store.GetPartition(topic.Name, partition.PartitionIndex) : null;
                if (log is null)
                {
                    result.ErrorCode = (short)(allowed ? ErrorCode.UnknownTopicOrPartition : ErrorCode.TopicAuthorizationFailed);
                    result.LeaderEpoch = -1;
                    continue;
                }
                var found = await LookupAsync(log, partition.Timestamp, cancellationToken).ConfigureAwait(false);
                // read_committed (v2+): nothing at or past the last stable offset exists yet.
                if (context.ApiVersion >= 2 && request.IsolationLevel == 1 && found is { } f0)
                {
                    var lastStable = log.LastStableOffset;
                    if (partition.Timestamp is -1 or -5) found = f0 with { Offset = lastStable };
                    else if (partition.Timestamp != -2 && partition.Timestamp != -4 && f0.Offset >= lastStable) found = null;
                }
                result.Timestamp = found?.Timestamp ?? -1;
                result.Offset = found?.Offset ?? -1;
                if (context.ApiVersion == 0) result.OldStyleOffsets = found is { } f ? [f.Offset] : [];
            }
        }
        return response;
    }

    private static async ValueTask<TimestampOffset?> LookupAsync(IPartitionLog log, long timestamp, CancellationToken cancellationToken) => timestamp switch
    {
        -1 or -5 => new TimestampOffset(-1, log.HighWatermark),
        -2 or -4 => new TimestampOffset(-1, log.LogStartOffset),
        -3 => await log.FindMaxTimestampAsync(cancellationToken).ConfigureAwait(false),
        _ => await log.FindOffsetByTimestampAsync(timestamp, cancellationToken).ConfigureAwait(false),
    };
}
