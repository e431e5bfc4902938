using System.Collections.Concurrent;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;
using Brook.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Brook.Broker.Groups;

/// <summary>Who is calling: what DescribeGroups reports about a member.</summary>
/// <summary>
/// Who sent a group request. With an authorizer, <c>CanDescribeTopic</c> says whether the client's principal may DESCRIBE a
/// topic: a regular-expression subscription resolves only to such topics, as in Kafka. Null without an authorizer.
/// </summary>
public readonly record struct ClientInfo(string ClientId, string ClientHost, Func<string, bool>? CanDescribeTopic = null);

/// <summary>
/// The group coordinator of this node (it coordinates every group). Durable state — group generations with their
/// members and assignments, and committed offsets — changes only by applying <see cref="GroupRecord"/>s, which are
/// first appended to the compacted topic __consumer_offsets; at start the same <see cref="Apply"/> replays that log.
/// The rebalance protocol in flight (pending joins, a generation awaiting its assignment) lives in memory only:
/// after a restart members resume the last stored generation or rejoin.
/// Thread-safety: each group is guarded by its own async lock; all time comes from the injected <see cref="TimeProvider"/>,
/// and timeouts fire when <see cref="CheckDeadlinesAsync"/> runs (a periodic loop in the broker, explicit calls in tests).
/// </summary>
public sealed partial class GroupCoordinator
{
    public const string TopicName = "__consumer_offsets";

    private readonly ConcurrentDictionary<string, BrokerGroup> _groups = new(StringComparer.Ordinal);
    private readonly ILogStore _store;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _minSessionTimeoutMs;
    private readonly int _maxSessionTimeoutMs;
    private readonly int _initialRebalanceDelayMs;
    private readonly long _offsetsRetentionMs;
    private readonly int _metadataMaxBytes;
    private readonly int _topicPartitions;
    private readonly int _consumerHeartbeatIntervalMs;
    private readonly int _consumerSessionTimeoutMs;
    private int _partitionCount;
    private volatile bool _loaded;

    public GroupCoordinator(ILogStore store, BrokerConfig config, TimeProvider time, ILogger<GroupCoordinator>? logger = null)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _store = store;
        _time = time;
        _minSessionTimeoutMs = config.GetInt("group.min.session.timeout.ms", 6000);
        _maxSessionTimeoutMs = config.GetInt("group.max.session.timeout.ms", 1_800_000);
        _initialRebalanceDelayMs = config.GetInt("group.initial.rebalance.delay.ms", 3000);
        _offsetsRetentionMs = (long)config.GetInt("offsets.retention.minutes", 7 * 24 * 60) * 60_000;
        _metadataMaxBytes = config.GetInt("offset.metadata.max.bytes", 4096);
        _topicPartitions = config.GetInt("offsets.topic.num.partitions", 4);
        _consumerHeartbeatIntervalMs = config.GetInt("group.consumer.heartbeat.interval.ms", 5000);
        _consumerSessionTimeoutMs = config.GetInt("group.consumer.session.timeout.ms", 45_000);
    }

    public bool IsLoaded => _loaded;

    /// <summary>Creates __consumer_offsets when missing, then rebuilds every group by replaying it.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        _partitionCount = await InternalTopicReplay.LoadAsync(_store, TopicName, _topicPartitions, ReplayRecord, cancellationToken).ConfigureAwait(false);
        _loaded = true;
    }

    /// <summary>Kafka's placement of a group on a partition of __consumer_offsets: Java's String.hashCode, made non-negative.</summary>
    public static int PartitionFor(string groupId, int partitionCount)
    {
        var hash = 0;
        foreach (var c in groupId) hash = unchecked((31 * hash) + c);
        return (hash & 0x7FFFFFFF) % partitionCount;
    }

    private BrokerGroup GroupFor(string groupId) => _groups.GetOrAdd(groupId, id => new BrokerGroup(id));

    /// <summary>
    /// For operations that never create a group: the group, or a detached Dead one so that lookups of unknown ids do not
    /// fill the map. Nothing is ever stored for a detached group (every path treats Dead as "no such group").
    /// </summary>
    private BrokerGroup ExistingOrDead(string groupId) => _groups.TryGetValue(groupId, out var group) ? group : new BrokerGroup(groupId);

    private DateTimeOffset Now => _time.GetUtcNow();

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    // ---------------------------------------------------------------- records

    /// <summary>Appends records for one group to its partition, then applies them. Caller holds the group's lock.</summary>
    private async Task PersistAsync(BrokerGroup group, IReadOnlyList<GroupRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0) return;
        var batch = GroupBatchCodec.Write(records.Select(GroupRecordCodec.Encode).ToList(), NowMs);
        var log = _store.GetPartition(TopicName, PartitionFor(group.Id, _partitionCount))
            ?? throw new StorageException($"{TopicName} is missing.");
        await log.AppendAsync(batch, new AppendOptions(TimestampType.CreateTime, NowMs, 0), cancellationToken).ConfigureAwait(false);
        foreach (var record in records) Apply(record);
    }

    /// <summary>
    /// The only way durable state changes, both live (after the append) and when replaying at start.
    /// Caller holds the group's lock, or is the single-threaded load.
    /// </summary>
    private void Apply(GroupRecord record)
    {
        var group = GroupFor(record.GroupId);
        switch (record)
        {
            case GroupRecord.Offset { Value: null } o:
                group.Offsets.Remove((o.Topic, o.Partition));
                break;
            case GroupRecord.Offset o:
                if (group.State == GroupState.Dead)
                {
                    group.State = GroupState.Empty;
                    group.StateTimestamp = o.Value.CommitTimestamp;
                }
                group.Offsets[(o.Topic, o.Partition)] = o.Value;
                break;
            case GroupRecord.Metadata { Value: null }:
                group.ResetToDead();
                break;
            case GroupRecord.Metadata { Value: { } stored }:
                ApplyGroup(group, stored);
                break;
            case GroupRecord.Consumer { Value: null }:
                group.ResetToDead();
                break;
            case GroupRecord.Consumer { Value: { } model }:
                ApplyConsumerGroup(group, model);
                break;
        }
    }

    private void ApplyGroup(BrokerGroup group, StoredGroup stored)
    {
        group.Consumer = null;
        group.ProtocolType = stored.ProtocolType;
        group.Generation = stored.Generation;
        group.ProtocolName = stored.ProtocolName;
        group.Leader = stored.Leader;
        group.StateTimestamp = stored.StateTimestamp;
        var keep = stored.Members.Select(m => m.MemberId).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in group.Members.Values.Where(m => !keep.Contains(m.MemberId)).ToList()) RemoveMember(group, gone, ErrorCode.UnknownMemberId);
        foreach (var s in stored.Members)
        {
            if (!group.Members.TryGetValue(s.MemberId, out var member))
            {
                member = new GroupMember(s.MemberId, s.GroupInstanceId)
                {
                    ClientId = s.ClientId,
                    ClientHost = s.ClientHost,
                    SessionTimeoutMs = s.SessionTimeoutMs,
                    RebalanceTimeoutMs = s.RebalanceTimeoutMs,
                    Protocols = [(stored.ProtocolName ?? "", s.Subscription)],
                    SessionDeadline = Now.AddMilliseconds(s.SessionTimeoutMs),
                };
                group.Members[s.MemberId] = member;
                if (s.GroupInstanceId is { } instance) group.StaticMembers[instance] = s.MemberId;
            }
            member.Assignment = s.Assignment;
        }
        group.State = group.Members.Count == 0 ? GroupState.Empty : GroupState.Stable;
        if (group.State == GroupState.Empty) group.SubscribedPartitionCounts = null;
    }

    private StoredGroup Snapshot(BrokerGroup group, long stateTimestamp, Func<GroupMember, byte[]> assignment) =>
        new(group.ProtocolType ?? "", group.Generation, group.ProtocolName, group.Leader, stateTimestamp,
            group.Members.Values.Select(m => new StoredMember(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                m.SessionTimeoutMs, m.RebalanceTimeoutMs, m.MetadataFor(group.ProtocolName), assignment(m))).ToList());

    // ---------------------------------------------------------------- join

    public async Task<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request, short version, ClientInfo client, CancellationToken cancellationToken)
    {
        if (!_loaded) return JoinError(ErrorCode.CoordinatorLoadInProgress, request.MemberId, version);
        if (string.IsNullOrEmpty(request.GroupId)) return JoinError(ErrorCode.InvalidGroupId, request.MemberId, version);
        if (request.SessionTimeoutMs < _minSessionTimeoutMs || request.SessionTimeoutMs > _maxSessionTimeoutMs)
            return JoinError(ErrorCode.InvalidSessionTimeout, request.MemberId, version);
        var group = GroupFor(request.GroupId);
        Task<JoinGroupResponse> pending;
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            pending = await JoinLockedAsync(group, request, version, client, cancellationToken).ConfigureAwait(false);
        }
        catch (StorageException)
        {
            // The members already waiting were answered by the failed step or will be by the next one; this one retries.
            return JoinError(ErrorCode.CoordinatorNotAvailable, request.MemberId, version);
        }
        finally
        {
            group.Lock.Release();
        }
        return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static JoinGroupResponse JoinError(ErrorCode error, string memberId, short version) =>
        new() { ErrorCode = (short)error, MemberId = memberId, GenerationId = -1, ProtocolName = version >= 7 ? null : "" };

    private async Task<Task<JoinGroupResponse>> JoinLockedAsync(BrokerGroup group, JoinGroupRequest request, short version, ClientInfo client, CancellationToken cancellationToken)
    {
        var protocols = request.Protocols.Select(p => (p.Name, p.Metadata)).ToList();
        if (group.State == GroupState.Dead)
        {
            if (request.MemberId.Length > 0) return Task.FromResult(JoinError(ErrorCode.UnknownMemberId, request.MemberId, version));
            group.State = GroupState.Empty;
            group.StateTimestamp = NowMs;
        }
        // An empty consumer-protocol group may be taken over by classic members; their first generation replaces it when stored.
        if (group.Consumer is { Members.Count: 0 }) group.Consumer = null;
        if (string.IsNullOrEmpty(request.ProtocolType) || protocols.Count == 0 || group.Consumer is { Members.Count: > 0 }
            || (group.Members.Count > 0 && (group.ProtocolType != request.ProtocolType || !protocols.Any(p => group.CandidateProtocols().Contains(p.Name)))))
            return Task.FromResult(JoinError(ErrorCode.InconsistentGroupProtocol, request.MemberId, version));

        var instanceId = request.GroupInstanceId;
        var rebalanceTimeout = request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : request.SessionTimeoutMs;
        if (request.MemberId.Length == 0)
        {
            if (instanceId is not null && group.StaticMembers.TryGetValue(instanceId, out var oldId))
                return await RejoinStaticMemberAsync(group, group.Members[oldId], request, version, protocols, client, rebalanceTimeout, cancellationToken).ConfigureAwait(false);
            var newId = (instanceId ?? client.ClientId) + "-" + Guid.NewGuid().ToString("D");
            if (instanceId is null && version >= 4)
            {
                // KIP-394: the member must come back with this id, so that a client retrying a lost response does not leave a ghost member.
                group.PendingMembers[newId] = Now.AddMilliseconds(request.SessionTimeoutMs);
                return Task.FromResult(JoinError(ErrorCode.MemberIdRequired, newId, version));
            }
            return await AddMemberAsync(group, newId, request, version, protocols, client, rebalanceTimeout, cancellationToken).ConfigureAwait(false);
        }

        if (group.PendingMembers.Remove(request.MemberId))
            return await AddMemberAsync(group, request.MemberId, request, version, protocols, client, rebalanceTimeout, cancellationToken).ConfigureAwait(false);
        if (instanceId is not null && group.StaticMembers.TryGetValue(instanceId, out var holder) && holder != request.MemberId)
            return Task.FromResult(JoinError(ErrorCode.FencedInstanceId, request.MemberId, version));
        if (!group.Members.TryGetValue(request.MemberId, out var member) || group.State == GroupState.Empty)
            return Task.FromResult(JoinError(ErrorCode.UnknownMemberId, request.MemberId, version));
        if (member.GroupInstanceId != instanceId) return Task.FromResult(JoinError(ErrorCode.FencedInstanceId, request.MemberId, version));

        UpdateMember(member, request, client, rebalanceTimeout);
        var changed = !member.SameProtocols(protocols);
        switch (group.State)
        {
            case GroupState.CompletingRebalance when !changed:
                return Task.FromResult(CurrentGenerationResponse(group, member, version, includeMembers: member.MemberId == group.Leader));
            case GroupState.Stable when !changed && member.MemberId != group.Leader:
                return Task.FromResult(CurrentGenerationResponse(group, member, version, includeMembers: false));
            default:
                member.Protocols = protocols;
                var waiter = AwaitJoin(member, version);
                if (group.State != GroupState.PreparingRebalance) PrepareRebalance(group);
                await TryCompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
                return waiter;
        }
    }

    private void UpdateMember(GroupMember member, JoinGroupRequest request, ClientInfo client, int rebalanceTimeout)
    {
        member.ClientId = client.ClientId;
        member.ClientHost = client.ClientHost;
        member.SessionTimeoutMs = request.SessionTimeoutMs;
        member.RebalanceTimeoutMs = rebalanceTimeout;
        member.SessionDeadline = Now.AddMilliseconds(request.SessionTimeoutMs);
    }

    private static Task<JoinGroupResponse> AwaitJoin(GroupMember member, short version)
    {
        member.JoinWaiter?.TrySetResult(JoinError(ErrorCode.RebalanceInProgress, member.MemberId, member.JoinVersion));
        member.JoinWaiter = new TaskCompletionSource<JoinGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        member.JoinVersion = version;
        return member.JoinWaiter.Task;
    }

    private async Task<Task<JoinGroupResponse>> AddMemberAsync(BrokerGroup group, string memberId, JoinGroupRequest request, short version,
        List<(string Name, byte[] Metadata)> protocols, ClientInfo client, int rebalanceTimeout, CancellationToken cancellationToken)
    {
        var member = new GroupMember(memberId, request.GroupInstanceId) { Protocols = protocols };
        UpdateMember(member, request, client, rebalanceTimeout);
        var waiter = AwaitJoin(member, version);
        var wasEmpty = group.Members.Count == 0;
        group.Members[memberId] = member;
        if (member.GroupInstanceId is { } instance) group.StaticMembers[instance] = memberId;
        if (wasEmpty) group.ProtocolType = request.ProtocolType;
        if (group.State != GroupState.PreparingRebalance) PrepareRebalance(group);
        await TryCompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
        return waiter;
    }

    /// <summary>
    /// A static member restarted (KIP-345): it takes over its old member id's place under a new id. In a stable group with
    /// unchanged metadata it gets the current generation back without a rebalance; the old id is fenced.
    /// </summary>
    private async Task<Task<JoinGroupResponse>> RejoinStaticMemberAsync(BrokerGroup group, GroupMember member, JoinGroupRequest request, short version,
        List<(string Name, byte[] Metadata)> protocols, ClientInfo client, int rebalanceTimeout, CancellationToken cancellationToken)
    {
        var oldId = member.MemberId;
        var newId = member.GroupInstanceId + "-" + Guid.NewGuid().ToString("D");
        member.FailWaiters(ErrorCode.FencedInstanceId);
        group.Members.Remove(oldId);
        member.MemberId = newId;
        group.Members[newId] = member;
        group.StaticMembers[member.GroupInstanceId!] = newId;
        var wasLeader = group.Leader == oldId;
        if (wasLeader) group.Leader = newId;
        var oldTimeouts = (member.SessionTimeoutMs, member.RebalanceTimeoutMs);
        UpdateMember(member, request, client, rebalanceTimeout);

        if (group.State == GroupState.Stable && member.MetadataFor(group.ProtocolName).AsSpan().SequenceEqual(protocols.FirstOrDefault(p => p.Name == group.ProtocolName).Metadata ?? [])
            && oldTimeouts == (member.SessionTimeoutMs, member.RebalanceTimeoutMs))
        {
            member.Protocols = protocols;
            // The replacement is stored so that the new id survives a restart and the old one stays fenced.
            await PersistAsync(group, [new GroupRecord.Metadata(group.Id, Snapshot(group, group.StateTimestamp, m => m.Assignment))], cancellationToken).ConfigureAwait(false);
            if (wasLeader && version >= 9)
            {
                var response = CurrentGenerationResponse(group, member, version, includeMembers: true);
                response.SkipAssignment = true;
                return Task.FromResult(response);
            }
            var followerView = CurrentGenerationResponse(group, member, version, includeMembers: false);
            // An older leader told that it leads would compute a new assignment; it is told the old id leads instead.
            if (wasLeader) followerView.Leader = oldId;
            return Task.FromResult(followerView);
        }

        member.Protocols = protocols;
        var waiter = AwaitJoin(member, version);
        if (group.State != GroupState.PreparingRebalance) PrepareRebalance(group);
        await TryCompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
        return waiter;
    }

    private static JoinGroupResponse CurrentGenerationResponse(BrokerGroup group, GroupMember member, short version, bool includeMembers)
    {
        var response = new JoinGroupResponse
        {
            GenerationId = group.Generation,
            ProtocolType = group.ProtocolType,
            ProtocolName = group.ProtocolName,
            Leader = group.Leader ?? "",
            MemberId = member.MemberId,
        };
        if (includeMembers)
        {
            foreach (var m in group.Members.Values)
                response.Members.Add(new JoinGroupResponse.JoinGroupResponseMember { MemberId = m.MemberId, GroupInstanceId = m.GroupInstanceId, Metadata = m.MetadataFor(group.ProtocolName) });
        }
        return response;
    }

    private void PrepareRebalance(BrokerGroup group)
    {
        if (group.State == GroupState.CompletingRebalance)
        {
            foreach (var m in group.Members.Values)
            {
                m.Assignment = [];
                m.SyncWaiter?.TrySetResult(new SyncGroupResponse { ErrorCode = (short)ErrorCode.RebalanceInProgress });
                m.SyncWaiter = null;
            }
        }
        var now = Now;
        var timeout = group.Members.Count == 0 ? 0 : group.Members.Values.Max(m => m.RebalanceTimeoutMs);
        group.InitialDelayDeadline = group.State == GroupState.Empty ? now.AddMilliseconds(Math.Min(_initialRebalanceDelayMs, timeout)) : now;
        group.RebalanceDeadline = now.AddMilliseconds(timeout);
        group.State = GroupState.PreparingRebalance;
    }

    private async Task TryCompleteJoinAsync(BrokerGroup group, CancellationToken cancellationToken)
    {
        if (group.State != GroupState.PreparingRebalance || Now < group.InitialDelayDeadline) return;
        if (group.PendingMembers.Count == 0 && group.Members.Values.All(m => m.JoinWaiter is not null))
            await CompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the join phase: drops dynamic members that did not rejoin, starts the next generation and answers every waiting member.</summary>
    private async Task CompleteJoinAsync(BrokerGroup group, CancellationToken cancellationToken)
    {
        foreach (var m in group.Members.Values.Where(m => m.JoinWaiter is null && m.GroupInstanceId is null).ToList())
            RemoveMember(group, m, ErrorCode.UnknownMemberId);
        if (group.Members.Count == 0 || group.Members.Values.All(m => m.JoinWaiter is null))
        {
            // Nobody is left to lead: the group becomes empty in a new generation, which is stored.
            foreach (var m in group.Members.Values.ToList()) RemoveMember(group, m, ErrorCode.UnknownMemberId);
            group.Generation++;
            group.ProtocolName = null;
            group.Leader = null;
            LogEmptied(group.Id, group.Generation);
            await PersistAsync(group, [new GroupRecord.Metadata(group.Id, Snapshot(group, NowMs, _ => []))], cancellationToken).ConfigureAwait(false);
            return;
        }
        group.Generation++;
        group.ProtocolName = group.SelectProtocol();
        if (group.Leader is null || !group.Members.TryGetValue(group.Leader, out var leader) || leader.JoinWaiter is null)
            group.Leader = group.Members.Values.First(m => m.JoinWaiter is not null).MemberId;
        group.State = GroupState.CompletingRebalance;
        LogRebalanced(group.Id, group.Generation, group.Members.Count, group.Leader, group.ProtocolName ?? "",
            string.Join(", ", group.Members.Values.Select(m => m.GroupInstanceId is { } instance ? $"{m.MemberId} ({instance})" : m.MemberId)));
        var now = Now;
        group.SyncDeadline = now.AddMilliseconds(group.Members.Values.Max(m => m.RebalanceTimeoutMs));
        group.SubscribedPartitionCounts = SubscribedPartitionCounts(group);
        foreach (var m in group.Members.Values)
        {
            if (m.JoinWaiter is not { } waiter) continue;
            m.JoinWaiter = null;
            m.SessionDeadline = now.AddMilliseconds(m.SessionTimeoutMs);
            waiter.TrySetResult(CurrentGenerationResponse(group, m, m.JoinVersion, includeMembers: m.MemberId == group.Leader));
        }
    }

    private Dictionary<string, int>? SubscribedPartitionCounts(BrokerGroup group)
    {
        if (group.ProtocolType != "consumer") return null;
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in group.Members.Values)
            foreach (var topic in ConsumerProtocol.SubscribedTopics(m.MetadataFor(group.ProtocolName)))
                counts[topic] = _store.GetTopic(topic)?.PartitionCount ?? 0;
        return counts;
    }

    private static void RemoveMember(BrokerGroup group, GroupMember member, ErrorCode error)
    {
        member.FailWaiters(error);
        group.Members.Remove(member.MemberId);
        if (member.GroupInstanceId is { } instance && group.StaticMembers.GetValueOrDefault(instance) == member.MemberId)
            group.StaticMembers.Remove(instance);
        if (group.Leader == member.MemberId) group.Leader = null;
    }

    /// <summary>After members left or expired: a stable group rebalances; a rebalancing one may now be complete.</summary>
    private async Task OnMembersRemovedAsync(BrokerGroup group, CancellationToken cancellationToken)
    {
        if (group.State is GroupState.Stable or GroupState.CompletingRebalance) PrepareRebalance(group);
        if (group.State == GroupState.PreparingRebalance && group.Members.Count == 0) group.InitialDelayDeadline = Now;
        await TryCompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- sync, heartbeat, leave

    public async Task<SyncGroupResponse> SyncGroupAsync(SyncGroupRequest request, short version, CancellationToken cancellationToken)
    {
        if (!_loaded) return new SyncGroupResponse { ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress };
        var group = ExistingOrDead(request.GroupId);
        Task<SyncGroupResponse> pending;
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            pending = await SyncLockedAsync(group, request, version, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            group.Lock.Release();
        }
        return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Task<SyncGroupResponse> SyncError(ErrorCode error) => Task.FromResult(new SyncGroupResponse { ErrorCode = (short)error });

    private async Task<Task<SyncGroupResponse>> SyncLockedAsync(BrokerGroup group, SyncGroupRequest request, short version, CancellationToken cancellationToken)
    {
        var error = CheckMember(group, request.MemberId, request.GroupInstanceId, request.GenerationId, out var member);
        if (error != ErrorCode.None) return SyncError(error);
        if ((request.ProtocolType is not null && request.ProtocolType != group.ProtocolType) || (request.ProtocolName is not null && request.ProtocolName != group.ProtocolName))
            return SyncError(ErrorCode.InconsistentGroupProtocol);
        switch (group.State)
        {
            case GroupState.PreparingRebalance:
                return SyncError(ErrorCode.RebalanceInProgress);
            case GroupState.Stable:
                return Task.FromResult(SyncResponse(group, member!));
            case GroupState.CompletingRebalance:
                member!.SyncWaiter?.TrySetResult(new SyncGroupResponse { ErrorCode = (short)ErrorCode.RebalanceInProgress });
                member.SyncWaiter = new TaskCompletionSource<SyncGroupResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
                var waiter = member.SyncWaiter.Task;
                if (member.MemberId == group.Leader)
                {
                    var assignments = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                    foreach (var a in request.Assignments) assignments[a.MemberId] = a.Assignment;
                    try
                    {
                        await PersistAsync(group, [new GroupRecord.Metadata(group.Id, Snapshot(group, NowMs, m => assignments.GetValueOrDefault(m.MemberId) ?? []))], cancellationToken).ConfigureAwait(false);
                    }
                    catch (StorageException)
                    {
                        PrepareRebalance(group);
                        foreach (var m in group.Members.Values) m.FailWaiters(ErrorCode.CoordinatorNotAvailable);
                        return waiter;
                    }
                    foreach (var m in group.Members.Values)
                    {
                        m.SyncWaiter?.TrySetResult(SyncResponse(group, m));
                        m.SyncWaiter = null;
                    }
                }
                return waiter;
            default:
                return SyncError(ErrorCode.UnknownMemberId);
        }
    }

    private static SyncGroupResponse SyncResponse(BrokerGroup group, GroupMember member) =>
        new() { ProtocolType = group.ProtocolType, ProtocolName = group.ProtocolName, Assignment = member.Assignment };

    /// <summary>Validates a member of the current generation; generation -1 skips the generation check.</summary>
    private static ErrorCode CheckMember(BrokerGroup group, string memberId, string? instanceId, int generation, out GroupMember? member)
    {
        member = null;
        if (group.State == GroupState.Dead) return ErrorCode.UnknownMemberId;
        if (instanceId is not null && group.StaticMembers.TryGetValue(instanceId, out var holder) && holder != memberId) return ErrorCode.FencedInstanceId;
        if (!group.Members.TryGetValue(memberId, out member)) return ErrorCode.UnknownMemberId;
        if (member.GroupInstanceId != instanceId && instanceId is not null) return ErrorCode.FencedInstanceId;
        if (generation != group.Generation) return ErrorCode.IllegalGeneration;
        return ErrorCode.None;
    }

    public async Task<ErrorCode> HeartbeatAsync(HeartbeatRequest request, CancellationToken cancellationToken)
    {
        if (!_loaded) return ErrorCode.CoordinatorLoadInProgress;
        var group = ExistingOrDead(request.GroupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var error = CheckMember(group, request.MemberId, request.GroupInstanceId, request.GenerationId, out var member);
            if (error != ErrorCode.None) return error;
            if (group.State == GroupState.Empty) return ErrorCode.UnknownMemberId;
            member!.SessionDeadline = Now.AddMilliseconds(member.SessionTimeoutMs);
            return group.State == GroupState.PreparingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    public async Task<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request, short version, CancellationToken cancellationToken)
    {
        var response = new LeaveGroupResponse();
        if (!_loaded)
        {
            response.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
            return response;
        }
        var identities = version >= 3
            ? request.Members.Select(m => (m.MemberId, m.GroupInstanceId)).ToList()
            : [(request.MemberId, (string?)null)];
        var group = ExistingOrDead(request.GroupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (group.State == GroupState.Dead)
            {
                response.ErrorCode = (short)ErrorCode.UnknownMemberId;
                return response;
            }
            var removed = false;
            foreach (var (memberId, instanceId) in identities)
            {
                var error = ErrorCode.None;
                var id = memberId;
                if (id.Length == 0 && instanceId is not null) id = group.StaticMembers.GetValueOrDefault(instanceId) ?? "";
                if (instanceId is not null && group.StaticMembers.TryGetValue(instanceId, out var holder) && holder != id) error = ErrorCode.FencedInstanceId;
                else if (group.PendingMembers.Remove(id)) removed = true;
                else if (!group.Members.TryGetValue(id, out var member)) error = ErrorCode.UnknownMemberId;
                else
                {
                    RemoveMember(group, member, ErrorCode.UnknownMemberId);
                    removed = true;
                }
                response.Members.Add(new LeaveGroupResponse.MemberResponse { MemberId = memberId, GroupInstanceId = instanceId, ErrorCode = (short)error });
            }
            if (version < 3) response.ErrorCode = response.Members[0].ErrorCode;
            if (removed) await OnMembersRemovedAsync(group, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch (StorageException)
        {
            // The members were removed; storing the now empty generation is retried by the periodic check.
            return response;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    // ---------------------------------------------------------------- offsets

    public async Task<OffsetCommitResponse> CommitOffsetsAsync(OffsetCommitRequest request, short version, CancellationToken cancellationToken)
    {
        var response = new OffsetCommitResponse();
        var group = GroupFor(request.GroupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var error = !_loaded ? ErrorCode.CoordinatorLoadInProgress : CheckCommit(group, request, version);
            var records = new List<GroupRecord>();
            var now = NowMs;
            foreach (var topic in request.Topics)
            {
                var topicResponse = new OffsetCommitResponse.OffsetCommitResponseTopic { Name = topic.Name };
                response.Topics.Add(topicResponse);
                foreach (var p in topic.Partitions)
                {
                    var partitionError = error;
                    if (partitionError == ErrorCode.None && p.CommittedMetadata is { Length: var length } && length > _metadataMaxBytes)
                        partitionError = ErrorCode.OffsetMetadataTooLarge;
                    if (partitionError == ErrorCode.None)
                        records.Add(new GroupRecord.Offset(group.Id, topic.Name, p.PartitionIndex, new CommittedOffset(p.CommittedOffset, p.CommittedLeaderEpoch, p.CommittedMetadata ?? "", now)));
                    topicResponse.Partitions.Add(new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)partitionError });
                }
            }
            try
            {
                await PersistAsync(group, records, cancellationToken).ConfigureAwait(false);
            }
            catch (StorageException)
            {
                foreach (var p in response.Topics.SelectMany(t => t.Partitions).Where(p => p.ErrorCode == 0)) p.ErrorCode = (short)ErrorCode.CoordinatorNotAvailable;
            }
            return response;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    private ErrorCode CheckCommit(BrokerGroup group, OffsetCommitRequest request, short version)
    {
        var generation = version >= 1 ? request.GenerationIdOrMemberEpoch : -1;
        // A commit outside any generation (admin tools, standalone consumers) is allowed while no member is in the group.
        if (generation < 0 && group.Members.Count == 0 && group.State is GroupState.Dead or GroupState.Empty) return ErrorCode.None;
        if (group.State == GroupState.Dead) return ErrorCode.IllegalGeneration;
        if (group.Consumer is { } consumer) return CheckConsumerCommit(group, consumer, request.MemberId, generation, version);
        var error = CheckMember(group, request.MemberId, request.GroupInstanceId, generation, out var member);
        if (error != ErrorCode.None) return error;
        if (group.State == GroupState.CompletingRebalance) return ErrorCode.RebalanceInProgress;
        // A commit from a member proves it is alive, as a heartbeat does.
        member!.SessionDeadline = Now.AddMilliseconds(member.SessionTimeoutMs);
        return ErrorCode.None;
    }

    public async Task<OffsetFetchResponse> FetchOffsetsAsync(OffsetFetchRequest request, short version, CancellationToken cancellationToken)
    {
        var response = new OffsetFetchResponse();
        if (version >= 8)
        {
            foreach (var g in request.Groups)
            {
                var result = new OffsetFetchResponse.OffsetFetchResponseGroup { GroupId = g.GroupId };
                response.Groups.Add(result);
                if (!_loaded)
                {
                    result.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
                    continue;
                }
                if (version >= 9 && await CheckOffsetFetchMemberAsync(g.GroupId, g.MemberId, g.MemberEpoch, cancellationToken).ConfigureAwait(false) is not ErrorCode.None and var memberError)
                {
                    result.ErrorCode = (short)memberError;
                    continue;
                }
                var offsets = await ReadOffsetsAsync(g.GroupId, g.Topics?.Select(t => (t.Name, t.PartitionIndexes)).ToList(), cancellationToken).ConfigureAwait(false);
                foreach (var (topic, partitions) in offsets)
                {
                    result.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopics
                    {
                        Name = topic,
                        Partitions = partitions.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartitions
                        {
                            PartitionIndex = p.Partition,
                            ErrorCode = (short)UnstableOffsetError(request.RequireStable, g.GroupId, topic, p.Partition),
                            CommittedOffset = p.Offset?.Offset ?? -1,
                            CommittedLeaderEpoch = p.Offset?.LeaderEpoch ?? -1,
                            Metadata = p.Offset?.Metadata ?? "",
                        }).ToList(),
                    });
                }
            }
            return response;
        }
        if (!_loaded)
        {
            response.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
            return response;
        }
        var requested = request.Topics?.Select(t => (t.Name, t.PartitionIndexes)).ToList();
        foreach (var (topic, partitions) in await ReadOffsetsAsync(request.GroupId, requested, cancellationToken).ConfigureAwait(false))
        {
            response.Topics.Add(new OffsetFetchResponse.OffsetFetchResponseTopic
            {
                Name = topic,
                Partitions = partitions.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartition
                {
                    PartitionIndex = p.Partition,
                    ErrorCode = (short)UnstableOffsetError(request.RequireStable, request.GroupId, topic, p.Partition),
                    CommittedOffset = p.Offset?.Offset ?? -1,
                    CommittedLeaderEpoch = p.Offset?.LeaderEpoch ?? -1,
                    Metadata = p.Offset?.Metadata ?? "",
                }).ToList(),
            });
        }
        return response;
    }

    /// <summary>Committed offsets of the requested partitions (null = every committed partition); absent ones come back as null.</summary>
    private async Task<List<(string Topic, List<(int Partition, CommittedOffset? Offset)> Partitions)>> ReadOffsetsAsync(
        string groupId, List<(string Name, List<int> Partitions)>? requested, CancellationToken cancellationToken)
    {
        var group = ExistingOrDead(groupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (requested is null)
            {
                return group.Offsets.GroupBy(o => o.Key.Topic, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)
                    .Select(g => (g.Key, g.OrderBy(o => o.Key.Partition).Select(o => (o.Key.Partition, (CommittedOffset?)o.Value)).ToList()))
                    .ToList();
            }
            return requested.Select(t => (t.Name, t.Partitions.Select(p => (p, group.Offsets.GetValueOrDefault((t.Name, p)))).ToList())).ToList();
        }
        finally
        {
            group.Lock.Release();
        }
    }

    /// <summary>The committed offsets of a group (a copy), for lag reporting.</summary>
    public async Task<IReadOnlyDictionary<(string Topic, int Partition), CommittedOffset>> GetCommittedOffsetsAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var group = ExistingOrDead(groupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new Dictionary<(string, int), CommittedOffset>(group.Offsets);
        }
        finally
        {
            group.Lock.Release();
        }
    }

    /// <summary>The group's current generation (0 for an unknown group).</summary>
    public async Task<int> GenerationOfAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var group = ExistingOrDead(groupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return group.Generation;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    public async Task<OffsetDeleteResponse> DeleteOffsetsAsync(OffsetDeleteRequest request, CancellationToken cancellationToken)
    {
        var response = new OffsetDeleteResponse();
        if (!_loaded)
        {
            response.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
            return response;
        }
        var group = ExistingOrDead(request.GroupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (group.State == GroupState.Dead)
            {
                response.ErrorCode = (short)ErrorCode.GroupIdNotFound;
                return response;
            }
            if (group.State != GroupState.Empty && group.ProtocolType != "consumer")
            {
                response.ErrorCode = (short)ErrorCode.NonEmptyGroup;
                return response;
            }
            var records = new List<GroupRecord>();
            foreach (var topic in request.Topics)
            {
                // Offsets of a topic the active members consume would be committed again at once.
                var subscribed = group.State != GroupState.Empty && group.IsSubscribedTo(topic.Name);
                var topicResponse = new OffsetDeleteResponse.OffsetDeleteResponseTopic { Name = topic.Name };
                response.Topics.Add(topicResponse);
                foreach (var p in topic.Partitions)
                {
                    topicResponse.Partitions.Add(new OffsetDeleteResponse.OffsetDeleteResponsePartition
                    {
                        PartitionIndex = p.PartitionIndex,
                        ErrorCode = (short)(subscribed ? ErrorCode.GroupSubscribedToTopic : ErrorCode.None),
                    });
                    if (!subscribed && group.Offsets.ContainsKey((topic.Name, p.PartitionIndex)))
                        records.Add(new GroupRecord.Offset(group.Id, topic.Name, p.PartitionIndex, null));
                }
            }
            await PersistAsync(group, records, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch (StorageException)
        {
            return new OffsetDeleteResponse { ErrorCode = (short)ErrorCode.CoordinatorNotAvailable };
        }
        finally
        {
            group.Lock.Release();
        }
    }

    // ---------------------------------------------------------------- admin

    public async Task<List<ListGroupsResponse.ListedGroup>> ListGroupsAsync(IReadOnlyCollection<string> states, IReadOnlyCollection<string> types, CancellationToken cancellationToken)
    {
        var result = new List<ListGroupsResponse.ListedGroup>();
        foreach (var group in _groups.Values.OrderBy(g => g.Id, StringComparer.Ordinal))
        {
            await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (group.State == GroupState.Dead) continue;
                if (states.Count > 0 && !states.Contains(group.StateName, StringComparer.OrdinalIgnoreCase)) continue;
                if (types.Count > 0 && !types.Contains(group.TypeName, StringComparer.OrdinalIgnoreCase)) continue;
                var protocolType = group.Consumer is null ? group.ProtocolType ?? "" : "consumer";
                result.Add(new ListGroupsResponse.ListedGroup { GroupId = group.Id, ProtocolType = protocolType, GroupState = group.StateName, GroupType = group.TypeName });
            }
            finally
            {
                group.Lock.Release();
            }
        }
        return result;
    }

    public async Task<DescribeGroupsResponse.DescribedGroup> DescribeGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var described = new DescribeGroupsResponse.DescribedGroup { GroupId = groupId, GroupState = nameof(GroupState.Dead) };
        if (!_loaded)
        {
            described.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
            return described;
        }
        if (!_groups.TryGetValue(groupId, out var group)) return described;
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Kafka describes only classic groups here; a consumer-protocol group is described by ConsumerGroupDescribe.
            if (group.State == GroupState.Dead || group.Consumer is not null) return described;
            described.GroupState = group.StateName;
            described.ProtocolType = group.ProtocolType ?? "";
            var stable = group.State == GroupState.Stable;
            described.ProtocolData = stable ? group.ProtocolName ?? "" : "";
            foreach (var m in group.Members.Values)
            {
                described.Members.Add(new DescribeGroupsResponse.DescribedGroupMember
                {
                    MemberId = m.MemberId,
                    GroupInstanceId = m.GroupInstanceId,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    MemberMetadata = stable ? m.MetadataFor(group.ProtocolName) : [],
                    MemberAssignment = stable ? m.Assignment : [],
                });
            }
            return described;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    public async Task<ErrorCode> DeleteGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        if (!_loaded) return ErrorCode.CoordinatorLoadInProgress;
        if (!_groups.TryGetValue(groupId, out var group)) return ErrorCode.GroupIdNotFound;
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (group.State == GroupState.Dead) return ErrorCode.GroupIdNotFound;
            if (group.State != GroupState.Empty) return ErrorCode.NonEmptyGroup;
            await PersistAsync(group, DeletionRecords(group), cancellationToken).ConfigureAwait(false);
            return ErrorCode.None;
        }
        catch (StorageException)
        {
            return ErrorCode.CoordinatorNotAvailable;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    private static List<GroupRecord> DeletionRecords(BrokerGroup group)
    {
        var records = new List<GroupRecord>();
        foreach (var (topic, partition) in group.Offsets.Keys) records.Add(new GroupRecord.Offset(group.Id, topic, partition, null));
        records.AddRange(GroupTombstones(group.Id));
        return records;
    }

    /// <summary>
    /// Deletes the group under both of its possible keys: a group that changed protocol while empty has a record of each
    /// kind, and compaction must not leave the older one to be replayed once the newer one's tombstone is gone.
    /// </summary>
    private static IEnumerable<GroupRecord> GroupTombstones(string groupId) =>
        [new GroupRecord.Metadata(groupId, null), new GroupRecord.Consumer(groupId, null)];

    // ---------------------------------------------------------------- time

    /// <summary>
    /// Fires every timeout that has passed on the clock: expired sessions and pending member ids, rebalances whose
    /// timeout ran out, leaders that never sent their assignment, partition count changes of subscribed topics, and the
    /// retention of offsets of empty groups.
    /// </summary>
    public async Task CheckDeadlinesAsync(CancellationToken cancellationToken = default)
    {
        if (!_loaded) return;
        foreach (var group in _groups.Values)
        {
            await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await CheckGroupAsync(group, cancellationToken).ConfigureAwait(false);
            }
            catch (StorageException)
            {
                // Retried on the next check.
            }
            finally
            {
                group.Lock.Release();
            }
        }
    }

    private async Task CheckGroupAsync(BrokerGroup group, CancellationToken cancellationToken)
    {
        if (group.State == GroupState.Dead) return;
        var now = Now;
        if (group.Consumer is { Members.Count: > 0 })
        {
            await CheckConsumerGroupAsync(group, cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (var (id, deadline) in group.PendingMembers.ToList())
            if (now >= deadline) group.PendingMembers.Remove(id);

        var expired = group.Members.Values.Where(m => m.JoinWaiter is null && m.SyncWaiter is null && now >= m.SessionDeadline).ToList();
        foreach (var m in expired) RemoveMember(group, m, ErrorCode.UnknownMemberId);
        if (expired.Count > 0) await OnMembersRemovedAsync(group, cancellationToken).ConfigureAwait(false);

        switch (group.State)
        {
            case GroupState.PreparingRebalance when now >= group.RebalanceDeadline:
                await CompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
                break;
            case GroupState.PreparingRebalance:
                await TryCompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
                break;
            case GroupState.CompletingRebalance when now >= group.SyncDeadline:
                // The leader never sent the assignment: members that did not sync are dropped and the group rebalances.
                foreach (var m in group.Members.Values.Where(m => m.SyncWaiter is null).ToList()) RemoveMember(group, m, ErrorCode.UnknownMemberId);
                PrepareRebalance(group);
                await TryCompleteJoinAsync(group, cancellationToken).ConfigureAwait(false);
                break;
            case GroupState.Stable:
                var current = SubscribedPartitionCounts(group);
                if (group.SubscribedPartitionCounts is null) group.SubscribedPartitionCounts = current;
                else if (current is not null && !current.OrderBy(c => c.Key).SequenceEqual(group.SubscribedPartitionCounts.OrderBy(c => c.Key)))
                    PrepareRebalance(group);
                break;
            case GroupState.Empty:
                await ExpireOffsetsAsync(group, now.ToUnixTimeMilliseconds(), cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>
    /// offsets.retention.minutes: an empty group's offsets are dropped once the retention has passed since the group became
    /// empty (or since the commit, if later); a group left with no offsets is deleted.
    /// </summary>
    private async Task ExpireOffsetsAsync(BrokerGroup group, long nowMs, CancellationToken cancellationToken)
    {
        var records = new List<GroupRecord>();
        foreach (var ((topic, partition), offset) in group.Offsets)
            if (Math.Max(group.StateTimestamp, offset.CommitTimestamp) + _offsetsRetentionMs <= nowMs)
                records.Add(new GroupRecord.Offset(group.Id, topic, partition, null));
        if (records.Count == group.Offsets.Count && group.PendingMembers.Count == 0)
        {
            if (records.Count == 0 && nowMs - group.StateTimestamp < _offsetsRetentionMs) return;
            records.AddRange(GroupTombstones(group.Id));
        }
        await PersistAsync(group, records, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes tombstones for every group's committed offsets of <paramref name="topic"/>, which was just deleted.</summary>
    public async Task RemoveOffsetsOfDeletedTopicAsync(string topic, CancellationToken cancellationToken)
    {
        if (!_loaded) return;
        foreach (var group in _groups.Values)
        {
            await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var records = group.Offsets.Keys.Where(k => k.Topic == topic)
                    .Select(k => (GroupRecord)new GroupRecord.Offset(group.Id, k.Topic, k.Partition, null)).ToList();
                await PersistAsync(group, records, cancellationToken).ConfigureAwait(false);
            }
            catch (StorageException)
            {
                // The offsets stay until the group's own retention drops them; the topic is gone either way.
            }
            finally
            {
                group.Lock.Release();
            }
        }
    }

    /// <summary>Fails every waiting request (shutdown).</summary>
    public void FailAllWaiters()
    {
        foreach (var group in _groups.Values)
            foreach (var m in group.Members.Values.ToList())
                m.FailWaiters(ErrorCode.CoordinatorNotAvailable);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group} rebalanced: generation {Generation} with {MemberCount} members, leader {Leader}, protocol {Protocol}; members: {Members}")]
    private partial void LogRebalanced(string group, int generation, int memberCount, string leader, string protocol, string members);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group} is empty: generation {Generation} without members")]
    private partial void LogEmptied(string group, int generation);
}
