using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Groups;

/// <summary>States of a classic group, named as DescribeGroups and ListGroups report them.</summary>
public enum GroupState
{
    /// <summary>No group by this id: never created, or deleted.</summary>
    Dead,
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
}

/// <summary>One member of a classic group. Mutated only under its group's lock.</summary>
internal sealed class GroupMember
{
    public GroupMember(string memberId, string? groupInstanceId)
    {
        MemberId = memberId;
        GroupInstanceId = groupInstanceId;
    }

    /// <summary>Changes when a static member rejoins with an unknown member id (it gets a new one).</summary>
    public string MemberId { get; set; }

    public string? GroupInstanceId { get; }

    public string ClientId { get; set; } = "";

    public string ClientHost { get; set; } = "";

    public int SessionTimeoutMs { get; set; }

    public int RebalanceTimeoutMs { get; set; }

    /// <summary>Protocols the member supports, in its order of preference, with their metadata.</summary>
    public List<(string Name, byte[] Metadata)> Protocols { get; set; } = [];

    public byte[] Assignment { get; set; } = [];

    /// <summary>Set while the member waits for the join phase to complete.</summary>
    public TaskCompletionSource<JoinGroupResponse>? JoinWaiter { get; set; }

    /// <summary>The JoinGroup version of the waiting request (shapes the response).</summary>
    public short JoinVersion { get; set; }

    /// <summary>Set while the member waits for the leader's assignment.</summary>
    public TaskCompletionSource<SyncGroupResponse>? SyncWaiter { get; set; }

    /// <summary>The member is removed when this passes without a heartbeat (unless it waits for a join or sync).</summary>
    public DateTimeOffset SessionDeadline { get; set; }

    public byte[] MetadataFor(string? protocol) =>
        Protocols.FirstOrDefault(p => p.Name == protocol).Metadata ?? [];

    public bool SameProtocols(List<(string Name, byte[] Metadata)> other) =>
        Protocols.Count == other.Count && Protocols.Zip(other).All(p => p.First.Name == p.Second.Name && p.First.Metadata.AsSpan().SequenceEqual(p.Second.Metadata));

    public void FailWaiters(ErrorCode error)
    {
        JoinWaiter?.TrySetResult(new JoinGroupResponse { ErrorCode = (short)error, MemberId = MemberId, ProtocolName = JoinVersion >= 7 ? null : "" });
        JoinWaiter = null;
        SyncWaiter?.TrySetResult(new SyncGroupResponse { ErrorCode = (short)error });
        SyncWaiter = null;
    }
}

/// <summary>
/// A group's state: membership and generation (classic protocol) and committed offsets.
/// Thread-safety: every member is read and written only while holding <see cref="Lock"/>, an async lock so that a
/// holder may await the append of its records; nothing blocks a thread.
/// </summary>
internal sealed class BrokerGroup
{
    public BrokerGroup(string id)
    {
        Id = id;
    }

    public string Id { get; }

    public SemaphoreSlim Lock { get; } = new(1, 1);

    public GroupState State { get; set; } = GroupState.Dead;

    /// <summary>"consumer" for Kafka consumers; null for a group that only stores offsets (standalone consumers, admin).</summary>
    public string? ProtocolType { get; set; }

    public string? ProtocolName { get; set; }

    public int Generation { get; set; }

    public string? Leader { get; set; }

    /// <summary>When the group last changed state in a way that was stored (epoch milliseconds); offsets of an empty group expire relative to it.</summary>
    public long StateTimestamp { get; set; }

    /// <summary>Members in join order.</summary>
    public Dictionary<string, GroupMember> Members { get; } = new(StringComparer.Ordinal);

    /// <summary>group.instance.id to the member id currently holding it.</summary>
    public Dictionary<string, string> StaticMembers { get; } = new(StringComparer.Ordinal);

    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED, waiting for the member's second JoinGroup, with their expiry.</summary>
    public Dictionary<string, DateTimeOffset> PendingMembers { get; } = new(StringComparer.Ordinal);

    public Dictionary<(string Topic, int Partition), CommittedOffset> Offsets { get; } = [];

    /// <summary>When a PreparingRebalance gives up on members that have not rejoined.</summary>
    public DateTimeOffset RebalanceDeadline { get; set; }

    /// <summary>A first rebalance of an empty group waits until this passes so that more members can join at once.</summary>
    public DateTimeOffset InitialDelayDeadline { get; set; }

    /// <summary>When a CompletingRebalance gives up on the leader's SyncGroup.</summary>
    public DateTimeOffset SyncDeadline { get; set; }

    /// <summary>Partition counts of the subscribed topics when the generation formed; a change triggers a rebalance.</summary>
    public Dictionary<string, int>? SubscribedPartitionCounts { get; set; }

    /// <summary>Set when the group uses the consumer rebalance protocol (KIP-848) instead of the classic one.</summary>
    public ConsumerGroupModel? Consumer { get; set; }

    /// <summary>Session deadlines of consumer-protocol members (not stored: a restart gives every member a fresh session).</summary>
    public Dictionary<string, DateTimeOffset> ConsumerSessions { get; } = new(StringComparer.Ordinal);

    /// <summary>The epoch and assignment last sent to each consumer-protocol member; a change is sent on its next heartbeat.</summary>
    public Dictionary<string, string> ConsumerLastSent { get; } = new(StringComparer.Ordinal);

    /// <summary>Since when each consumer-protocol member has been asked to release partitions; past its rebalance timeout it is fenced.</summary>
    public Dictionary<string, DateTimeOffset> ConsumerRevokingSince { get; } = new(StringComparer.Ordinal);

    public string StateName => State == GroupState.Dead ? "Dead" : Consumer?.StateName ?? State.ToString();

    public string TypeName => Consumer is null ? "classic" : "consumer";

    /// <summary>The protocols every member supports (the candidates for selection).</summary>
    public HashSet<string> CandidateProtocols()
    {
        HashSet<string>? result = null;
        foreach (var m in Members.Values)
        {
            var names = m.Protocols.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            if (result is null) result = names;
            else result.IntersectWith(names);
        }
        return result ?? [];
    }

    /// <summary>Each member votes for its most preferred candidate; the protocol with most votes wins.</summary>
    public string? SelectProtocol()
    {
        var candidates = CandidateProtocols();
        if (candidates.Count == 0) return null;
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var m in Members.Values)
        {
            var choice = m.Protocols.First(p => candidates.Contains(p.Name)).Name;
            votes[choice] = votes.GetValueOrDefault(choice) + 1;
        }
        var first = Members.Values.First().Protocols.Select(p => p.Name).Where(candidates.Contains).ToList();
        return votes.OrderByDescending(v => v.Value).ThenBy(v => first.IndexOf(v.Key)).First().Key;
    }

    public bool IsSubscribedTo(string topic) =>
        (Consumer is { } consumer && consumer.Members.Values.Any(m => consumer.IsSubscribed(m, topic)))
        || (ProtocolType == "consumer" && Members.Values.Any(m => ConsumerProtocol.SubscribedTopics(m.MetadataFor(ProtocolName)).Contains(topic)));

    public void ResetToDead()
    {
        foreach (var m in Members.Values) m.FailWaiters(ErrorCode.UnknownMemberId);
        Members.Clear();
        StaticMembers.Clear();
        PendingMembers.Clear();
        Offsets.Clear();
        State = GroupState.Dead;
        ProtocolType = null;
        ProtocolName = null;
        Leader = null;
        Generation = 0;
        SubscribedPartitionCounts = null;
        Consumer = null;
        ConsumerSessions.Clear();
        ConsumerLastSent.Clear();
        ConsumerRevokingSince.Clear();
    }
}

/// <summary>Reads the consumer protocol's subscription and assignment (int16 version, then the struct at that version).</summary>
internal static class ConsumerProtocol
{
    public static List<string> SubscribedTopics(byte[] metadata)
    {
        if (metadata.Length < 2) return [];
        try
        {
            var reader = new ProtocolReader(metadata);
            var version = reader.ReadInt16();
            var subscription = new ConsumerProtocolSubscription();
            subscription.Read(ref reader, Math.Min(version, ConsumerProtocolSubscription.HighestSupportedVersion));
            return subscription.Topics;
        }
        catch (ProtocolException)
        {
            return [];
        }
    }

    public static byte[] WriteAssignment(IEnumerable<(string Topic, IEnumerable<int> Partitions)> partitions)
    {
        var assignment = new ConsumerProtocolAssignment();
        foreach (var (topic, list) in partitions)
            assignment.AssignedPartitions.Add(new ConsumerProtocolAssignment.TopicPartition { Topic = topic, Partitions = [.. list] });
        using var writer = new ProtocolWriter();
        writer.WriteInt16(0);
        assignment.Write(writer, 0);
        return writer.WrittenSpan.ToArray();
    }
}
