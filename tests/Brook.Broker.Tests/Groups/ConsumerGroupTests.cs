using Brook.Broker.Groups;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Broker.Tests.Groups;

/// <summary>Consumer groups driven by real librdkafka consumers (Confluent.Kafka) against the embedded broker.</summary>
public sealed class ConsumerGroupTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private GroupCoordinator Coordinator => _broker.Services.GetRequiredService<GroupCoordinator>();

    private IConsumer<string, string> GroupConsumer(string group, Action<ConsumerConfig>? configure = null) =>
        Clients.Consumer(_broker, c =>
        {
            c.GroupId = group;
            c.SessionTimeoutMs = 6000;
            c.HeartbeatIntervalMs = 300;
            c.TopicMetadataRefreshIntervalMs = 1000;
            configure?.Invoke(c);
        });

    /// <summary>
    /// Polls every consumer (which drives librdkafka's group protocol) until the condition holds, failing at the deadline.
    /// Records read along the way are added to <paramref name="received"/>.
    /// </summary>
    private static void PollUntil(IEnumerable<IConsumer<string, string>> consumers, Func<bool> condition, string what, List<ConsumeResult<string, string>>? received = null)
    {
        var list = consumers.ToList();
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            foreach (var c in list)
                if (c.Consume(TimeSpan.FromMilliseconds(20)) is { IsPartitionEOF: false } r) received?.Add(r);
        }
    }

    private static bool CoverDisjointly(IEnumerable<IConsumer<string, string>> consumers, int partitions)
    {
        var owned = consumers.Select(c => c.Assignment.Select(tp => tp.Partition.Value).ToList()).ToList();
        var all = owned.SelectMany(p => p).ToList();
        return owned.All(o => o.Count > 0) && all.Count == partitions && all.Distinct().Count() == partitions;
    }

    private async Task ProduceAsync(string topic, int count, int? partition = null)
    {
        using var producer = Clients.Producer(_broker);
        for (var i = 0; i < count; i++)
        {
            var message = new Message<string, string> { Key = "k" + i, Value = "v" + i };
            if (partition is { } p) await producer.ProduceAsync(new TopicPartition(topic, p), message);
            else await producer.ProduceAsync(topic, message);
        }
    }

    [Fact]
    public async Task Three_consumers_share_six_partitions_disjointly()
    {
        await Clients.CreateTopicAsync(_broker, "six", 6);
        var consumers = Enumerable.Range(0, 3).Select(_ => GroupConsumer("three")).ToList();
        try
        {
            foreach (var c in consumers) c.Subscribe("six");
            PollUntil(consumers, () => CoverDisjointly(consumers, 6), "three consumers own all six partitions");
            Assert.All(consumers, c => Assert.Equal(2, c.Assignment.Count));
            var described = await Coordinator.DescribeGroupAsync("three", default);
            Assert.Equal("Stable", described.GroupState);
            Assert.Equal(3, described.Members.Count);
        }
        finally
        {
            foreach (var c in consumers) c.Close();
            foreach (var c in consumers) c.Dispose();
        }
    }

    [Fact]
    public async Task A_consumer_that_closes_hands_its_partitions_to_the_others()
    {
        await Clients.CreateTopicAsync(_broker, "handover", 4);
        var staying = GroupConsumer("handover");
        var leaving = GroupConsumer("handover");
        try
        {
            staying.Subscribe("handover");
            leaving.Subscribe("handover");
            PollUntil([staying, leaving], () => CoverDisjointly([staying, leaving], 4), "two consumers own all four partitions");

            leaving.Close();
            PollUntil([staying], () => staying.Assignment.Count == 4, "the remaining consumer owns every partition");
            Assert.Single((await Coordinator.DescribeGroupAsync("handover", default)).Members);
        }
        finally
        {
            staying.Close();
            staying.Dispose();
            leaving.Dispose();
        }
    }

    [Fact]
    public async Task A_new_consumer_in_the_group_resumes_from_the_committed_offset()
    {
        await Clients.CreateTopicAsync(_broker, "resume", 1);
        await ProduceAsync("resume", 10);

        using (var first = GroupConsumer("resumers"))
        {
            first.Subscribe("resume");
            var seen = new List<ConsumeResult<string, string>>();
            PollUntil([first], () => seen.Count >= 5, "the first consumer read five records", seen);
            Assert.Equal(4, seen[4].Offset.Value);
            first.Commit(seen[4]); // commits offset 5: the next record to read
            first.Close();
        }

        using var second = GroupConsumer("resumers");
        second.Subscribe("resume");
        var read = new List<ConsumeResult<string, string>>();
        PollUntil([second], () => read.Count > 0, "the second consumer read a record", read);
        Assert.Equal(5, read[0].Offset.Value);
        Assert.Equal("v5", read[0].Message.Value);
        second.Close();
    }

    [Fact]
    public async Task Committed_offsets_survive_a_restart_of_the_coordinator()
    {
        await Clients.CreateTopicAsync(_broker, "durable", 2);
        using (var consumer = GroupConsumer("durable-group"))
        {
            consumer.Subscribe("durable");
            PollUntil([consumer], () => consumer.Assignment.Count == 2, "the consumer owns both partitions");
            consumer.Commit([new TopicPartitionOffset("durable", 0, 17), new TopicPartitionOffset("durable", 1, 23)]);
            consumer.Close();
        }

        // Disk storage is not on this branch yet: a fresh coordinator replays __consumer_offsets from the same store.
        var restarted = new GroupCoordinator(_broker.Store, _broker.Services.GetRequiredService<BrokerConfig>(), TimeProvider.System);
        await restarted.LoadAsync();
        var offsets = await restarted.GetCommittedOffsetsAsync("durable-group");
        Assert.Equal(17, offsets[("durable", 0)].Offset);
        Assert.Equal(23, offsets[("durable", 1)].Offset);
        Assert.Equal("Empty", (await restarted.DescribeGroupAsync("durable-group", default)).GroupState);
    }

    [Fact]
    public async Task Cooperative_sticky_consumers_rebalance_incrementally()
    {
        await Clients.CreateTopicAsync(_broker, "coop", 4);
        var revokedByFirst = new List<TopicPartition>();
        var first = GroupConsumer("coop-group", c => c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky);
        var second = GroupConsumer("coop-group", c => c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky);
        try
        {
            first.Subscribe("coop");
            PollUntil([first], () => first.Assignment.Count == 4, "the first consumer owns all four partitions");
            var before = first.Assignment.Select(tp => tp.Partition.Value).ToHashSet();

            second.Subscribe("coop");
            PollUntil([first, second], () => CoverDisjointly([first, second], 4) && first.Assignment.Count == 2, "both consumers own two partitions");
            // Sticky: whatever the first consumer still owns, it owned before.
            Assert.Subset(before, first.Assignment.Select(tp => tp.Partition.Value).ToHashSet());

            second.Close();
            PollUntil([first], () => first.Assignment.Count == 4, "the first consumer takes the partitions back");
        }
        finally
        {
            first.Close();
            first.Dispose();
            second.Dispose();
        }
    }

    [Fact]
    public async Task A_static_member_that_restarts_gets_its_partitions_back_without_a_rebalance()
    {
        await Clients.CreateTopicAsync(_broker, "static", 4);
        void Static(ConsumerConfig c, string instance)
        {
            c.GroupInstanceId = instance;
            c.SessionTimeoutMs = 30_000;
        }
        var stays = GroupConsumer("static-group", c => Static(c, "instance-a"));
        var restarts = GroupConsumer("static-group", c => Static(c, "instance-b"));
        try
        {
            stays.Subscribe("static");
            restarts.Subscribe("static");
            PollUntil([stays, restarts], () => CoverDisjointly([stays, restarts], 4), "both static members own partitions");
            var generation = await Coordinator.GenerationOfAsync("static-group");
            var owned = restarts.Assignment.Select(tp => tp.Partition.Value).Order().ToList();
            var oldMemberId = restarts.MemberId;

            // A static member does not leave on close: its place waits for it until the session times out.
            restarts.Close();
            restarts.Dispose();
            restarts = GroupConsumer("static-group", c => Static(c, "instance-b"));
            restarts.Subscribe("static");
            PollUntil([stays, restarts], () => restarts.Assignment.Count > 0, "the restarted member is assigned");

            Assert.Equal(owned, restarts.Assignment.Select(tp => tp.Partition.Value).Order().ToList());
            Assert.NotEqual(oldMemberId, restarts.MemberId);
            Assert.Equal(generation, await Coordinator.GenerationOfAsync("static-group"));
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
    public async Task Admin_client_lists_describes_and_deletes_groups_and_offsets()
    {
        await Clients.CreateTopicAsync(_broker, "admin-topic", 2);
        using var admin = Clients.Admin(_broker);
        var consumer = GroupConsumer("admin-group", c => c.ClientId = "admin-test-consumer");
        try
        {
            consumer.Subscribe("admin-topic");
            PollUntil([consumer], () => consumer.Assignment.Count == 2, "the consumer owns both partitions");
            consumer.Commit([new TopicPartitionOffset("admin-topic", 0, 3), new TopicPartitionOffset("admin-topic", 1, 4)]);

            var listed = await admin.ListConsumerGroupsAsync();
            var listing = Assert.Single(listed.Valid, g => g.GroupId == "admin-group");
            Assert.Equal(ConsumerGroupState.Stable, listing.State);

            var described = Assert.Single((await admin.DescribeConsumerGroupsAsync(["admin-group"])).ConsumerGroupDescriptions);
            Assert.Equal(ConsumerGroupState.Stable, described.State);
            var member = Assert.Single(described.Members);
            Assert.Equal("admin-test-consumer", member.ClientId);
            Assert.Equal([0, 1], member.Assignment.TopicPartitions.Select(tp => tp.Partition.Value).Order());

            var offsets = Assert.Single(await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("admin-group", null)]));
            Assert.Equal([3L, 4L], offsets.Partitions.OrderBy(p => p.Partition.Value).Select(p => p.Offset.Value));

            var notEmpty = await Assert.ThrowsAsync<DeleteGroupsException>(() => admin.DeleteGroupsAsync(["admin-group"]));
            Assert.Equal(ErrorCode.NonEmptyGroup, notEmpty.Results[0].Error.Code);
            var subscribed = await Assert.ThrowsAsync<DeleteConsumerGroupOffsetsException>(() =>
                admin.DeleteConsumerGroupOffsetsAsync("admin-group", [new TopicPartition("admin-topic", 0)]));
            Assert.Equal(ErrorCode.GroupSubscribedToTopic, subscribed.Result.Partitions[0].Error.Code);

            consumer.Close();
            await admin.DeleteConsumerGroupOffsetsAsync("admin-group", [new TopicPartition("admin-topic", 0)]);
            offsets = Assert.Single(await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions("admin-group", null)]));
            var remaining = Assert.Single(offsets.Partitions);
            Assert.Equal(1, remaining.Partition.Value);

            await admin.DeleteGroupsAsync(["admin-group"]);
            Assert.DoesNotContain((await admin.ListConsumerGroupsAsync()).Valid, g => g.GroupId == "admin-group");
        }
        finally
        {
            consumer.Dispose();
        }
    }

    [Fact]
    public async Task Lag_is_the_distance_from_the_committed_offset_to_the_log_end()
    {
        await Clients.CreateTopicAsync(_broker, "lagging", 2);
        await ProduceAsync("lagging", 7, partition: 0);
        await ProduceAsync("lagging", 5, partition: 1);
        using (var consumer = GroupConsumer("lag-group"))
        {
            consumer.Commit([new TopicPartitionOffset("lagging", 0, 2), new TopicPartitionOffset("lagging", 1, 5)]);
        }
        var lag = await _broker.Services.GetRequiredService<GroupLagService>().GetLagAsync("lag-group");
        Assert.Equal([5L, 0L], lag.Partitions.Select(p => p.Lag));
        Assert.Equal(5, lag.TotalLag);
    }
}
