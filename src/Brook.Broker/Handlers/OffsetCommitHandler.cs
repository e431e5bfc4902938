using Brook.Broker.Groups;
using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// OffsetCommit (key 8), v0-9. v1: generation and member id (generation -1 commits for a group without members);
/// v2-4: retention time (ignored, the broker's offsets.retention.minutes applies); v6: leader epoch; v7: static membership.
/// Needs READ on the group and on each topic. Offsets for partitions that do not exist are refused with
/// UNKNOWN_TOPIC_OR_PARTITION, as Kafka does, so a deleted topic's offsets are not brought back by a late commit.
/// </summary>
public sealed class OffsetCommitHandler(GroupCoordinator coordinator, ILogStore store) : RequestHandler<OffsetCommitRequest, OffsetCommitResponse>
{
    protected override async ValueTask<OffsetCommitResponse?> HandleAsync(RequestContext context, OffsetCommitRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsAllowed(AclOperation.Read, ResourceType.Group, request.GroupId)) return GroupAuthorization.OffsetCommitDenied(request);
        var deniedTopics = GroupAuthorization.TakeDeniedTopics(context, request.Topics, t => t.Name, AclOperation.Read);
        var unknown = TakeUnknownPartitions(request.Topics);
        var response = await coordinator.CommitOffsetsAsync(request, context.ApiVersion, cancellationToken).ConfigureAwait(false);
        GroupAuthorization.AddDenied(response, deniedTopics);
        foreach (var (name, partitions) in unknown)
        {
            var topic = response.Topics.FirstOrDefault(t => t.Name == name);
            if (topic is null)
            {
                topic = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = name };
                response.Topics.Add(topic);
            }
            topic.Partitions.AddRange(partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition
            {
                PartitionIndex = p,
                ErrorCode = (short)ErrorCode.UnknownTopicOrPartition,
            }));
        }
        return response;
    }

    /// <summary>Removes the partitions the broker does not have from <paramref name="topics"/> and returns them by topic.</summary>
    private List<(string Topic, List<int> Partitions)> TakeUnknownPartitions(List<OffsetCommitRequest.OffsetCommitRequestTopic> topics)
    {
        var unknown = new List<(string, List<int>)>();
        foreach (var topic in topics)
        {
            var count = store.GetTopic(topic.Name)?.PartitionCount ?? 0;
            var missing = topic.Partitions.Where(p => p.PartitionIndex < 0 || p.PartitionIndex >= count).ToList();
            if (missing.Count == 0) continue;
            topic.Partitions.RemoveAll(missing.Contains);
            unknown.Add((topic.Name, missing.Select(p => p.PartitionIndex).ToList()));
        }
        topics.RemoveAll(t => t.Partitions.Count == 0);
        return unknown;
    }
}
