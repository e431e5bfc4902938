using Brook.Protocol;

namespace Brook.Broker.Groups;

/// <summary>Partitions by topic name; partitions kept sorted.</summary>
internal sealed class TopicPartitionSet
{
    private readonly SortedDictionary<string, SortedSet<int>> _topics = new(StringComparer.Ordinal);

    public IEnumerable<(string Topic, IReadOnlyCollection<int> Partitions)> Topics => _topics.Where(t => t.Value.Count > 0).Select(t => (t.Key, (IReadOnlyCollection<int>)t.Value));

    public IEnumerable<(string Topic, int Partition)> All => _topics.SelectMany(t => t.Value.Select(p => (t.Key, p)));

    public int Count => _topics.Values.Sum(p => p.Count);

    public bool IsEmpty => Count == 0;

    public void Add(string topic, int partition)
    {
        if (!_topics.TryGetValue(topic, out var set)) _topics[topic] = set = [];
        set.Add(partition);
    }

    public bool Remove(string topic, int partition) => _topics.TryGetValue(topic, out var set) && set.Remove(partition);

    public bool Contains(string topic, int partition) => _topics.TryGetValue(topic, out var set) && set.Contains(partition);

    public TopicPartitionSet Clone()
    {
        var copy = new TopicPartitionSet();
        foreach (var (t, p) in All) copy.Add(t, p);
        return copy;
    }

    /// <summary>A canonical text form, for comparing sets.</summary>
    public string Key => string.Join(";", Topics.Select(t => t.Topic + ":" + string.Join(",", t.Partitions)));

    public void Write(ProtocolWriter w)
    {
        var topics = Topics.ToList();
        w.WriteInt32(topics.Count);
        foreach (var (topic, partitions) in topics)
        {
            w.WriteString(topic, false, false);
            w.WriteInt32(partitions.Count);
            foreach (var p in partitions) w.WriteInt32(p);
        }
    }

    public static TopicPartitionSet Read(ref ProtocolReader r)
    {
        var set = new TopicPartitionSet();
        var topics = r.ReadInt32();
        for (var i = 0; i < topics; i++)
        {
            var topic = r.ReadString(false, false)!;
            var count = r.ReadInt32();
            for (var j = 0; j < count; j++) set.Add(topic, r.ReadInt32());
        }
        return set;
    }
}

/// <summary>A member of a group using the consumer rebalance protocol (KIP-848).</summary>
internal sealed class ConsumerMember
{
    /// <summary>The epoch of a static member that left for a while (KIP-848): it keeps its partitions until its session expires.</summary>
    public const int StaticLeaveEpoch = -2;

    public required string MemberId { get; init; }
    public string? InstanceId { get; set; }
    public string? RackId { get; set; }
    public string ClientId { get; set; } = "";
    public string ClientHost { get; set; } = "";
    public int MemberEpoch { get; set; }
    public int PreviousMemberEpoch { get; set; } = -1;
    public int RebalanceTimeoutMs { get; set; }
    /// <summary>Topics subscribed by name.</summary>
    public List<string> SubscribedTopics { get; set; } = [];

    /// <summary>A regular expression whose matching topics the member subscribes to as well (null: none).</summary>
    public string? SubscribedRegex { get; set; }

    /// <summary>
    /// The member's DESCRIBE check on topics, from its latest heartbeat (null without an authorizer). Not persisted: after a
    /// restart a regular expression keeps its stored resolution until a member using it heartbeats again.
    /// </summary>
    public Func<string, bool>? CanDescribeTopic { get; set; }

    /// <summary>Whether <see cref="CanDescribeTopic"/> came from a heartbeat since the group was loaded.</summary>
    public bool HeardSinceLoad { get; set; }

    public bool HasLeftTemporarily => MemberEpoch == StaticLeaveEpoch;

    /// <summary>What the member was told it owns.</summary>
    public TopicPartitionSet Assigned { get; set; } = new();

    /// <summary>Where the assignor wants the member to end up.</summary>
    public TopicPartitionSet Target { get; set; } = new();

    /// <summary>Taken away from the member but not yet confirmed released; nobody else gets them until then.</summary>
    public TopicPartitionSet Revoking { get; set; } = new();

    public ConsumerMember Clone() => new()
    {
        MemberId = MemberId,
        InstanceId = InstanceId,
        RackId = RackId,
        ClientId = ClientId,
        ClientHost = ClientHost,
        MemberEpoch = MemberEpoch,
        PreviousMemberEpoch = PreviousMemberEpoch,
        RebalanceTimeoutMs = RebalanceTimeoutMs,
        SubscribedTopics = [.. SubscribedTopics],
        SubscribedRegex = SubscribedRegex,
        CanDescribeTopic = CanDescribeTopic,
        HeardSinceLoad = HeardSinceLoad,
        Assigned = Assigned.Clone(),
        Target = Target.Clone(),
        Revoking = Revoking.Clone(),
    };
}

/// <summary>
/// The durable state of a KIP-848 consumer group: the group epoch (bumped when membership, subscriptions or subscribed
/// topics change), the epoch of the target assignment, and every member with its epoch and assignments.
/// Stored whole as one record per change; an operation works on a clone and the clone is applied once stored.
/// Version 1 of the stored form adds regular-expression subscriptions and their resolved topics.
/// </summary>
internal sealed class ConsumerGroupModel
{
    private const short Version = 1;

    public int GroupEpoch { get; set; }
    public int AssignmentEpoch { get; set; }
    public string Assignor { get; set; } = ServerAssignors.Uniform;

    /// <summary>When the last member left (epoch milliseconds); offsets of an empty group expire relative to it.</summary>
    public long EmptySinceMs { get; set; }

    /// <summary>Partition counts of the subscribed topics when the target assignment was computed.</summary>
    public SortedDictionary<string, int> PartitionCounts { get; set; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, ConsumerMember> Members { get; } = new(StringComparer.Ordinal);

    /// <summary>Each subscribed regular expression with the topics it matched when last resolved (sorted).</summary>
    public SortedDictionary<string, List<string>> ResolvedRegexes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Kafka's consumer group states: Empty, Reconciling while members converge to the target, else Stable.</summary>
    public string StateName =>
        Members.Count == 0 ? "Empty"
        : Members.Values.Any(m => !m.HasLeftTemporarily && (m.MemberEpoch != AssignmentEpoch || !m.Revoking.IsEmpty || m.Assigned.Key != m.Target.Key)) ? "Reconciling"
        : "Stable";

    /// <summary>Whether the member subscribes to the topic, by name or through its resolved regular expression.</summary>
    public bool IsSubscribed(ConsumerMember member, string topic) =>
        member.SubscribedTopics.Contains(topic)
        || (member.SubscribedRegex is { } regex && ResolvedRegexes.TryGetValue(regex, out var topics) && topics.BinarySearch(topic, StringComparer.Ordinal) >= 0);

    /// <summary>Every topic some member subscribes to, by name or by regular expression.</summary>
    public IEnumerable<string> SubscribedTopicNames() =>
        Members.Values.SelectMany(m => m.SubscribedRegex is { } regex && ResolvedRegexes.TryGetValue(regex, out var topics) ? m.SubscribedTopics.Concat(topics) : m.SubscribedTopics)
            .Distinct(StringComparer.Ordinal);

    public ConsumerGroupModel Clone()
    {
        var copy = new ConsumerGroupModel
        {
            GroupEpoch = GroupEpoch,
            AssignmentEpoch = AssignmentEpoch,
            Assignor = Assignor,
            EmptySinceMs = EmptySinceMs,
            PartitionCounts = new SortedDictionary<string, int>(PartitionCounts, StringComparer.Ordinal),
        };
        foreach (var (id, m) in Members) copy.Members[id] = m.Clone();
        foreach (var (regex, topics) in ResolvedRegexes) copy.ResolvedRegexes[regex] = [.. topics];
        return copy;
    }

    public byte[] Encode()
    {
        using var w = new ProtocolWriter();
        w.WriteInt16(Version);
        w.WriteInt32(GroupEpoch);
        w.WriteInt32(AssignmentEpoch);
        w.WriteString(Assignor, false, false);
        w.WriteInt64(EmptySinceMs);
        w.WriteInt32(PartitionCounts.Count);
        foreach (var (topic, count) in PartitionCounts)
        {
            w.WriteString(topic, false, false);
            w.WriteInt32(count);
        }
        w.WriteInt32(Members.Count);
        foreach (var m in Members.Values)
        {
            w.WriteString(m.MemberId, false, false);
            w.WriteString(m.InstanceId, false, true);
            w.WriteString(m.RackId, false, true);
            w.WriteString(m.ClientId, false, false);
            w.WriteString(m.ClientHost, false, false);
            w.WriteInt32(m.MemberEpoch);
            w.WriteInt32(m.PreviousMemberEpoch);
            w.WriteInt32(m.RebalanceTimeoutMs);
            w.WriteInt32(m.SubscribedTopics.Count);
            foreach (var t in m.SubscribedTopics) w.WriteString(t, false, false);
            m.Assigned.Write(w);
            m.Target.Write(w);
            m.Revoking.Write(w);
            w.WriteString(m.SubscribedRegex, false, true);
        }
        w.WriteInt32(ResolvedRegexes.Count);
        foreach (var (regex, topics) in ResolvedRegexes)
        {
            w.WriteString(regex, false, false);
            w.WriteInt32(topics.Count);
            foreach (var t in topics) w.WriteString(t, false, false);
        }
        return w.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a stored model (version 0 or 1); null when written by a newer, unknown version.</summary>
    public static ConsumerGroupModel? Decode(ReadOnlyMemory<byte> bytes)
    {
        var r = new ProtocolReader(bytes);
        var version = r.ReadInt16();
        if (version is < 0 or > Version) return null;
        var model = new ConsumerGroupModel { GroupEpoch = r.ReadInt32(), AssignmentEpoch = r.ReadInt32(), Assignor = r.ReadString(false, false)!, EmptySinceMs = r.ReadInt64() };
        var counts = r.ReadInt32();
        for (var i = 0; i < counts; i++) model.PartitionCounts[r.ReadString(false, false)!] = r.ReadInt32();
        var members = r.ReadInt32();
        for (var i = 0; i < members; i++)
        {
            var m = new ConsumerMember
            {
                MemberId = r.ReadString(false, false)!,
                InstanceId = r.ReadString(false, true),
                RackId = r.ReadString(false, true),
                ClientId = r.ReadString(false, false)!,
                ClientHost = r.ReadString(false, false)!,
                MemberEpoch = r.ReadInt32(),
                PreviousMemberEpoch = r.ReadInt32(),
                RebalanceTimeoutMs = r.ReadInt32(),
            };
            var subscribed = r.ReadInt32();
            for (var j = 0; j < subscribed; j++) m.SubscribedTopics.Add(r.ReadString(false, false)!);
            m.Assigned = TopicPartitionSet.Read(ref r);
            m.Target = TopicPartitionSet.Read(ref r);
            m.Revoking = TopicPartitionSet.Read(ref r);
            if (version >= 1) m.SubscribedRegex = r.ReadString(false, true);
            model.Members[m.MemberId] = m;
        }
        if (version >= 1)
        {
            var regexes = r.ReadInt32();
            for (var i = 0; i < regexes; i++)
            {
                var regex = r.ReadString(false, false)!;
                var count = r.ReadInt32();
                var topics = new List<string>(count);
                for (var j = 0; j < count; j++) topics.Add(r.ReadString(false, false)!);
                model.ResolvedRegexes[regex] = topics;
            }
        }
        return model;
    }
}

/// <summary>Server-side assignors of the consumer protocol: "uniform" (balanced, sticky) and "range" (contiguous ranges per topic).</summary>
internal static class ServerAssignors
{
    public const string Uniform = "uniform";
    public const string Range = "range";

    public static bool IsKnown(string name) => name is Uniform or Range;

    /// <summary>Computes every member's target from its subscription and the partition counts of the topics.</summary>
    public static void Assign(ConsumerGroupModel group, IReadOnlyDictionary<string, int> partitionCounts)
    {
        var targets = group.Members.Keys.ToDictionary(id => id, _ => new TopicPartitionSet(), StringComparer.Ordinal);
        if (group.Assignor == Range) AssignRanges(group, partitionCounts, targets);
        else AssignUniform(group, partitionCounts, targets);
        foreach (var (id, target) in targets) group.Members[id].Target = target;
    }

    private static void AssignRanges(ConsumerGroupModel group, IReadOnlyDictionary<string, int> partitionCounts, Dictionary<string, TopicPartitionSet> targets)
    {
        foreach (var (topic, count) in partitionCounts)
        {
            var members = group.Members.Values.Where(m => group.IsSubscribed(m, topic)).Select(m => m.MemberId).Order(StringComparer.Ordinal).ToList();
            if (members.Count == 0) continue;
            var next = 0;
            for (var i = 0; i < members.Count; i++)
            {
                var share = (count / members.Count) + (i < count % members.Count ? 1 : 0);
                for (var k = 0; k < share; k++) targets[members[i]].Add(topic, next++);
            }
        }
    }

    /// <summary>
    /// Balanced and sticky: every member first keeps up to its fair share of its previous target, then the remaining
    /// partitions go one by one to the least loaded subscribed member.
    /// </summary>
    private static void AssignUniform(ConsumerGroupModel group, IReadOnlyDictionary<string, int> partitionCounts, Dictionary<string, TopicPartitionSet> targets)
    {
        var all = partitionCounts.SelectMany(t => Enumerable.Range(0, t.Value).Select(p => (Topic: t.Key, Partition: p))).ToList();
        var subscribers = partitionCounts.Keys.ToDictionary(t => t, t => group.Members.Values.Where(m => group.IsSubscribed(m, t)).Select(m => m.MemberId).Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var assignable = all.Where(tp => subscribers[tp.Topic].Count > 0).ToList();
        if (group.Members.Count == 0) return;
        var fairShare = assignable.Count / group.Members.Count;
        var taken = new HashSet<(string, int)>();
        foreach (var m in group.Members.Values)
        {
            foreach (var (topic, partition) in m.Target.All)
            {
                if (targets[m.MemberId].Count >= fairShare) break;
                if (partitionCounts.TryGetValue(topic, out var count) && partition < count && group.IsSubscribed(m, topic) && taken.Add((topic, partition)))
                    targets[m.MemberId].Add(topic, partition);
            }
        }
        foreach (var tp in assignable.Where(tp => !taken.Contains(tp)))
        {
            var owner = subscribers[tp.Topic].OrderBy(id => targets[id].Count).ThenBy(id => group.Members[id].Target.Contains(tp.Topic, tp.Partition) ? 0 : 1).First();
            targets[owner].Add(tp.Topic, tp.Partition);
        }
    }
}
