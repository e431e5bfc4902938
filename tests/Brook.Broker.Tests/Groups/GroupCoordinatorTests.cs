using Brook.Broker.Groups;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Tests.Groups;

/// <summary>A clock that moves only when a test advances it.</summary>
internal sealed class FakeTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>The coordinator driven directly, on a fake clock: timeouts fire only when the test says time has passed.</summary>
public sealed class GroupCoordinatorTests : IAsyncLifetime
{
    private const short JoinVersion = 5;
    private static readonly ClientInfo Client = new("test-client", "/127.0.0.1");
    private readonly FakeTime _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private InMemoryLogStore _store = null!;
    private GroupCoordinator _coordinator = null!;

    public async Task InitializeAsync()
    {
        _store = new InMemoryLogStore(_time);
        _coordinator = await NewCoordinatorAsync();
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private async Task<GroupCoordinator> NewCoordinatorAsync()
    {
        var config = new BrokerConfig(new Dictionary<string, string> { ["group.initial.rebalance.delay.ms"] = "0" });
        var coordinator = new GroupCoordinator(_store, config, _time);
        await coordinator.LoadAsync();
        return coordinator;
    }

    private static JoinGroupRequest Join(string group, string memberId = "", string? instanceId = null, string metadata = "m", int sessionTimeoutMs = 10_000) => new()
    {
        GroupId = group,
        MemberId = memberId,
        GroupInstanceId = instanceId,
        SessionTimeoutMs = sessionTimeoutMs,
        RebalanceTimeoutMs = 30_000,
        ProtocolType = "consumer",
        Protocols = [new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = System.Text.Encoding.UTF8.GetBytes(metadata) }],
    };

    /// <summary>Joins as a new dynamic member: the first JoinGroup only hands out the member id (KIP-394).</summary>
    private async Task<string> NewMemberIdAsync(string group)
    {
        var first = await _coordinator.JoinGroupAsync(Join(group), JoinVersion, Client, default);
        Assert.Equal((short)ErrorCode.MemberIdRequired, first.ErrorCode);
        Assert.NotEmpty(first.MemberId);
        return first.MemberId;
    }

    private async Task<SyncGroupResponse> SyncAsync(string group, string memberId, int generation, params (string Member, string Assignment)[] assignments) =>
        await _coordinator.SyncGroupAsync(new SyncGroupRequest
        {
            GroupId = group,
            MemberId = memberId,
            GenerationId = generation,
            Assignments = assignments.Select(a => new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = a.Member, Assignment = System.Text.Encoding.UTF8.GetBytes(a.Assignment) }).ToList(),
        }, 3, default);

    private Task<ErrorCode> HeartbeatAsync(string group, string memberId, int generation, string? instanceId = null) =>
        _coordinator.HeartbeatAsync(new HeartbeatRequest { GroupId = group, MemberId = memberId, GenerationId = generation, GroupInstanceId = instanceId }, default);

    private Task<OffsetCommitResponse> CommitAsync(string group, string topic, int partition, long offset, int generation = -1, string memberId = "") =>
        _coordinator.CommitOffsetsAsync(new OffsetCommitRequest
        {
            GroupId = group,
            GenerationIdOrMemberEpoch = generation,
            MemberId = memberId,
            Topics = [new OffsetCommitRequest.OffsetCommitRequestTopic
            {
                Name = topic,
                Partitions = [new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = partition, CommittedOffset = offset, CommittedMetadata = "meta-" + offset }],
            }],
        }, 8, default);

    private static async Task<long> CommittedAsync(GroupCoordinator coordinator, string group, string topic, int partition)
    {
        var offsets = await coordinator.GetCommittedOffsetsAsync(group);
        return offsets.TryGetValue((topic, partition), out var o) ? o.Offset : -1;
    }

    [Fact]
    public async Task A_single_member_joins_leads_and_receives_its_assignment()
    {
        var id = await NewMemberIdAsync("g");
        var joined = await _coordinator.JoinGroupAsync(Join("g", id), JoinVersion, Client, default);
        Assert.Equal(0, joined.ErrorCode);
        Assert.Equal(1, joined.GenerationId);
        Assert.Equal(id, joined.Leader);
        Assert.Equal("range", joined.ProtocolName);
        Assert.Equal([id], joined.Members.Select(m => m.MemberId));

        var synced = await SyncAsync("g", id, 1, (id, "mine"));
        Assert.Equal(0, synced.ErrorCode);
        Assert.Equal("mine", System.Text.Encoding.UTF8.GetString(synced.Assignment));
        Assert.Equal(ErrorCode.None, await HeartbeatAsync("g", id, 1));
        Assert.Equal(ErrorCode.IllegalGeneration, await HeartbeatAsync("g", id, 0));
        Assert.Equal(ErrorCode.UnknownMemberId, await HeartbeatAsync("g", "stranger", 1));
    }

    [Fact]
    public async Task A_second_member_triggers_a_rebalance_and_the_follower_waits_for_the_leaders_assignment()
    {
        var a = await NewMemberIdAsync("g");
        await _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        await SyncAsync("g", a, 1, (a, "all"));

        var b = await NewMemberIdAsync("g");
        var joinB = _coordinator.JoinGroupAsync(Join("g", b), JoinVersion, Client, default);
        Assert.False(joinB.IsCompleted);
        Assert.Equal(ErrorCode.RebalanceInProgress, await HeartbeatAsync("g", a, 1));
        var joinA = await _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        var joinedB = await joinB;
        Assert.Equal(2, joinA.GenerationId);
        Assert.Equal(2, joinedB.GenerationId);
        Assert.Equal(a, joinA.Leader);
        Assert.Equal(2, joinA.Members.Count);
        Assert.Empty(joinedB.Members);

        var syncB = SyncAsync("g", b, 2);
        Assert.False(syncB.IsCompleted);
        var syncA = await SyncAsync("g", a, 2, (a, "p0"), (b, "p1"));
        Assert.Equal("p0", System.Text.Encoding.UTF8.GetString(syncA.Assignment));
        Assert.Equal("p1", System.Text.Encoding.UTF8.GetString((await syncB).Assignment));
    }

    [Fact]
    public async Task A_member_whose_session_expires_is_removed_and_the_others_rebalance()
    {
        var a = await NewMemberIdAsync("g");
        var b = await NewMemberIdAsync("g");
        var joinA = _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        var joinB = _coordinator.JoinGroupAsync(Join("g", b), JoinVersion, Client, default);
        var generation = (await joinA).GenerationId;
        Assert.Equal(generation, (await joinB).GenerationId);
        var leader = (await joinA).Leader;
        var syncOther = SyncAsync("g", leader == a ? b : a, generation);
        await SyncAsync("g", leader, generation, (a, "x"), (b, "y"));
        await syncOther;

        // Only a heartbeats; b's 10 s session runs out.
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(ErrorCode.None, await HeartbeatAsync("g", a, generation));
        _time.Advance(TimeSpan.FromSeconds(6));
        await _coordinator.CheckDeadlinesAsync();

        Assert.Equal(ErrorCode.RebalanceInProgress, await HeartbeatAsync("g", a, generation));
        Assert.Equal(ErrorCode.UnknownMemberId, await HeartbeatAsync("g", b, generation));
        var rejoined = await _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        Assert.Equal(generation + 1, rejoined.GenerationId);
        Assert.Equal([a], rejoined.Members.Select(m => m.MemberId));
    }

    [Fact]
    public async Task A_rebalance_timeout_completes_the_join_without_members_that_did_not_rejoin()
    {
        var a = await NewMemberIdAsync("g");
        await _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        await SyncAsync("g", a, 1, (a, "all"));
        var b = await NewMemberIdAsync("g");
        var joinB = _coordinator.JoinGroupAsync(Join("g", b), JoinVersion, Client, default);

        // a keeps heartbeating (so its session stays alive) but never rejoins within the 30 s rebalance timeout.
        for (var elapsed = 0; elapsed < 25; elapsed += 5)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            Assert.Equal(ErrorCode.RebalanceInProgress, await HeartbeatAsync("g", a, 1));
            await _coordinator.CheckDeadlinesAsync();
        }
        Assert.False(joinB.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(ErrorCode.RebalanceInProgress, await HeartbeatAsync("g", a, 1));
        await _coordinator.CheckDeadlinesAsync();

        var joined = await joinB;
        Assert.Equal(b, joined.Leader);
        Assert.Equal([b], joined.Members.Select(m => m.MemberId));
    }

    [Fact]
    public async Task Commits_are_fenced_by_generation_and_member()
    {
        var a = await NewMemberIdAsync("g");
        await _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        await SyncAsync("g", a, 1, (a, "all"));

        Assert.Equal(0, (await CommitAsync("g", "t", 0, 5, 1, a)).Topics[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.IllegalGeneration, (await CommitAsync("g", "t", 0, 6, 7, a)).Topics[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownMemberId, (await CommitAsync("g", "t", 0, 6, 1, "nobody")).Topics[0].Partitions[0].ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownMemberId, (await CommitAsync("g", "t", 0, 6)).Topics[0].Partitions[0].ErrorCode);
        Assert.Equal(5, await CommittedAsync(_coordinator, "g", "t", 0));
    }

    [Fact]
    public async Task Offsets_of_a_standalone_group_expire_after_the_retention_period()
    {
        Assert.Equal(0, (await CommitAsync("standalone", "t", 0, 42)).Topics[0].Partitions[0].ErrorCode);
        _time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        await _coordinator.CheckDeadlinesAsync();
        Assert.Equal(42, await CommittedAsync(_coordinator, "standalone", "t", 0));

        _time.Advance(TimeSpan.FromMinutes(2));
        await _coordinator.CheckDeadlinesAsync();
        Assert.Equal(-1, await CommittedAsync(_coordinator, "standalone", "t", 0));
        Assert.DoesNotContain(await _coordinator.ListGroupsAsync([], [], default), g => g.GroupId == "standalone");

        // The expiry was stored: a coordinator rebuilt from the log agrees.
        var rebuilt = await NewCoordinatorAsync();
        Assert.Equal(-1, await CommittedAsync(rebuilt, "standalone", "t", 0));
    }

    [Fact]
    public async Task Offsets_of_a_consumer_group_are_kept_while_it_has_members_and_expire_once_it_is_empty()
    {
        var a = await NewMemberIdAsync("g");
        await _coordinator.JoinGroupAsync(Join("g", a, sessionTimeoutMs: 60_000), JoinVersion, Client, default);
        await SyncAsync("g", a, 1, (a, "all"));
        await CommitAsync("g", "t", 0, 9, 1, a);

        for (var day = 0; day < 8; day++)
        {
            _time.Advance(TimeSpan.FromDays(1));
            Assert.Equal(ErrorCode.None, await HeartbeatAsync("g", a, 1)); // fake time jumps past the session: heartbeat first
            await _coordinator.CheckDeadlinesAsync();
        }
        Assert.Equal(9, await CommittedAsync(_coordinator, "g", "t", 0));

        await _coordinator.LeaveGroupAsync(new LeaveGroupRequest { GroupId = "g", Members = [new LeaveGroupRequest.MemberIdentity { MemberId = a }] }, 3, default);
        Assert.Equal("Empty", (await _coordinator.DescribeGroupAsync("g", default)).GroupState);
        _time.Advance(TimeSpan.FromDays(6));
        await _coordinator.CheckDeadlinesAsync();
        Assert.Equal(9, await CommittedAsync(_coordinator, "g", "t", 0));
        _time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        await _coordinator.CheckDeadlinesAsync();
        Assert.Equal(-1, await CommittedAsync(_coordinator, "g", "t", 0));
    }

    [Fact]
    public async Task Replaying_the_log_rebuilds_offsets_and_the_stable_generation()
    {
        var a = await NewMemberIdAsync("g");
        await _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        await SyncAsync("g", a, 1, (a, "assigned"));
        await CommitAsync("g", "t", 0, 10, 1, a);
        await CommitAsync("g", "t", 0, 20, 1, a);
        await CommitAsync("g", "t", 3, 7, 1, a);
        await CommitAsync("other", "u", 1, 99);
        Assert.Equal(ErrorCode.None, await _coordinator.DeleteGroupAsync("other", default));

        var rebuilt = await NewCoordinatorAsync();
        Assert.Equal(20, await CommittedAsync(rebuilt, "g", "t", 0));
        Assert.Equal(7, await CommittedAsync(rebuilt, "g", "t", 3));
        Assert.Equal(-1, await CommittedAsync(rebuilt, "other", "u", 1));
        var described = await rebuilt.DescribeGroupAsync("g", default);
        Assert.Equal("Stable", described.GroupState);
        Assert.Equal("assigned", System.Text.Encoding.UTF8.GetString(described.Members.Single(m => m.MemberId == a).MemberAssignment));
        // The member carries on in its generation against the rebuilt coordinator.
        Assert.Equal(ErrorCode.None, await rebuilt.HeartbeatAsync(new HeartbeatRequest { GroupId = "g", MemberId = a, GenerationId = 1 }, default));
    }

    [Fact]
    public async Task A_restarted_static_member_gets_its_assignment_back_without_a_rebalance_and_fences_its_old_id()
    {
        var first = await _coordinator.JoinGroupAsync(Join("g", instanceId: "instance-1"), JoinVersion, Client, default);
        Assert.Equal(0, first.ErrorCode);
        await SyncAsync("g", first.MemberId, 1, (first.MemberId, "kept"));

        var again = await _coordinator.JoinGroupAsync(Join("g", instanceId: "instance-1"), JoinVersion, Client, default);
        Assert.Equal(0, again.ErrorCode);
        Assert.NotEqual(first.MemberId, again.MemberId);
        Assert.Equal(1, again.GenerationId);
        var synced = await _coordinator.SyncGroupAsync(new SyncGroupRequest { GroupId = "g", MemberId = again.MemberId, GenerationId = 1, GroupInstanceId = "instance-1" }, 3, default);
        Assert.Equal("kept", System.Text.Encoding.UTF8.GetString(synced.Assignment));
        Assert.Equal(ErrorCode.FencedInstanceId, await HeartbeatAsync("g", first.MemberId, 1, "instance-1"));
        Assert.Equal(ErrorCode.None, await HeartbeatAsync("g", again.MemberId, 1, "instance-1"));
    }

    [Fact]
    public async Task Adding_partitions_to_a_subscribed_topic_triggers_a_rebalance()
    {
        await _store.CreateTopicAsync("grows", 2, new Dictionary<string, string>());
        var subscription = new ConsumerProtocolSubscription { Topics = ["grows"] };
        using var writer = new ProtocolWriter();
        writer.WriteInt16(0);
        subscription.Write(writer, 0);
        var join = Join("g");
        join.Protocols[0].Metadata = writer.WrittenSpan.ToArray();
        var id = (await _coordinator.JoinGroupAsync(join, JoinVersion, Client, default)).MemberId;
        join.MemberId = id;
        await _coordinator.JoinGroupAsync(join, JoinVersion, Client, default);
        await SyncAsync("g", id, 1, (id, "both"));
        await _coordinator.CheckDeadlinesAsync();
        Assert.Equal(ErrorCode.None, await HeartbeatAsync("g", id, 1));

        await _store.AddPartitionsAsync("grows", 3);
        await _coordinator.CheckDeadlinesAsync();
        Assert.Equal(ErrorCode.RebalanceInProgress, await HeartbeatAsync("g", id, 1));
    }

    [Fact]
    public async Task Only_empty_groups_can_be_deleted()
    {
        var a = await NewMemberIdAsync("g");
        await _coordinator.JoinGroupAsync(Join("g", a), JoinVersion, Client, default);
        Assert.Equal(ErrorCode.NonEmptyGroup, await _coordinator.DeleteGroupAsync("g", default));
        Assert.Equal(ErrorCode.GroupIdNotFound, await _coordinator.DeleteGroupAsync("missing", default));
    }
}
