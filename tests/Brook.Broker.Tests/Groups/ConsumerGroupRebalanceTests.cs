using System.Diagnostics;
using Brook.Broker.Groups;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Broker.Tests.Groups;

/// <summary>
/// Rebalances of classic groups driven by real librdkafka consumers: members that die without leaving, processing every
/// message once across rebalances, incremental cooperative rebalancing and static members that do not come back.
/// </summary>
public sealed class ConsumerGroupRebalanceTests : IAsyncLifetime
{
    private const int SessionTimeoutMs = 6000; // the broker's group.min.session.timeout.ms
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private GroupCoordinator Coordinator => _broker.Services.GetRequiredService<GroupCoordinator>();

    private IConsumer<string, string> GroupConsumer(string group, Action<ConsumerConfig>? configure = null, Action<ConsumerBuilder<string, string>>? build = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _broker.BootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = SessionTimeoutMs,
            HeartbeatIntervalMs = 300,
            TopicMetadataRefreshIntervalMs = 1000,
        };
        configure?.Invoke(config);
        var builder = new ConsumerBuilder<string, string>(config);
        build?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>Polls every consumer (driving librdkafka's group protocol) until the condition holds, failing at the deadline.</summary>
    private static void PollUntil(IEnumerable<IConsumer<string, string>> consumers, Func<bool> condition, string what, Action<IConsumer<string, string>, ConsumeResult<string, string>>? onRecord = null)
    {
        var list = consumers.ToList();
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            foreach (var c in list)
                if (c.Consume(TimeSpan.FromMilliseconds(20)) is { IsPartitionEOF: false } r) onRecord?.Invoke(c, r);
        }
    }

    private static HashSet<int> Owned(IConsumer<string, string> consumer) => consumer.Assignment.Select(tp => tp.Partition.Value).ToHashSet();

    private static bool CoverDisjointly(IReadOnlyCollection<IConsumer<string, string>> consumers, int partitions)
    {
        var owned = consumers.Select(c => c.Assignment.Select(tp => tp.Partition.Value).ToList()).ToList();
        var all = owned.SelectMany(p => p).ToList();
        return owned.All(o => o.Count > 0) && all.Count == partitions && all.Distinct().Count() == partitions;
    }

    private async Task ProduceAsync(string topic, int from, int count)
    {
        using var producer = Clients.Producer(_broker);
        await Task.WhenAll(Enumerable.Range(from, count).Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = "k" + i, Value = "v" + i })));
    }

    [Fact]
    public async Task A_consumer_killed_without_closing_loses_its_partitions_to_the_others_after_the_session_timeout()
    {
        await Clients.CreateTopicAsync(_broker, "killed", 6);
        var consumers = Enumerable.Range(0, 3).Select(_ => GroupConsumer("killed-group")).ToList();
        var survivors = consumers.Take(2).ToList();
        try
        {
            foreach (var c in consumers) c.Subscribe("killed");
            PollUntil(consumers, () => CoverDisjointly(consumers, 6), "three consumers own all six partitions");
            var victim = consumers[2];
            var victimId = victim.MemberId;

            // Disposing without Close sends no LeaveGroup and stops heartbeats: the broker only notices the silence.
            victim.Dispose();
            var killed = Stopwatch.StartNew();
            PollUntil(survivors, () => CoverDisjointly(survivors, 6), "the two survivors own all six partitions");

            Assert.True(killed.Elapsed >= TimeSpan.FromMilliseconds(SessionTimeoutMs - 1000),
                $"The group rebalanced {killed.Elapsed.TotalMilliseconds:F0} ms after the kill, before the session could time out.");
            var described = await Coordinator.DescribeGroupAsync("killed-group", default);
            Assert.Equal("Stable", described.GroupState);
            Assert.Equal(2, described.Members.Count);
            Assert.DoesNotContain(described.Members, m => m.MemberId == victimId);
        }
        finally
        {
            foreach (var c in survivors) c.Close();
            foreach (var c in survivors) c.Dispose();
        }
    }

    /// <summary>
    /// Three consumers on six partitions commit synchronously after each batch they process, and on revocation; one closes
    /// and one joins while records keep arriving. Every record is processed exactly once and the group ends with no lag.
    /// </summary>
    [Fact]
    public async Task Every_record_is_processed_once_across_rebalances_when_committing_after_processing()
    {
        const string topic = "exactly-once";
        const int perPhase = 600;
        await Clients.CreateTopicAsync(_broker, topic, 6);
        var processed = new Dictionary<(int Partition, long Offset), int>();
        var keys = new HashSet<string>();
        var processedBy = new Dictionary<IConsumer<string, string>, int>();
        // Offsets processed but not committed yet, per consumer: the next offset to read of each partition.
        var pending = new Dictionary<IConsumer<string, string>, Dictionary<TopicPartition, long>>();

        void CommitPending(IConsumer<string, string> consumer, IEnumerable<TopicPartition>? only = null)
        {
            var mine = pending[consumer];
            var offsets = mine.Where(p => only is null || only.Contains(p.Key)).Select(p => new TopicPartitionOffset(p.Key, p.Value)).ToList();
            if (offsets.Count == 0) return;
            consumer.Commit(offsets);
            foreach (var o in offsets) mine.Remove(o.TopicPartition);
        }

        IConsumer<string, string> NewConsumer()
        {
            var consumer = GroupConsumer("once-group", build: b => b.SetPartitionsRevokedHandler((c, revoked) => CommitPending(c, revoked.Select(r => r.TopicPartition).ToList())));
            pending[consumer] = [];
            processedBy[consumer] = 0;
            consumer.Subscribe(topic);
            return consumer;
        }

        void Process(IConsumer<string, string> consumer, ConsumeResult<string, string> record)
        {
            var key = (record.Partition.Value, record.Offset.Value);
            processed[key] = processed.GetValueOrDefault(key) + 1;
            keys.Add(record.Message.Key);
            processedBy[consumer]++;
            pending[consumer][record.TopicPartition] = record.Offset.Value + 1;
        }

        // One poll round: each consumer processes what a short poll returns, then commits that batch synchronously.
        void PumpUntil(List<IConsumer<string, string>> consumers, Func<bool> condition, string what)
        {
            var deadline = DateTime.UtcNow + Deadline;
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what} ({keys.Count} keys processed).");
                foreach (var c in consumers)
                {
                    for (var i = 0; i < 50 && c.Consume(TimeSpan.FromMilliseconds(i == 0 ? 20 : 0)) is { IsPartitionEOF: false } r; i++) Process(c, r);
                    CommitPending(c);
                }
            }
        }

        var active = new List<IConsumer<string, string>> { NewConsumer(), NewConsumer(), NewConsumer() };
        var all = new List<IConsumer<string, string>>(active);
        try
        {
            PumpUntil(active, () => CoverDisjointly(active, 6), "three consumers own all six partitions");
            await ProduceAsync(topic, 0, perPhase);
            PumpUntil(active, () => keys.Count >= perPhase / 2, "half of the first records are processed");

            // One consumer leaves while records are still arriving.
            var leaving = active[0];
            active.Remove(leaving);
            leaving.Close();
            var produced = ProduceAsync(topic, perPhase, perPhase);
            PumpUntil(active, () => CoverDisjointly(active, 6), "the two remaining consumers own all six partitions");
            await produced;
            PumpUntil(active, () => keys.Count >= perPhase * 3 / 2, "most of the second records are processed");

            // A new consumer joins while records are still arriving.
            var joining = NewConsumer();
            active.Add(joining);
            all.Add(joining);
            produced = ProduceAsync(topic, 2 * perPhase, perPhase / 2);
            PumpUntil(active, () => CoverDisjointly(active, 6), "three consumers own all six partitions again");
            await produced;
            await ProduceAsync(topic, 2 * perPhase + (perPhase / 2), perPhase / 2);
            PumpUntil(active, () => keys.Count == 3 * perPhase, "every record is processed");

            Assert.All(processed, p => Assert.Equal(1, p.Value));
            Assert.Equal(3 * perPhase, processed.Count);
            Assert.True(processedBy[joining] > 0, "The consumer that joined processed nothing.");
            Assert.True(processedBy[leaving] > 0, "The consumer that left processed nothing.");
            var lag = await _broker.Services.GetRequiredService<GroupLagService>().GetLagAsync("once-group");
            Assert.Equal(6, lag.Partitions.Count);
            Assert.Equal(0, lag.TotalLag);
        }
        finally
        {
            foreach (var c in active) c.Close();
            foreach (var c in all) c.Dispose();
        }
    }

    [Fact]
    public async Task A_cooperative_sticky_member_keeps_consuming_the_partitions_it_keeps_while_a_member_joins()
    {
        await Clients.CreateTopicAsync(_broker, "incremental", 6);
        var revokedFromFirst = new List<int>();
        var first = GroupConsumer("incremental-group", c => c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            b => b.SetPartitionsRevokedHandler((_, revoked) => revokedFromFirst.AddRange(revoked.Select(r => r.Partition.Value))));
        var second = GroupConsumer("incremental-group", c => c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky);
        var third = GroupConsumer("incremental-group", c => c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky);
        try
        {
            first.Subscribe("incremental");
            PollUntil([first], () => first.Assignment.Count == 6, "the first consumer owns all six partitions");

            second.Subscribe("incremental");
            PollUntil([first, second], () => CoverDisjointly([first, second], 6) && first.Assignment.Count == 3, "two consumers own three partitions each");
            // Only what moved to the second consumer was revoked from the first: an eager rebalance would revoke all six.
            Assert.Equal(Owned(second).Order(), revokedFromFirst.Order());
            var keptByFirst = Owned(first);

            third.Subscribe("incremental");
            PollUntil([first, second, third], () => CoverDisjointly([first, second, third], 6) && Owned(third).Count == 2, "three consumers own two partitions each");
            Assert.Subset(keptByFirst, Owned(first));
            Assert.Equal(6 - 2, revokedFromFirst.Count);
        }
        finally
        {
            foreach (var c in new[] { first, second, third }) c.Close();
            foreach (var c in new[] { first, second, third }) c.Dispose();
        }
    }

    [Fact]
    public async Task A_static_member_that_does_not_come_back_within_its_session_timeout_loses_its_partitions()
    {
        await Clients.CreateTopicAsync(_broker, "static-gone", 4);
        var stays = GroupConsumer("static-gone-group", c => c.GroupInstanceId = "stays");
        var goes = GroupConsumer("static-gone-group", c => c.GroupInstanceId = "goes");
        try
        {
            stays.Subscribe("static-gone");
            goes.Subscribe("static-gone");
            PollUntil([stays, goes], () => CoverDisjointly([stays, goes], 4), "both static members own partitions");
            var generation = await Coordinator.GenerationOfAsync("static-gone-group");

            // A static member sends no LeaveGroup on close: its partitions wait for it until its session times out.
            goes.Close();
            var closed = Stopwatch.StartNew();
            PollUntil([stays], () => stays.Assignment.Count == 4, "the remaining member owns all four partitions");

            Assert.True(closed.Elapsed >= TimeSpan.FromMilliseconds(SessionTimeoutMs - 1000),
                $"The group rebalanced {closed.Elapsed.TotalMilliseconds:F0} ms after the static member closed.");
            Assert.True(await Coordinator.GenerationOfAsync("static-gone-group") > generation);
            Assert.Single((await Coordinator.DescribeGroupAsync("static-gone-group", default)).Members);
        }
        finally
        {
            stays.Close();
            stays.Dispose();
            goes.Dispose();
        }
    }
}
