using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// OffsetForLeaderEpoch (key 23): consumers use it to detect log truncation (KIP-320). Every partition here has had
/// one leader epoch, 0, so the end offset of epoch 0 is the log end offset; a newer epoch is unknown. Needs DESCRIBE on
/// each topic (CLUSTER_ACTION when a replica asks).
/// </summary>
public sealed class OffsetForLeaderEpochHandler(ILogStore store) : RequestHandler<OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse>
{
    private const int CurrentEpoch = 0;

    protected override ValueTask<OffsetForLeaderEpochResponse?> HandleAsync(RequestContext context, OffsetForLeaderEpochRequest request, CancellationToken cancellationToken)
    {
        var response = new OffsetForLeaderEpochResponse();
        var access = new TopicAccess(context, AclOperation.Describe, follower: request.ReplicaId >= 0);
        foreach (var topic in request.Topics)
        {
            var topicResult = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = topic.Topic };
            response.Topics.Add(topicResult);
            var allowed = access.IsAllowed(topic.Topic);
            foreach (var partition in topic.Partitions)
            {
                var result = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = partition.Partition };
                topicResult.Partitions.Add(result);
                var log = store.GetPartition(topic.Topic, partition.Partition);
                if (!allowed)
                    result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
                else if (log is null)
                    result.ErrorCode = (short)ErrorCode.UnknownTopicOrPartition;
                else if (partition.CurrentLeaderEpoch > CurrentEpoch)
                    result.ErrorCode = (short)ErrorCode.UnknownLeaderEpoch;
                else if (partition.LeaderEpoch <= CurrentEpoch)
                {
                    result.LeaderEpoch = CurrentEpoch;
                    result.EndOffset = log.LogEndOffset;
                }
            }
        }
        return ValueTask.FromResult<OffsetForLeaderEpochResponse?>(response);
    }
}
