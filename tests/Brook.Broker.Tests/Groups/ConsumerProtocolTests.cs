using Brook.Broker.Groups;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Broker.Tests.Groups;

/// <summary>The consumer rebalance protocol (KIP-848), driven directly on a fake clock.</summary>
public sealed class ConsumerProtocolCoordinatorTests : IAsyncLifetime
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
        Assert.Equal((short)Brook.Protocol.ErrorCode.FencedMemberEpoch, (await HeartbeatAsync("member-a", epochA - 5, kept)).ErrorCode);
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
        Assert.Equal((short)Brook.Protocol.ErrorCode.UnknownMemberId, (await HeartbeatAsync("member-b", b.MemberEpoch, [])).ErrorCode);
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

        Assert.Equal((short)Brook.Protocol.ErrorCode.UnknownMemberId, (await HeartbeatAsync("member-a", a.MemberEpoch, [0, 1, 2, 3])).ErrorCode);
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

    private IConsumer<string, string> Consumer(string group) => Clients.Consumer(_broker, c =>
    {
        c.GroupId = group;
        c.GroupProtocol = GroupProtocol.Consumer;
    });

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
}
