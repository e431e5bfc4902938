using Brook.Broker.Handlers;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Security;

/// <summary>
/// Kafka's checks on group APIs, as helpers so that each handler adds a line or two: members need READ on the group,
/// offset commits and deletes READ on each topic, offset fetches DESCRIBE on the group and each topic. Topics a
/// request may not touch are taken out before the coordinator sees the request and answered TOPIC_AUTHORIZATION_FAILED.
/// </summary>
internal static class GroupAuthorization
{
    private const short GroupDenied = (short)ErrorCode.GroupAuthorizationFailed;
    private const short TopicDenied = (short)ErrorCode.TopicAuthorizationFailed;

    public static JoinGroupResponse JoinGroupDenied(JoinGroupRequest request, short version) =>
        new() { ErrorCode = GroupDenied, MemberId = request.MemberId, GenerationId = -1, ProtocolName = version >= 7 ? null : "" };

    public static OffsetCommitResponse OffsetCommitDenied(OffsetCommitRequest request) => new()
    {
        Topics = request.Topics.Select(t => new OffsetCommitResponse.OffsetCommitResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = GroupDenied }).ToList(),
        }).ToList(),
    };

    /// <summary>Removes the topics the request may not <paramref name="operation"/> from <paramref name="topics"/> and returns them.</summary>
    public static List<T> TakeDeniedTopics<T>(RequestContext context, List<T> topics, Func<T, string> name, AclOperation operation)
    {
        if (!context.Authorizer.IsEnabled) return [];
        var denied = topics.Where(t => !context.IsAllowed(operation, ResourceType.Topic, name(t))).ToList();
        if (denied.Count > 0) topics.RemoveAll(denied.Contains);
        return denied;
    }

    public static void AddDenied(OffsetCommitResponse response, List<OffsetCommitRequest.OffsetCommitRequestTopic> denied) =>
        response.Topics.AddRange(denied.Select(t => new OffsetCommitResponse.OffsetCommitResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = TopicDenied }).ToList(),
        }));

    public static void AddDenied(OffsetDeleteResponse response, List<OffsetDeleteRequest.OffsetDeleteRequestTopic> denied) =>
        response.Topics.AddRange(denied.Select(t => new OffsetDeleteResponse.OffsetDeleteResponseTopic
        {
            Name = t.Name,
            Partitions = t.Partitions.Select(p => new OffsetDeleteResponse.OffsetDeleteResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = TopicDenied }).ToList(),
        }));

    /// <summary>ListGroups shows every group to a client that may DESCRIBE the cluster, else the groups it may DESCRIBE.</summary>
    public static List<ListGroupsResponse.ListedGroup> Visible(RequestContext context, List<ListGroupsResponse.ListedGroup> groups) =>
        !context.Authorizer.IsEnabled || context.IsClusterAllowed(AclOperation.Describe, logIfDenied: false)
            ? groups
            : groups.Where(g => context.IsAllowed(AclOperation.Describe, ResourceType.Group, g.GroupId, logIfDenied: false)).ToList();
}

/// <summary>
/// OffsetFetch in Kafka's terms: groups need DESCRIBE (else GROUP_AUTHORIZATION_FAILED), named topics DESCRIBE (else
/// TOPIC_AUTHORIZATION_FAILED per partition), and "all committed offsets" silently leaves out topics the client may not
/// DESCRIBE. <see cref="Prepare"/> strips the request before the coordinator reads it; <see cref="Complete"/> puts the
/// refusals back in request order.
/// </summary>
internal sealed class OffsetFetchAuthorization
{
    private readonly RequestContext _context;
    private readonly short _version;
    private readonly List<OffsetFetchRequest.OffsetFetchRequestGroup> _allGroups = [];
    private readonly HashSet<string> _deniedGroups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(string Topic, List<int> Partitions)>> _deniedTopics = new(StringComparer.Ordinal);
    private readonly HashSet<string> _allTopicGroups = new(StringComparer.Ordinal);

    private OffsetFetchAuthorization(RequestContext context, short version)
    {
        _context = context;
        _version = version;
    }

    /// <summary>The whole answer when a request of v0-7 names a group it may not DESCRIBE; the coordinator is then not asked.</summary>
    public OffsetFetchResponse? DeniedResponse { get; private set; }

    public static OffsetFetchAuthorization Prepare(RequestContext context, OffsetFetchRequest request)
    {
        var plan = new OffsetFetchAuthorization(context, context.ApiVersion);
        if (!context.Authorizer.IsEnabled) return plan;
        if (context.ApiVersion >= 8)
        {
            plan._allGroups.AddRange(request.Groups);
            foreach (var g in request.Groups)
            {
                if (!context.IsAllowed(AclOperation.Describe, ResourceType.Group, g.GroupId)) plan._deniedGroups.Add(g.GroupId);
                else if (g.Topics is null) plan._allTopicGroups.Add(g.GroupId);
                else plan._deniedTopics[g.GroupId] = TakeDenied(context, g.Topics, t => t.Name, t => t.PartitionIndexes);
            }
            request.Groups = request.Groups.Where(g => !plan._deniedGroups.Contains(g.GroupId)).ToList();
            return plan;
        }
        if (!context.IsAllowed(AclOperation.Describe, ResourceType.Group, request.GroupId))
        {
            // v2+ carries a top-level error; older versions only have per-partition errors.
            plan.DeniedResponse = new OffsetFetchResponse
            {
                ErrorCode = (short)ErrorCode.GroupAuthorizationFailed,
                Topics = context.ApiVersion >= 2 ? [] : (request.Topics ?? []).Select(t => new OffsetFetchResponse.OffsetFetchResponseTopic
                {
                    Name = t.Name,
                    Partitions = t.PartitionIndexes.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartition { PartitionIndex = p, CommittedOffset = -1, Metadata = "", ErrorCode = (short)ErrorCode.GroupAuthorizationFailed }).ToList(),
                }).ToList(),
            };
        }
        else if (request.Topics is null) plan._allTopicGroups.Add(request.GroupId);
        else plan._deniedTopics[request.GroupId] = TakeDenied(context, request.Topics, t => t.Name, t => t.PartitionIndexes);
        return plan;
    }

    public void Complete(OffsetFetchRequest request, OffsetFetchResponse response)
    {
        if (!_context.Authorizer.IsEnabled) return;
        if (_version >= 8)
        {
            // The coordinator answered the allowed groups in request order; the refused ones go back where they were.
            var answered = new Queue<OffsetFetchResponse.OffsetFetchResponseGroup>(response.Groups);
            response.Groups = _allGroups.Select(g => !_deniedGroups.Contains(g.GroupId) && answered.TryDequeue(out var found) ? found
                : new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = g.GroupId, ErrorCode = (short)ErrorCode.GroupAuthorizationFailed }).ToList();
            foreach (var group in response.Groups)
            {
                if (_allTopicGroups.Contains(group.GroupId)) group.Topics.RemoveAll(t => !Visible(t.Name));
                foreach (var (topic, partitions) in _deniedTopics.GetValueOrDefault(group.GroupId) ?? [])
                {
                    group.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopics
                    {
                        Name = topic,
                        Partitions = partitions.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartitions { PartitionIndex = p, CommittedOffset = -1, ErrorCode = (short)ErrorCode.TopicAuthorizationFailed }).ToList(),
                    });
                }
            }
            return;
        }
        if (_allTopicGroups.Contains(request.GroupId)) response.Topics.RemoveAll(t => !Visible(t.Name));
        foreach (var (topic, partitions) in _deniedTopics.GetValueOrDefault(request.GroupId) ?? [])
        {
            response.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopic
            {
                Name = topic,
                Partitions = partitions.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartition { PartitionIndex = p, CommittedOffset = -1, Metadata = "", ErrorCode = (short)ErrorCode.TopicAuthorizationFailed }).ToList(),
            });
        }
    }

    private bool Visible(string topic) => _context.IsAllowed(AclOperation.Describe, ResourceType.Topic, topic, logIfDenied: false);

    private static List<(string, List<int>)> TakeDenied<T>(RequestContext context, List<T> topics, Func<T, string> name, Func<T, List<int>> partitions) =>
        GroupAuthorization.TakeDeniedTopics(context, topics, name, AclOperation.Describe).Select(t => (name(t), partitions(t))).ToList();
}
