using Brook.Broker;
using Confluent.Kafka;

namespace Brook.Cli.Tests;

public sealed class GroupCommandTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    /// <summary>A real consumer joins <paramref name="group"/>, owns every partition and commits <paramref name="commits"/> (partition → offset).</summary>
    private IConsumer<string, string> JoinAndCommit(string group, string topic, int partitions, Dictionary<int, long> commits)
    {
        var consumer = Kafka.Consumer(_broker, group);
        consumer.Subscribe(topic);
        Kafka.PollUntil(consumer, () => consumer.Assignment.Count == partitions, $"the consumer owns all {partitions} partitions");
        consumer.Commit(commits.Select(c => new TopicPartitionOffset(topic, c.Key, c.Value)));
        return consumer;
    }

    [Fact]
    public async Task Describe_shows_a_real_consumer_groups_lag_per_partition()
    {
        await Kafka.CreateTopicAsync(_broker, "lagging", 3);
        await Kafka.FillAsync(_broker, "lagging", 5, 7, 3);
        using var consumer = JoinAndCommit("lag-group", "lagging", 3, new() { [0] = 2, [1] = 7, [2] = 0 });

        var result = (await Cli.RunAsync(_broker, "groups", "describe", "lag-group")).Ok();

        Assert.Equal(["0", "1", "2"], result.Column("PARTITION"));
        Assert.Equal(["2", "7", "0"], result.Column("CURRENT-OFFSET"));
        Assert.Equal(["5", "7", "3"], result.Column("LOG-END-OFFSET"));
        Assert.Equal(["3", "0", "3"], result.Column("LAG"));
        Assert.All(result.Column("CONSUMER-ID"), id => Assert.Equal(consumer.MemberId, id));
        Assert.All(result.Column("GROUP"), g => Assert.Equal("lag-group", g));

        var members = (await Cli.RunAsync(_broker, "groups", "describe", "lag-group", "--members")).Ok();
        var member = Assert.Single(members.Rows);
        Assert.Equal(consumer.MemberId, member[Array.IndexOf(members.Header, "MEMBER-ID")]);
        Assert.Equal("lagging-0,lagging-1,lagging-2", member[Array.IndexOf(members.Header, "ASSIGNMENT")]);

        var state = (await Cli.RunAsync(_broker, "groups", "describe", "lag-group", "--state")).Ok();
        Assert.Equal(["Stable"], state.Column("STATE"));
        Assert.Equal(["1"], state.Column("MEMBERS"));
        Assert.Equal(["6"], state.Column("TOTAL-LAG"));
    }

    [Fact]
    public async Task Describe_and_reset_still_work_after_a_topic_the_group_read_is_deleted()
    {
        await Kafka.CreateTopicAsync(_broker, "read-then-deleted", 1);
        await Kafka.CreateTopicAsync(_broker, "still-here", 1);
        await Kafka.FillAsync(_broker, "still-here", 4);
        using (var consumer = Kafka.Consumer(_broker, "outlived"))
            consumer.Commit([new TopicPartitionOffset("read-then-deleted", 0, 0), new TopicPartitionOffset("still-here", 0, 1)]);
        (await Cli.RunAsync(_broker, "topics", "delete", "read-then-deleted")).Ok();

        var described = (await Cli.RunAsync(_broker, "groups", "describe", "outlived")).Ok();
        Assert.Equal(["still-here"], described.Column("TOPIC"));
        Assert.Equal(["3"], described.Column("LAG"));
        var reset = (await Cli.RunAsync(_broker, "groups", "reset-offsets", "outlived", "--all-topics", "--to-earliest", "--execute")).Ok();
        Assert.Equal(["still-here"], reset.Column("TOPIC"));
        Assert.Equal(0, (await Kafka.CommittedAsync(_broker, "outlived", "still-here"))[0]);
    }

    [Fact]
    public async Task Describe_shows_the_lag_of_a_consumer_protocol_group()
    {
        await Kafka.CreateTopicAsync(_broker, "kip848", 2);
        await Kafka.FillAsync(_broker, "kip848", 4, 6);
        using var consumer = Kafka.Consumer(_broker, "next-gen", c =>
        {
            c.GroupProtocol = Confluent.Kafka.GroupProtocol.Consumer;
            c.SessionTimeoutMs = null;
        });
        consumer.Subscribe("kip848");
        Kafka.PollUntil(consumer, () => consumer.Assignment.Count == 2, "the consumer owns both partitions");
        consumer.Commit([new TopicPartitionOffset("kip848", 0, 1), new TopicPartitionOffset("kip848", 1, 6)]);

        var result = (await Cli.RunAsync(_broker, "groups", "describe", "next-gen")).Ok();

        Assert.Equal(["1", "6"], result.Column("CURRENT-OFFSET"));
        Assert.Equal(["3", "0"], result.Column("LAG"));
        Assert.All(result.Column("CONSUMER-ID"), id => Assert.NotEqual("-", id));
        var state = (await Cli.RunAsync(_broker, "groups", "list")).Ok();
        Assert.Contains(state.Rows, r => r[0] == "next-gen" && r[2] == "Consumer");
    }

    [Fact]
    public async Task Reset_of_a_new_group_commits_its_first_offsets()
    {
        await Kafka.CreateTopicAsync(_broker, "fresh", 2);
        await Kafka.FillAsync(_broker, "fresh", 3, 5);

        var plan = (await Cli.RunAsync(_broker, "groups", "reset-offsets", "newcomers", "--topic", "fresh", "--to-latest", "--execute")).Ok();

        Assert.Equal(["-", "-"], plan.Column("CURRENT-OFFSET"));
        Assert.Equal(new Dictionary<int, long> { [0] = 3, [1] = 5 }, await Kafka.CommittedAsync(_broker, "newcomers", "fresh"));
    }

    [Fact]
    public async Task List_shows_groups_with_their_state()
    {
        await Kafka.CreateTopicAsync(_broker, "listed", 1);
        using (var consumer = JoinAndCommit("listed-group", "listed", 1, new() { [0] = 0 }))
        {
            var active = (await Cli.RunAsync(_broker, "groups", "list")).Ok();
            Assert.Contains(active.Rows, r => r[0] == "listed-group" && r[1] == "Stable");
            consumer.Close();
        }
        var closed = (await Cli.RunAsync(_broker, "groups", "list")).Ok();
        Assert.Contains(closed.Rows, r => r[0] == "listed-group" && r[1] == "Empty");
    }

    [Fact]
    public async Task Describing_an_unknown_group_exits_not_found()
    {
        var result = (await Cli.RunAsync(_broker, "groups", "describe", "nobody")).Fails(ExitCodes.NotFound);
        Assert.Contains("'nobody'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reset_dry_run_changes_nothing_and_execute_moves_offsets_where_a_real_consumer_then_starts()
    {
        await Kafka.CreateTopicAsync(_broker, "replay", 2);
        await Kafka.FillAsync(_broker, "replay", 6, 4);
        using (var first = JoinAndCommit("replayers", "replay", 2, new() { [0] = 6, [1] = 4 }))
            first.Close();

        var dryRun = (await Cli.RunAsync(_broker, "groups", "reset-offsets", "replayers", "--topic", "replay", "--to-earliest")).Ok();
        Assert.Equal(["6", "4"], dryRun.Column("CURRENT-OFFSET"));
        Assert.Equal(["0", "0"], dryRun.Column("NEW-OFFSET"));
        Assert.Contains("dry run", dryRun.Error, StringComparison.Ordinal);
        Assert.Equal(new Dictionary<int, long> { [0] = 6, [1] = 4 }, await Kafka.CommittedAsync(_broker, "replayers", "replay"));

        var executed = (await Cli.RunAsync(_broker, "groups", "reset-offsets", "replayers", "--topic", "replay:0", "--shift-by", "-2", "--execute")).Ok();
        Assert.Equal(["4"], executed.Column("NEW-OFFSET"));
        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "replayers", "--topic", "replay:1", "--to-offset", "1", "--execute")).Ok();
        Assert.Equal(new Dictionary<int, long> { [0] = 4, [1] = 1 }, await Kafka.CommittedAsync(_broker, "replayers", "replay"));

        // A real consumer in the group resumes exactly at the reset offsets.
        using var second = Kafka.Consumer(_broker, "replayers");
        second.Subscribe("replay");
        var firstSeen = new Dictionary<int, long>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (firstSeen.Count < 2 && DateTime.UtcNow < deadline)
        {
            if (second.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false } r) firstSeen.TryAdd(r.Partition.Value, r.Offset.Value);
        }
        Assert.Equal(4, firstSeen[0]);
        Assert.Equal(1, firstSeen[1]);
        second.Close();
    }

    [Fact]
    public async Task Reset_to_latest_datetime_and_clamped_offsets_across_all_topics()
    {
        await Kafka.CreateTopicAsync(_broker, "timed", 1);
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        using (var producer = Kafka.Producer(_broker))
        {
            for (var i = 0; i < 5; i++)
            {
                await producer.ProduceAsync(new TopicPartition("timed", 0),
                    new Message<string, string> { Key = "k", Value = $"v{i}", Timestamp = new Timestamp(start.AddMinutes(i)) });
            }
        }
        using (var consumer = JoinAndCommit("timers", "timed", 1, new() { [0] = 1 }))
            consumer.Close();

        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "timers", "--all-topics", "--to-latest", "--execute")).Ok();
        Assert.Equal(5, (await Kafka.CommittedAsync(_broker, "timers", "timed"))[0]);

        var at = start.AddMinutes(2).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "timers", "--all-topics", "--to-datetime", at, "--execute")).Ok();
        Assert.Equal(2, (await Kafka.CommittedAsync(_broker, "timers", "timed"))[0]);

        var clamped = (await Cli.RunAsync(_broker, "groups", "reset-offsets", "timers", "--all-topics", "--to-offset", "100")).Ok();
        Assert.Equal(["5"], clamped.Column("NEW-OFFSET"));
    }

    [Fact]
    public async Task Reset_is_refused_while_the_group_has_active_members()
    {
        await Kafka.CreateTopicAsync(_broker, "busy", 1);
        await Kafka.FillAsync(_broker, "busy", 3);
        using var consumer = JoinAndCommit("busy-group", "busy", 1, new() { [0] = 3 });

        var dryRun = (await Cli.RunAsync(_broker, "groups", "reset-offsets", "busy-group", "--topic", "busy", "--to-earliest")).Ok();
        Assert.Contains("active member", dryRun.Error, StringComparison.Ordinal);

        var refused = (await Cli.RunAsync(_broker, "groups", "reset-offsets", "busy-group", "--topic", "busy", "--to-earliest", "--execute")).Fails(ExitCodes.Conflict);
        Assert.Contains("inactive", refused.Error, StringComparison.Ordinal);
        Assert.Equal(3, (await Kafka.CommittedAsync(_broker, "busy-group", "busy"))[0]);
    }

    [Fact]
    public async Task Reset_needs_exactly_one_strategy_and_one_scope()
    {
        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "g", "--topic", "t")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "g", "--topic", "t", "--to-earliest", "--to-latest")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "g", "--to-earliest")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "g", "--all-topics", "--to-datetime", "yesterday-ish")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "groups", "reset-offsets", "g", "--topic", "no-such-topic", "--to-earliest")).Fails(ExitCodes.NotFound);
    }

    [Fact]
    public async Task Delete_removes_an_inactive_group_and_refuses_an_active_one()
    {
        await Kafka.CreateTopicAsync(_broker, "deleting", 1);
        using var active = JoinAndCommit("still-here", "deleting", 1, new() { [0] = 0 });
        using (var consumer = JoinAndCommit("gone", "deleting", 1, new() { [0] = 0 }))
            consumer.Close();

        (await Cli.RunAsync(_broker, "groups", "delete", "gone")).Ok();
        var listed = (await Cli.RunAsync(_broker, "groups", "list")).Ok();
        Assert.DoesNotContain(listed.Rows, r => r[0] == "gone");
        Assert.Empty(await Kafka.CommittedAsync(_broker, "gone", "deleting"));

        (await Cli.RunAsync(_broker, "groups", "delete", "still-here")).Fails(ExitCodes.Conflict);
        (await Cli.RunAsync(_broker, "groups", "delete", "never-was")).Fails(ExitCodes.NotFound);
    }
}
