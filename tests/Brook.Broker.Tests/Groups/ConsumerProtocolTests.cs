using Brook.Broker.Groups;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using ErrorCode = Brook.Protocol.ErrorCode;

namespace Brook.Broker.Tests.Groups;

/// <summary>The consumer rebalance protocol (KIP-848), driven directly on a fake clock.</summary>
public sealed partial class ConsumerProtocolCoordinatorTests : IAsyncLifetime
{
    private static readonly ClientInfo Client = new("test-client", "/127.0.0.1");
    private readonly FakeTime _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private InMemoryLogStore _store = null!;
    private GroupCoordinator _coordinator = null!;
    private KafkaUuid _topicId;

    public async Task InitializeAsync()
    {
        _store = new InMemoryLogStore(_time);
        _topicId = (await _store.CreateTopicAsync("t", 4, new Dictionary<string, string>())).Value!.TopicId;
        _coordinator = await NewCoordinatorAsync();
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private async Task<GroupCoordinator> NewCoordinatorAsync()
    {
        var coordinator = new GroupCoordinator(_store, new BrokerConfig(new Dictionary<string, string>()), _time);
        await coordinator.LoadAsync();
        return coordinator;
    }

    private Task<ConsumerGroupHeartbeatResponse> HeartbeatAsync(string memberId, int epoch, int[]? owned = null, GroupCoordinator? coordinator = null) =>
        (coordinator ?? _coordinator).ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatRequest
        {
            GroupId = "g",
            MemberId = memberId,
            MemberEpoch = epoch,
            RebalanceTimeoutMs = 30_000,
            SubscribedTopicNames = epoch == 0 ? ["t"] : null,
            TopicPartitions = owned is null ? null : [new ConsumerGroupHeartbeatRequest.TopicPartitionsData { TopicId = _topicId, Partitions = [.. owned] }],
        }, Client, default);

    private static int[] Partitions(ConsumerGroupHeartbeatResponse response) =>
        response.Assignment!.TopicPartitions.SelectMany(t => t.Partitions).Order().ToArray();

    private Task<ConsumerGroupHeartbeatResponse> StaticHeartbeatAsync(string memberId, string instanceId, int epoch, int[]? owned = null) =>
        _coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatRequest
        {
            GroupId = "g",
            MemberId = memberId,
            MemberEpoch = epoch,
            InstanceId = instanceId,
            RebalanceTimeoutMs = 30_000,
            SubscribedTopicNames = epoch == 0 ? ["t"] : null,
            TopicPartitions = owned is null ? null : [new ConsumerGroupHeartbeatRequest.TopicPartitionsData { TopicId = _topicId, Partitions = [.. owned] }],
        }, Client, default);

    private Task<ConsumerGroupHeartbeatResponse> RegexHeartbeatAsync(string memberId, int epoch, string? regex, Dictionary<string, int[]>? owned = null) =>
        _coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatRequest
        {
            GroupId = "rx",
            MemberId = memberId,
            MemberEpoch = epoch,
            RebalanceTimeoutMs = 30_000,
            SubscribedTopicRegex = regex,
            TopicPartitions = owned?.Select(o => new ConsumerGroupHeartbeatRequest.TopicPartitionsData { TopicId = _store.GetTopic(o.Key)!.TopicId, Partitions = [.. o.Value] }).ToList() ?? [],
        }, Client, default);

    /// <summary>Topic name to partitions, as a sorted "topic-partition" list.</summary>
    private string[] Named(ConsumerGroupHeartbeatResponse response) =>
        response.Assignment!.TopicPartitions.SelectMany(t => t.Partitions.Select(p => $"{_store.GetTopic(t.TopicId)!.Name}-{p}")).Order(StringComparer.Ordinal).ToArray();

    private async Task<OffsetFetchResponse.OffsetFetchResponseGroup> FetchOffsetsAsync(string? memberId, int memberEpoch) =>
        Assert.Single((await _coordinator.FetchOffsetsAsync(new OffsetFetchRequest
        {
            Groups = [new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = "g", MemberId = memberId, MemberEpoch = memberEpoch, Topics = null }],
        }, 9, default)).Groups);

    [Fact]
    public async Task A_joining_member_gets_partitions_only_after_the_owner_revoked_them()
    {
        var a = await HeartbeatAsync("member-a", 0, []);
        Assert.Equal(0, a.ErrorCode);
        Assert.Equal([0, 1, 2, 3], Partitions(a));
        var epochA = a.MemberEpoch;

        var b = await HeartbeatAsync("member-b", 0, []);
        Assert.Empty(Partitions(b)); // a still owns everything
        var epochB = b.MemberEpoch;

        var revoke = await HeartbeatAsync("member-a", epochA, [0, 1, 2, 3]);
        Assert.Equal(epochA, revoke.MemberEpoch); // revocation first, at the old epoch
        var kept = Partitions(revoke);
        Assert.Equal(2, kept.Length);

        var acked = await HeartbeatAsync("member-a", epochA, kept);
        Assert.True(acked.MemberEpoch > epochA);
        var bAssigned = await HeartbeatAsync("member-b", epochB, []);
        Assert.Equal([0, 1, 2, 3], kept.Concat(Partitions(bAssigned)).Order());
        Assert.Equal((short)ErrorCode.FencedMemberEpoch, (await HeartbeatAsync("member-a", epochA + 5, kept)).ErrorCode);
    }

    [Fact]
    public async Task A_member_whose_session_expires_loses_its_partitions_to_the_others()
    {
        var a = await HeartbeatAsync("member-a", 0, []);
        var b = await HeartbeatAsync("member-b", 0, []);
        var revoke = await HeartbeatAsync("member-a", a.MemberEpoch, [0, 1, 2, 3]);
        var acked = await HeartbeatAsync("member-a", a.MemberEpoch, Partitions(revoke));
        await HeartbeatAsync("member-b", b.MemberEpoch, []);

        var latest = Partitions(revoke);
        var epoch = acked.MemberEpoch;
        for (var i = 0; i < 11; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            // Only a keeps heartbeating; the assignment comes back only when it changed.
            var response = await HeartbeatAsync("member-a", epoch, latest);
            epoch = response.MemberEpoch;
            if (response.Assignment is not null) latest = Partitions(response);
            await _coordinator.CheckDeadlinesAsync();
        }
        Assert.Equal([0, 1, 2, 3], latest);
        Assert.Equal((short)ErrorCode.UnknownMemberId, (await HeartbeatAsync("member-b", b.MemberEpoch, [])).ErrorCode);
    }

    [Fact]
    public async Task A_member_that_does_not_release_revoked_partitions_within_its_rebalance_timeout_is_fenced()
    {
        var a = await HeartbeatAsync("member-a", 0, []);
        var b = await HeartbeatAsync("member-b", 0, []);
        await HeartbeatAsync("member-a", a.MemberEpoch, [0, 1, 2, 3]); // told to give two partitions up

        // a keeps heartbeating (its session lives) but keeps reporting all four partitions as owned.
        for (var i = 0; i < 7; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await HeartbeatAsync("member-a", a.MemberEpoch, [0, 1, 2, 3]);
            await HeartbeatAsync("member-b", b.MemberEpoch, []);
            await _coordinator.CheckDeadlinesAsync();
        }

        Assert.Equal((short)ErrorCode.UnknownMemberId, (await HeartbeatAsync("member-a", a.MemberEpoch, [0, 1, 2, 3])).ErrorCode);
        var described = await _coordinator.DescribeConsumerGroupAsync("g", default);
        var member = Assert.Single(described.Members);
        Assert.Equal("member-b", member.MemberId);
        Assert.Equal([0, 1, 2, 3], member.Assignment.TopicPartitions.Single().Partitions.Order());
    }

    [Fact]
    public async Task The_group_and_its_epochs_are_rebuilt_from_the_log()
    {
        var a = await HeartbeatAsync("member-a", 0, []);
        var rebuilt = await NewCoordinatorAsync();
        var described = await rebuilt.DescribeConsumerGroupAsync("g", default);
        var member = Assert.Single(described.Members);
        Assert.Equal(a.MemberEpoch, member.MemberEpoch);
        Assert.Equal([0, 1, 2, 3], member.Assignment.TopicPartitions.Single().Partitions.Order());
        Assert.Equal(0, (await HeartbeatAsync("member-a", a.MemberEpoch, [0, 1, 2, 3], rebuilt)).ErrorCode);
    }
}

public sealed partial class ConsumerProtocolCoordinatorTests
{
    [Fact]
    public async Task A_static_member_that_leaves_with_epoch_minus_two_keeps_its_partitions_until_it_returns()
    {
        var a = await StaticHeartbeatAsync("a-1", "instance-a", 0, []);
        var b = await HeartbeatAsync("member-b", 0, []);
        var revoke = await StaticHeartbeatAsync("a-1", "instance-a", a.MemberEpoch, [0, 1, 2, 3]);
        var kept = Partitions(revoke);
        await StaticHeartbeatAsync("a-1", "instance-a", a.MemberEpoch, kept);
        b = await HeartbeatAsync("member-b", b.MemberEpoch, []);
        var groupEpoch = (await _coordinator.DescribeConsumerGroupAsync("g", default)).GroupEpoch;

        var left = await StaticHeartbeatAsync("a-1", "instance-a", -2);
        Assert.Equal(0, left.ErrorCode);
        Assert.Equal(-2, left.MemberEpoch);
        var described = await _coordinator.DescribeConsumerGroupAsync("g", default);
        Assert.Equal(groupEpoch, described.GroupEpoch); // no rebalance
        Assert.Equal(-2, described.Members.Single(m => m.MemberId == "a-1").MemberEpoch);
        Assert.Equal("Stable", described.GroupState);
        // b is not handed a's partitions while a is away.
        Assert.Null((await HeartbeatAsync("member-b", b.MemberEpoch, Partitions(b))).Assignment);

        var returned = await StaticHeartbeatAsync("a-2", "instance-a", 0, []);
        Assert.Equal(0, returned.ErrorCode);
        Assert.Equal(kept, Partitions(returned));
        described = await _coordinator.DescribeConsumerGroupAsync("g", default);
        Assert.Equal(groupEpoch, described.GroupEpoch);
        Assert.Equal(["a-2", "member-b"], described.Members.Select(m => m.MemberId).Order(StringComparer.Ordinal));
        // The old member id is gone.
        Assert.Equal((short)ErrorCode.UnknownMemberId, (await StaticHeartbeatAsync("a-1", "instance-a", returned.MemberEpoch, kept)).ErrorCode);
    }

    [Fact]
    public async Task An_instance_id_still_held_by_a_member_that_did_not_leave_is_refused()
    {
        Assert.Equal(0, (await StaticHeartbeatAsync("a-1", "instance-a", 0, [])).ErrorCode);
        var second = await StaticHeartbeatAsync("a-2", "instance-a", 0, []);
        Assert.Equal((short)ErrorCode.UnreleasedInstanceId, second.ErrorCode);
        var dynamicLeave = await _coordinator.ConsumerGroupHeartbeatAsync(new ConsumerGroupHeartbeatRequest { GroupId = "g", MemberId = "a-1", MemberEpoch = -2 }, Client, default);
        Assert.Equal((short)ErrorCode.InvalidRequest, dynamicLeave.ErrorCode);
        Assert.Equal("a-1", Assert.Single((await _coordinator.DescribeConsumerGroupAsync("g", default)).Members).MemberId);
    }

    [Fact]
    public async Task A_static_member_that_left_and_never_returns_is_removed_when_its_session_expires()
    {
        var a = await StaticHeartbeatAsync("a-1", "instance-a", 0, []);
        var b = await HeartbeatAsync("member-b", 0, []);
        var revoke = await StaticHeartbeatAsync("a-1", "instance-a", a.MemberEpoch, [0, 1, 2, 3]);
        await StaticHeartbeatAsync("a-1", "instance-a", a.MemberEpoch, Partitions(revoke));
        b = await HeartbeatAsync("member-b", b.MemberEpoch, []);
        var owned = Partitions(b);
        await StaticHeartbeatAsync("a-1", "instance-a", -2);

        var epoch = b.MemberEpoch;
        for (var i = 0; i < 11; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            var response = await HeartbeatAsync("member-b", epoch, owned);
            epoch = response.MemberEpoch;
            if (response.Assignment is not null) owned = Partitions(response);
            await _coordinator.CheckDeadlinesAsync();
        }
        Assert.Equal([0, 1, 2, 3], owned);
        Assert.Equal("member-b", Assert.Single((await _coordinator.DescribeConsumerGroupAsync("g", default)).Members).MemberId);
    }

    [Fact]
    public async Task A_regular_expression_subscription_follows_topics_as_they_are_created_and_deleted()
    {
        await _store.CreateTopicAsync("orders-eu", 2, new Dictionary<string, string>());
        await _store.CreateTopicAsync("orders", 1, new Dictionary<string, string>());
        await _store.CreateTopicAsync("reorders-x", 1, new Dictionary<string, string>());

        // Matched against the whole name, as RE2/J's matches() does: "orders" and "reorders-x" are not taken.
        var joined = await RegexHeartbeatAsync("m", 0, "orders-.*");
        Assert.Equal(0, joined.ErrorCode);
        Assert.Equal(["orders-eu-0", "orders-eu-1"], Named(joined));
        var described = Assert.Single((await _coordinator.DescribeConsumerGroupAsync("rx", default)).Members);
        Assert.Equal("orders-.*", described.SubscribedTopicRegex);
        Assert.Empty(described.SubscribedTopicNames);

        await _store.CreateTopicAsync("orders-us", 1, new Dictionary<string, string>());
        await _coordinator.CheckDeadlinesAsync();
        var grown = await RegexHeartbeatAsync("m", joined.MemberEpoch, null, new() { ["orders-eu"] = [0, 1] });
        Assert.True(grown.MemberEpoch > joined.MemberEpoch);
        Assert.Equal(["orders-eu-0", "orders-eu-1", "orders-us-0"], Named(grown));

        await _store.DeleteTopicAsync("orders-eu");
        await _coordinator.CheckDeadlinesAsync();
        var shrunk = await RegexHeartbeatAsync("m", grown.MemberEpoch, null, new() { ["orders-us"] = [0] });
        Assert.Equal(["orders-us-0"], Named(shrunk));

        // A rebuilt coordinator has the resolved topics and the member's expression.
        var rebuilt = await NewCoordinatorAsync();
        var member = Assert.Single((await rebuilt.DescribeConsumerGroupAsync("rx", default)).Members);
        Assert.Equal("orders-.*", member.SubscribedTopicRegex);
        Assert.Equal([0], member.Assignment.TopicPartitions.Single(t => t.TopicName == "orders-us").Partitions);
    }

    [Fact]
    public async Task Regular_expressions_that_re2_refuses_are_invalid()
    {
        foreach (var pattern in new[] { "orders-(", "(a)\\1", "(?=orders).*", "[z-a]" })
        {
            var response = await RegexHeartbeatAsync("m", 0, pattern);
            Assert.Equal((short)ErrorCode.InvalidRegularExpression, response.ErrorCode);
        }
        Assert.Equal("Dead", (await _coordinator.DescribeConsumerGroupAsync("rx", default)).GroupState);
        await _store.CreateTopicAsync("Log7", 1, new Dictionary<string, string>());
        // RE2's named groups and ASCII classes are understood.
        Assert.Equal(["Log7-0"], Named(await RegexHeartbeatAsync("m", 0, "(?P<kind>[[:upper:]][[:lower:]]+)[[:digit:]]")));
    }

    [Fact]
    public async Task OffsetFetch_from_a_member_checks_its_id_and_epoch()
    {
        var a = await HeartbeatAsync("member-a", 0, []);
        Assert.Equal(0, (await _coordinator.CommitOffsetsAsync(new OffsetCommitRequest
        {
            GroupId = "g",
            MemberId = "member-a",
            GenerationIdOrMemberEpoch = a.MemberEpoch,
            Topics = [new OffsetCommitRequest.OffsetCommitRequestTopic { Name = "t", Partitions = [new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 2, CommittedOffset = 12 }] }],
        }, 9, default)).Topics[0].Partitions[0].ErrorCode);

        var current = await FetchOffsetsAsync("member-a", a.MemberEpoch);
        Assert.Equal(0, current.ErrorCode);
        Assert.Equal(12, current.Topics.Single().Partitions.Single().CommittedOffset);
        Assert.Equal((short)ErrorCode.StaleMemberEpoch, (await FetchOffsetsAsync("member-a", a.MemberEpoch - 1)).ErrorCode);
        Assert.Equal((short)ErrorCode.UnknownMemberId, (await FetchOffsetsAsync("stranger", a.MemberEpoch)).ErrorCode);
        Assert.Empty((await FetchOffsetsAsync("stranger", a.MemberEpoch)).Topics);
        // Admin tools send neither: always answered.
        Assert.Equal(12, (await FetchOffsetsAsync(null, -1)).Topics.Single().Partitions.Single().CommittedOffset);
    }

    [Fact]
    public async Task DescribeGroups_reports_a_consumer_protocol_group_as_dead_as_Kafka_does()
    {
        await HeartbeatAsync("member-a", 0, []);
        var described = await _coordinator.DescribeGroupAsync("g", default);
        Assert.Equal("Dead", described.GroupState);
        Assert.Empty(described.Members);
        Assert.Equal(0, described.ErrorCode);
        Assert.Single((await _coordinator.DescribeConsumerGroupAsync("g", default)).Members);
    }

    [Fact]
    public async Task Offsets_of_an_empty_consumer_protocol_group_expire_and_the_group_stays_deleted_after_a_rebuild()
    {
        var a = await HeartbeatAsync("member-a", 0, []);
        await _coordinator.CommitOffsetsAsync(new OffsetCommitRequest
        {
            GroupId = "g",
            MemberId = "member-a",
            GenerationIdOrMemberEpoch = a.MemberEpoch,
            Topics = [new OffsetCommitRequest.OffsetCommitRequestTopic { Name = "t", Partitions = [new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 0, CommittedOffset = 3 }] }],
        }, 9, default);
        await HeartbeatAsync("member-a", -1);
        Assert.Equal("Empty", (await _coordinator.DescribeConsumerGroupAsync("g", default)).GroupState);

        _time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        await _coordinator.CheckDeadlinesAsync();
        Assert.Equal(3, (await _coordinator.GetCommittedOffsetsAsync("g"))[("t", 0)].Offset);

        _time.Advance(TimeSpan.FromMinutes(2));
        await _coordinator.CheckDeadlinesAsync();
        Assert.Empty(await _coordinator.GetCommittedOffsetsAsync("g"));
        Assert.Equal("Dead", (await _coordinator.DescribeConsumerGroupAsync("g", default)).GroupState);

        var rebuilt = await NewCoordinatorAsync();
        Assert.Empty(await rebuilt.GetCommittedOffsetsAsync("g"));
        Assert.DoesNotContain(await rebuilt.ListGroupsAsync([], [], default), g => g.GroupId == "g");
    }
}

/// <summary>librdkafka consumers with group.protocol=consumer against the embedded broker.</summary>
public sealed class ConsumerProtocolClientTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["group.consumer.heartbeat.interval.ms"] = "300" },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private IConsumer<string, string> Consumer(string group, string? instanceId = null) => Clients.Consumer(_broker, c =>
    {
        c.GroupId = group;
        c.GroupProtocol = GroupProtocol.Consumer;
        c.GroupInstanceId = instanceId;
        c.TopicMetadataRefreshIntervalMs = 1000;
    });

    private GroupCoordinator Coordinator => _broker.Services.GetRequiredService<GroupCoordinator>();

    private static HashSet<string> Owned(IConsumer<string, string> consumer) => consumer.Assignment.Select(tp => $"{tp.Topic}-{tp.Partition.Value}").ToHashSet();

    private static void PollUntil(IEnumerable<IConsumer<string, string>> consumers, Func<bool> condition, string what)
    {
        var list = consumers.ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            foreach (var c in list) c.Consume(TimeSpan.FromMilliseconds(20));
        }
    }

    [Fact]
    public async Task Consumers_with_the_consumer_protocol_share_partitions_and_take_over_when_one_leaves()
    {
        await Clients.CreateTopicAsync(_broker, "kip848", 4);
        var first = Consumer("kip848-group");
        var second = Consumer("kip848-group");
        try
        {
            first.Subscribe("kip848");
            second.Subscribe("kip848");
            PollUntil([first, second], () => first.Assignment.Count == 2 && second.Assignment.Count == 2
                && first.Assignment.Concat(second.Assignment).Select(tp => tp.Partition.Value).Distinct().Count() == 4, "each consumer owns two partitions");
            var described = await _broker.Services.GetRequiredService<GroupCoordinator>().DescribeConsumerGroupAsync("kip848-group", default);
            Assert.Equal(2, described.Members.Count);
            Assert.Equal("uniform", described.AssignorName);
            using (var admin = Clients.Admin(_broker))
            {
                var description = Assert.Single((await admin.DescribeConsumerGroupsAsync(["kip848-group"])).ConsumerGroupDescriptions);
                Assert.Equal(2, description.Members.Count);
                Assert.Equal([0, 1, 2, 3], description.Members.SelectMany(m => m.Assignment.TopicPartitions).Select(tp => tp.Partition.Value).Order());
            }

            first.Commit([new TopicPartitionOffset("kip848", first.Assignment[0].Partition, 1)]);
            second.Close();
            PollUntil([first], () => first.Assignment.Count == 4, "the remaining consumer owns all four partitions");
            var offsets = await _broker.Services.GetRequiredService<GroupCoordinator>().GetCommittedOffsetsAsync("kip848-group");
            Assert.Equal(1, Assert.Single(offsets).Value.Offset);
        }
        finally
        {
            first.Close();
            first.Dispose();
            second.Dispose();
        }
    }
    [Fact]
    public async Task A_static_member_that_closes_and_restarts_gets_its_partitions_back_without_a_rebalance()
    {
        await Clients.CreateTopicAsync(_broker, "kip848-static", 4);
        var stays = Consumer("kip848-static-group", "stays");
        var restarts = Consumer("kip848-static-group", "restarts");
        try
        {
            stays.Subscribe("kip848-static");
            restarts.Subscribe("kip848-static");
            PollUntil([stays, restarts], () => stays.Assignment.Count == 2 && restarts.Assignment.Count == 2 && !Owned(stays).Overlaps(Owned(restarts)), "each static member owns two partitions");
            var keptByStays = Owned(stays);
            var ownedByRestarts = Owned(restarts);
            var groupEpoch = (await Coordinator.DescribeConsumerGroupAsync("kip848-static-group", default)).GroupEpoch;

            // Closing a static member sends a heartbeat with epoch -2: it stays in the group, holding its partitions.
            restarts.Close();
            restarts.Dispose();
            var away = await Coordinator.DescribeConsumerGroupAsync("kip848-static-group", default);
            Assert.Equal(-2, away.Members.Single(m => m.InstanceId == "restarts").MemberEpoch);

            restarts = Consumer("kip848-static-group", "restarts");
            restarts.Subscribe("kip848-static");
            PollUntil([stays, restarts], () => restarts.Assignment.Count == 2, "the restarted member owns two partitions");
            Assert.Equal(ownedByRestarts, Owned(restarts));
            Assert.Equal(keptByStays, Owned(stays));
            var back = await Coordinator.DescribeConsumerGroupAsync("kip848-static-group", default);
            Assert.Equal(groupEpoch, back.GroupEpoch);
            Assert.Equal(2, back.Members.Count);
        }
        finally
        {
            stays.Close();
            stays.Dispose();
            restarts.Close();
            restarts.Dispose();
        }
    }

    [Fact]
    public async Task A_regular_expression_subscription_is_resolved_by_the_broker_and_follows_new_topics()
    {
        await Clients.CreateTopicAsync(_broker, "rx-orders", 2);
        await Clients.CreateTopicAsync(_broker, "rx-payments", 1);
        await Clients.CreateTopicAsync(_broker, "unrelated", 1);
        var consumer = Consumer("kip848-regex-group");
        try
        {
            consumer.Subscribe("^rx-.*");
            PollUntil([consumer], () => consumer.Assignment.Count == 3, "the consumer owns the three partitions of the matching topics");
            Assert.Equal(["rx-orders-0", "rx-orders-1", "rx-payments-0"], Owned(consumer).Order(StringComparer.Ordinal));
            var member = Assert.Single((await Coordinator.DescribeConsumerGroupAsync("kip848-regex-group", default)).Members);
            Assert.NotNull(member.SubscribedTopicRegex);

            await Clients.CreateTopicAsync(_broker, "rx-refunds", 1);
            PollUntil([consumer], () => consumer.Assignment.Count == 4, "the consumer owns the new matching topic's partition too");
            Assert.Contains("rx-refunds-0", Owned(consumer));

            using (var producer = Clients.Producer(_broker))
                await producer.ProduceAsync("rx-refunds", new Message<string, string> { Key = "r", Value = "refund" });
            ConsumeResult<string, string>? read = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (read is null && DateTime.UtcNow < deadline)
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) read = r;
            Assert.Equal("refund", read?.Message.Value);
        }
        finally
        {
            consumer.Close();
            consumer.Dispose();
        }
    }
}
