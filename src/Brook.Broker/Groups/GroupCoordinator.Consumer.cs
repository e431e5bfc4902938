using Brook.Protocol;
using Brook.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Groups;

/// <summary>
/// The consumer rebalance protocol (KIP-848): members heartbeat with their epoch, subscription and owned partitions; the
/// coordinator computes the target assignment itself and moves each member toward it, revoking before assigning so a
/// partition never has two owners. Every change of the group is stored as one <see cref="GroupRecord.Consumer"/> record.
/// </summary>
public sealed partial class GroupCoordinator
{
    private const int LeaveEpoch = -1;
    private const int StaticLeaveEpoch = ConsumerMember.StaticLeaveEpoch;
    private const int DefaultConsumerRebalanceTimeoutMs = 300_000;

    public async Task<ConsumerGroupHeartbeatResponse> ConsumerGroupHeartbeatAsync(ConsumerGroupHeartbeatRequest request, ClientInfo client, CancellationToken cancellationToken)
    {
        if (!_loaded) return HeartbeatError(ErrorCode.CoordinatorLoadInProgress, null);
        if (string.IsNullOrEmpty(request.GroupId)) return HeartbeatError(ErrorCode.InvalidGroupId, "The group id is empty.");
        if (request.ServerAssignor is { } assignor && !ServerAssignors.IsKnown(assignor))
            return HeartbeatError(ErrorCode.UnsupportedAssignor, $"Assignor '{assignor}' is not supported; use 'uniform' or 'range'.");
        if (request.MemberEpoch == 0 && request.SubscribedTopicNames is null && request.SubscribedTopicRegex is null)
            return HeartbeatError(ErrorCode.InvalidRequest, "A joining member must send its subscribed topic names or regular expression.");
        if (request.MemberEpoch == StaticLeaveEpoch && request.InstanceId is null)
            return HeartbeatError(ErrorCode.InvalidRequest, "Only a static member (with an instance id) can leave with epoch -2.");
        if (request.MemberEpoch is < StaticLeaveEpoch)
            return HeartbeatError(ErrorCode.InvalidRequest, $"Member epoch {request.MemberEpoch} is not valid.");
        if (request.SubscribedTopicRegex is { Length: > 0 } pattern && !TopicRegex.IsValid(pattern))
            return HeartbeatError(ErrorCode.InvalidRegularExpression, $"SubscribedTopicRegex '{pattern}' is not a valid regular expression.");

        var group = GroupFor(request.GroupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (group.Members.Count > 0) return HeartbeatError(ErrorCode.GroupIdNotFound, $"Group '{group.Id}' is a classic group.");
            var current = group.State == GroupState.Dead ? null : group.Consumer;
            var next = current?.Clone() ?? new ConsumerGroupModel();
            var (error, memberId) = ConsumerHeartbeat(next, request, client);
            if (error != ErrorCode.None) return HeartbeatError(error, error == ErrorCode.UnreleasedInstanceId
                ? $"Instance id '{request.InstanceId}' is still held by a member that has not left the group."
                : null);
            if (current is null || !next.Encode().AsSpan().SequenceEqual(current.Encode()))
                await PersistAsync(group, [new GroupRecord.Consumer(group.Id, next)], cancellationToken).ConfigureAwait(false);

            var response = new ConsumerGroupHeartbeatResponse { MemberId = memberId, HeartbeatIntervalMs = _consumerHeartbeatIntervalMs };
            if (request.MemberEpoch is LeaveEpoch or StaticLeaveEpoch)
            {
                response.MemberEpoch = request.MemberEpoch;
                // A static member that left keeps its session: when it runs out, the member is removed for good.
                if (request.MemberEpoch == LeaveEpoch) group.ConsumerSessions.Remove(memberId);
                group.ConsumerLastSent.Remove(memberId);
                return response;
            }
            var member = group.Consumer!.Members[memberId];
            group.ConsumerSessions[memberId] = Now.AddMilliseconds(_consumerSessionTimeoutMs);
            response.MemberEpoch = member.MemberEpoch;
            var sent = member.MemberEpoch + "|" + member.Assigned.Key;
            if (request.MemberEpoch == 0 || group.ConsumerLastSent.GetValueOrDefault(memberId) != sent)
            {
                response.Assignment = new ConsumerGroupHeartbeatResponse.AssignmentData { TopicPartitions = ToTopicIds(member.Assigned) };
                group.ConsumerLastSent[memberId] = sent;
            }
            return response;
        }
        catch (Storage.StorageException ex)
        {
            return HeartbeatError(ErrorCode.CoordinatorNotAvailable, ex.Message);
        }
        finally
        {
            group.Lock.Release();
        }
    }

    private static ConsumerGroupHeartbeatResponse HeartbeatError(ErrorCode error, string? message) =>
        new() { ErrorCode = (short)error, ErrorMessage = message ?? ErrorCodes.Message(error), MemberEpoch = -1 };

    private List<ConsumerGroupHeartbeatResponse.TopicPartitions> ToTopicIds(TopicPartitionSet set)
    {
        var result = new List<ConsumerGroupHeartbeatResponse.TopicPartitions>();
        foreach (var (topic, partitions) in set.Topics)
            if (_store.GetTopic(topic) is { } metadata)
                result.Add(new ConsumerGroupHeartbeatResponse.TopicPartitions { TopicId = metadata.TopicId, Partitions = [.. partitions] });
        return result;
    }

    /// <summary>Applies one heartbeat to <paramref name="next"/> (a copy of the group): membership, subscription, target, reconciliation.</summary>
    private (ErrorCode Error, string MemberId) ConsumerHeartbeat(ConsumerGroupModel next, ConsumerGroupHeartbeatRequest request, ClientInfo client)
    {
        TopicPartitionSet? owned = null;
        if (request.TopicPartitions is { } reported)
        {
            owned = new TopicPartitionSet();
            foreach (var tp in reported)
                if (_store.GetTopic(tp.TopicId) is { } topic)
                    foreach (var p in tp.Partitions) owned.Add(topic.Name, p);
        }

        ConsumerMember? member;
        var isNewMember = false;
        if (request.MemberEpoch == 0)
        {
            var id = string.IsNullOrEmpty(request.MemberId) ? Guid.NewGuid().ToString("N") : request.MemberId;
            var replaced = request.InstanceId is { } instance ? next.Members.Values.FirstOrDefault(m => m.InstanceId == instance && m.MemberId != id) : null;
            // As in Kafka, a static member is replaced only once it has left with epoch -2; until then its id is in use.
            if (replaced is { HasLeftTemporarily: false }) return (ErrorCode.UnreleasedInstanceId, id);
            next.Members.Remove(id);
            member = new ConsumerMember
            {
                MemberId = id,
                InstanceId = request.InstanceId,
                RackId = request.RackId,
                ClientId = client.ClientId,
                ClientHost = client.ClientHost,
                RebalanceTimeoutMs = request.RebalanceTimeoutMs > 0 ? request.RebalanceTimeoutMs : DefaultConsumerRebalanceTimeoutMs,
            };
            if (replaced is not null)
            {
                // The returning static member takes over its predecessor's subscription and partitions, so that nothing
                // moves unless its subscription changed (compared below like any member's).
                next.Members.Remove(replaced.MemberId);
                member.SubscribedTopics = replaced.SubscribedTopics;
                member.SubscribedRegex = replaced.SubscribedRegex;
                member.Assigned = replaced.Assigned;
                member.Target = replaced.Target;
                member.PreviousMemberEpoch = 0;
            }
            isNewMember = replaced is null;
            next.Members[id] = member;
        }
        else
        {
            if (!next.Members.TryGetValue(request.MemberId, out member)) return (ErrorCode.UnknownMemberId, request.MemberId);
            if (request.InstanceId is not null && member.InstanceId != request.InstanceId) return (ErrorCode.FencedInstanceId, member.MemberId);
            if (request.MemberEpoch == LeaveEpoch)
            {
                next.Members.Remove(member.MemberId);
                next.GroupEpoch++;
                if (next.Members.Count == 0) next.EmptySinceMs = NowMs;
                UpdateTargets(request.GroupId, next);
                return (ErrorCode.None, member.MemberId);
            }
            if (request.MemberEpoch == StaticLeaveEpoch)
            {
                // KIP-848 static leave: the member stays, holding its partitions, until it returns or its session expires.
                member.MemberEpoch = StaticLeaveEpoch;
                member.Revoking = new TopicPartitionSet();
                return (ErrorCode.None, member.MemberId);
            }
            // A member that missed the response carrying its new epoch may still use the previous one.
            var lostResponse = request.MemberEpoch == member.PreviousMemberEpoch && (owned is null || owned.All.All(tp => member.Assigned.Contains(tp.Topic, tp.Partition)));
            if (request.MemberEpoch != member.MemberEpoch && !lostResponse) return (ErrorCode.FencedMemberEpoch, member.MemberId);
            if (request.RebalanceTimeoutMs > 0) member.RebalanceTimeoutMs = request.RebalanceTimeoutMs;
        }
        member.CanDescribeTopic = client.CanDescribeTopic;
        member.HeardSinceLoad = true;
        var subscriptionChanged = false;
        if (request.SubscribedTopicNames is { } names)
        {
            var subscribed = names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            subscriptionChanged = !subscribed.SequenceEqual(member.SubscribedTopics);
            member.SubscribedTopics = subscribed;
        }
        if (request.SubscribedTopicRegex is { } pattern)
        {
            // An empty expression clears the member's regular-expression subscription.
            var regex = pattern.Length == 0 ? null : pattern;
            subscriptionChanged |= regex != member.SubscribedRegex;
            member.SubscribedRegex = regex;
        }
        // A new member changes the group whatever it subscribes to; a returning static member only if its subscription changed.
        if (subscriptionChanged || isNewMember) next.GroupEpoch++;
        if (request.ServerAssignor is { } assignor && assignor != next.Assignor)
        {
            next.Assignor = assignor;
            next.GroupEpoch++;
        }
        UpdateTargets(request.GroupId, next);
        Reconcile(next, member, owned);
        return (ErrorCode.None, member.MemberId);
    }

    /// <summary>
    /// Resolves the members' regular expressions against the topics that exist now, bumps the group epoch when the
    /// subscribed topics or their sizes changed, and recomputes targets when the group epoch moved on. Runs on every
    /// heartbeat and periodic check, so topics created or deleted are picked up within one check interval.
    /// </summary>
    private void UpdateTargets(string groupId, ConsumerGroupModel group)
    {
        var resolved = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        var patterns = group.Members.Values.Select(m => m.SubscribedRegex).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        if (patterns.Count > 0)
        {
            var names = _store.ListTopics().Select(t => t.Name).ToList();
            foreach (var pattern in patterns)
            {
                var users = group.Members.Values.Where(m => m.SubscribedRegex == pattern && m.HeardSinceLoad).ToList();
                if (users.Count == 0 && group.ResolvedRegexes.TryGetValue(pattern, out var stored))
                {
                    // Loaded from the log and not yet heard from: whose permissions apply is unknown until a heartbeat.
                    resolved[pattern] = stored;
                    continue;
                }
                var matching = TopicRegex.Resolve(pattern, names);
                // With an authorizer, a topic counts if some member using the expression may describe it.
                var checks = users.Select(m => m.CanDescribeTopic).OfType<Func<string, bool>>().ToList();
                resolved[pattern] = checks.Count == 0 ? matching : matching.Where(t => checks.Any(check => check(t))).ToList();
            }
        }
        var regexesChanged = resolved.Count != group.ResolvedRegexes.Count
            || resolved.Any(r => !group.ResolvedRegexes.TryGetValue(r.Key, out var before) || !before.SequenceEqual(r.Value));
        if (regexesChanged) group.ResolvedRegexes = resolved;

        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var topic in group.SubscribedTopicNames())
            if (_store.GetTopic(topic) is { } metadata) counts[topic] = metadata.PartitionCount;
        if (regexesChanged || !counts.SequenceEqual(group.PartitionCounts)) group.GroupEpoch++;
        if (group.AssignmentEpoch == group.GroupEpoch) return;
        ServerAssignors.Assign(group, counts);
        group.AssignmentEpoch = group.GroupEpoch;
        group.PartitionCounts = counts;
        LogConsumerRebalanced(groupId, group.GroupEpoch, group.Members.Count, group.Assignor, string.Join(", ", group.Members.Keys));
    }

    /// <summary>
    /// Moves a member toward its target: partitions it must give up are revoked first (its epoch stays); once it has
    /// released them it advances to the assignment epoch and gets the target partitions no other member still holds.
    /// </summary>
    private void Reconcile(ConsumerGroupModel group, ConsumerMember member, TopicPartitionSet? owned)
    {
        // Partitions of deleted topics are gone for everyone: nothing to revoke.
        foreach (var (topic, partition) in member.Assigned.All.Concat(member.Revoking.All).ToList())
        {
            if (_store.GetTopic(topic) is { } metadata && partition < metadata.PartitionCount) continue;
            member.Assigned.Remove(topic, partition);
            member.Revoking.Remove(topic, partition);
        }
        if (owned is not null)
            foreach (var (topic, partition) in member.Revoking.All.ToList())
                if (!owned.Contains(topic, partition)) member.Revoking.Remove(topic, partition);
        foreach (var (topic, partition) in member.Assigned.All.ToList())
        {
            if (member.Target.Contains(topic, partition)) continue;
            member.Assigned.Remove(topic, partition);
            member.Revoking.Add(topic, partition);
        }
        if (!member.Revoking.IsEmpty) return;
        if (member.MemberEpoch != group.AssignmentEpoch)
        {
            member.PreviousMemberEpoch = member.MemberEpoch;
            member.MemberEpoch = group.AssignmentEpoch;
        }
        foreach (var (topic, partition) in member.Target.All)
        {
            if (member.Assigned.Contains(topic, partition)) continue;
            var heldElsewhere = group.Members.Values.Any(m => m != member && (m.Assigned.Contains(topic, partition) || m.Revoking.Contains(topic, partition)));
            if (!heldElsewhere) member.Assigned.Add(topic, partition);
        }
    }

    private void ApplyConsumerGroup(BrokerGroup group, ConsumerGroupModel model)
    {
        group.Consumer = model.Clone();
        group.ProtocolType = "consumer";
        group.State = model.Members.Count == 0 ? GroupState.Empty : GroupState.Stable;
        if (model.Members.Count == 0) group.StateTimestamp = model.EmptySinceMs;
        foreach (var id in group.ConsumerSessions.Keys.Where(id => !model.Members.ContainsKey(id)).ToList())
        {
            group.ConsumerSessions.Remove(id);
            group.ConsumerLastSent.Remove(id);
        }
        foreach (var (id, member) in model.Members)
        {
            if (!group.ConsumerSessions.ContainsKey(id)) group.ConsumerSessions[id] = Now.AddMilliseconds(_consumerSessionTimeoutMs);
            if (member.Revoking.IsEmpty) group.ConsumerRevokingSince.Remove(id);
            else group.ConsumerRevokingSince.TryAdd(id, Now);
        }
        foreach (var id in group.ConsumerRevokingSince.Keys.Where(id => !model.Members.ContainsKey(id)).ToList()) group.ConsumerRevokingSince.Remove(id);
    }

    /// <summary>Session expiry and partition count changes of a consumer-protocol group. Caller holds the lock.</summary>
    private async Task CheckConsumerGroupAsync(BrokerGroup group, CancellationToken cancellationToken)
    {
        var now = Now;
        var current = group.Consumer!;
        var next = current.Clone();
        foreach (var (id, deadline) in group.ConsumerSessions)
        {
            if (now < deadline || !next.Members.Remove(id)) continue;
            next.GroupEpoch++;
        }
        // A member that keeps partitions it was asked to release blocks their new owners: past its rebalance timeout it is fenced.
        foreach (var (id, since) in group.ConsumerRevokingSince)
        {
            if (!next.Members.TryGetValue(id, out var member) || now < since.AddMilliseconds(Math.Max(member.RebalanceTimeoutMs, 0))) continue;
            next.Members.Remove(id);
            next.GroupEpoch++;
        }
        if (next.Members.Count == 0 && current.Members.Count > 0) next.EmptySinceMs = now.ToUnixTimeMilliseconds();
        UpdateTargets(group.Id, next);
        if (!next.Encode().AsSpan().SequenceEqual(current.Encode()))
            await PersistAsync(group, [new GroupRecord.Consumer(group.Id, next)], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// OffsetFetch v9+: a member of a consumer-protocol group must name itself with its current epoch (Kafka's checks);
    /// a request without member id and with a negative epoch (admin tools) is always accepted, and classic groups are not checked.
    /// </summary>
    private async Task<ErrorCode> CheckOffsetFetchMemberAsync(string groupId, string? memberId, int memberEpoch, CancellationToken cancellationToken)
    {
        if (memberId is null && memberEpoch < 0) return ErrorCode.None;
        var group = ExistingOrDead(groupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (group.State == GroupState.Dead || group.Consumer is not { } consumer) return ErrorCode.None;
            if (memberId is null || !consumer.Members.TryGetValue(memberId, out var member)) return ErrorCode.UnknownMemberId;
            return member.MemberEpoch == memberEpoch ? ErrorCode.None : ErrorCode.StaleMemberEpoch;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    private ErrorCode CheckConsumerCommit(BrokerGroup group, ConsumerGroupModel consumer, string memberId, int epoch, short version)
    {
        if (!consumer.Members.TryGetValue(memberId, out var member)) return ErrorCode.UnknownMemberId;
        if (epoch != member.MemberEpoch) return version >= 9 ? ErrorCode.StaleMemberEpoch : ErrorCode.IllegalGeneration;
        group.ConsumerSessions[memberId] = Now.AddMilliseconds(_consumerSessionTimeoutMs);
        return ErrorCode.None;
    }

    public async Task<ConsumerGroupDescribeResponse.DescribedGroup> DescribeConsumerGroupAsync(string groupId, CancellationToken cancellationToken)
    {
        var described = new ConsumerGroupDescribeResponse.DescribedGroup { GroupId = groupId, GroupState = "Dead" };
        if (!_loaded)
        {
            described.ErrorCode = (short)ErrorCode.CoordinatorLoadInProgress;
            return described;
        }
        var group = ExistingOrDead(groupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (group.State == GroupState.Dead || group.Consumer is not { } model)
            {
                described.ErrorCode = (short)ErrorCode.GroupIdNotFound;
                described.ErrorMessage = $"Group '{groupId}' is not a consumer-protocol group.";
                return described;
            }
            described.GroupState = model.StateName;
            described.GroupEpoch = model.GroupEpoch;
            described.AssignmentEpoch = model.AssignmentEpoch;
            described.AssignorName = model.Assignor;
            foreach (var m in model.Members.Values)
            {
                described.Members.Add(new ConsumerGroupDescribeResponse.Member
                {
                    MemberId = m.MemberId,
                    InstanceId = m.InstanceId,
                    RackId = m.RackId,
                    MemberEpoch = m.MemberEpoch,
                    ClientId = m.ClientId,
                    ClientHost = m.ClientHost,
                    SubscribedTopicNames = [.. m.SubscribedTopics],
                    SubscribedTopicRegex = m.SubscribedRegex,
                    Assignment = DescribeAssignment(m.Assigned),
                    TargetAssignment = DescribeAssignment(m.Target),
                });
            }
            return described;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    private ConsumerGroupDescribeResponse.Assignment DescribeAssignment(TopicPartitionSet set)
    {
        var assignment = new ConsumerGroupDescribeResponse.Assignment();
        foreach (var (topic, partitions) in set.Topics)
        {
            assignment.TopicPartitions.Add(new ConsumerGroupDescribeResponse.TopicPartitions
            {
                TopicId = _store.GetTopic(topic)?.TopicId ?? KafkaUuid.Zero,
                TopicName = topic,
                Partitions = [.. partitions],
            });
        }
        return assignment;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group} (consumer protocol) has a new target assignment: group epoch {Epoch} with {MemberCount} members, assignor {Assignor}; members: {Members}")]
    private partial void LogConsumerRebalanced(string group, int epoch, int memberCount, string assignor, string members);
}
