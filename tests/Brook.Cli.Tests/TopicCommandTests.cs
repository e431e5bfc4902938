using Brook.Broker;

namespace Brook.Cli.Tests;

public sealed class TopicCommandTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Create_makes_the_topic_with_its_partitions_and_configs()
    {
        (await Cli.RunAsync(_broker, "topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000", "--config", "cleanup.policy=compact")).Ok();

        var topic = _broker.Store.GetTopic("orders");
        Assert.NotNull(topic);
        Assert.Equal(3, topic.PartitionCount);
        Assert.Equal("3600000", topic.Configs["retention.ms"]);
        Assert.Equal("compact", topic.Configs["cleanup.policy"]);
    }

    [Fact]
    public async Task Creating_an_existing_topic_is_a_conflict_unless_if_not_exists()
    {
        (await Cli.RunAsync(_broker, "topics", "create", "twice")).Ok();

        var again = (await Cli.RunAsync(_broker, "topics", "create", "twice")).Fails(ExitCodes.Conflict);
        Assert.Contains("twice", again.Error, StringComparison.Ordinal);
        (await Cli.RunAsync(_broker, "topics", "create", "twice", "--if-not-exists")).Ok();
    }

    [Fact]
    public async Task Validate_only_creates_nothing_and_invalid_configs_are_usage_errors()
    {
        (await Cli.RunAsync(_broker, "topics", "create", "dry", "--validate-only")).Ok();
        Assert.Null(_broker.Store.GetTopic("dry"));

        (await Cli.RunAsync(_broker, "topics", "create", "bad", "--config", "cleanup.policy=sometimes")).Fails(ExitCodes.Usage);
        Assert.Null(_broker.Store.GetTopic("bad"));
    }

    [Fact]
    public async Task List_shows_topics_and_can_leave_out_internal_ones()
    {
        await Kafka.CreateTopicAsync(_broker, "listed", 2);
        await Kafka.FillAsync(_broker, "listed", 1);
        // A committed offset makes the broker create __consumer_offsets.
        using (var consumer = Kafka.Consumer(_broker, "list-group"))
        {
            consumer.Assign(new Confluent.Kafka.TopicPartitionOffset("listed", 0, 0));
            consumer.Commit([new Confluent.Kafka.TopicPartitionOffset("listed", 0, 1)]);
        }

        var all = (await Cli.RunAsync(_broker, "topics", "list")).Ok();
        Assert.Equal(["TOPIC", "PARTITIONS", "REPLICATION", "INTERNAL"], all.Header);
        Assert.Contains(all.Rows, r => r[0] == "listed" && r[1] == "2" && r[3] == "false");
        Assert.Contains(all.Rows, r => r[0] == "__consumer_offsets" && r[3] == "true");

        var user = (await Cli.RunAsync(_broker, "topics", "list", "--exclude-internal", "--no-headers")).Ok();
        Assert.Contains(user.Lines, l => l.StartsWith("listed\t", StringComparison.Ordinal));
        Assert.DoesNotContain(user.Lines, l => l.StartsWith("__consumer_offsets", StringComparison.Ordinal) || l.StartsWith("TOPIC", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Describe_shows_each_partition_with_its_start_and_end_offsets()
    {
        await Kafka.CreateTopicAsync(_broker, "described", 3);
        await Kafka.FillAsync(_broker, "described", 4, 0, 2);

        var result = (await Cli.RunAsync(_broker, "topics", "describe", "described")).Ok();

        Assert.Equal(["0", "1", "2"], result.Column("PARTITION"));
        Assert.Equal(["4", "0", "2"], result.Column("END-OFFSET"));
        Assert.Equal(["0", "0", "0"], result.Column("START-OFFSET"));
        Assert.Equal(["4", "0", "2"], result.Column("MESSAGES"));
        Assert.All(result.Column("LEADER"), leader => Assert.Equal(_broker.Node.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture), leader));
    }

    [Fact]
    public async Task Describing_an_unknown_topic_exits_not_found_and_does_not_create_it()
    {
        var result = (await Cli.RunAsync(_broker, "topics", "describe", "missing")).Fails(ExitCodes.NotFound);
        Assert.Contains("'missing' does not exist", result.Error, StringComparison.Ordinal);
        Assert.Null(_broker.Store.GetTopic("missing"));
    }

    [Fact]
    public async Task Delete_removes_topics_and_unknown_ones_are_not_found_unless_if_exists()
    {
        await Kafka.CreateTopicAsync(_broker, "doomed", 1);

        (await Cli.RunAsync(_broker, "topics", "delete", "doomed")).Ok();
        Assert.Null(_broker.Store.GetTopic("doomed"));

        (await Cli.RunAsync(_broker, "topics", "delete", "doomed")).Fails(ExitCodes.NotFound);
        (await Cli.RunAsync(_broker, "topics", "delete", "doomed", "--if-exists")).Ok();
    }

    [Fact]
    public async Task Alter_config_sets_and_removes_overrides_and_keeps_the_others()
    {
        (await Cli.RunAsync(_broker, "topics", "create", "tuned", "--config", "retention.ms=1000", "--config", "segment.bytes=1048576")).Ok();

        (await Cli.RunAsync(_broker, "topics", "alter-config", "tuned", "--set", "cleanup.policy=compact", "--delete", "retention.ms")).Ok();

        var configs = _broker.Store.GetTopic("tuned")!.Configs;
        Assert.Equal("compact", configs["cleanup.policy"]);
        Assert.Equal("1048576", configs["segment.bytes"]);
        Assert.False(configs.TryGetValue("retention.ms", out var retention) && retention == "1000");
    }

    [Fact]
    public async Task Alter_config_needs_something_to_change_and_a_known_topic()
    {
        await Kafka.CreateTopicAsync(_broker, "untouched", 1);
        (await Cli.RunAsync(_broker, "topics", "alter-config", "untouched")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "topics", "alter-config", "untouched", "--set", "retention.ms")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "topics", "alter-config", "nowhere", "--set", "retention.ms=5")).Fails(ExitCodes.NotFound);
    }

    [Fact]
    public async Task Add_partitions_grows_the_topic_and_cannot_shrink_it()
    {
        await Kafka.CreateTopicAsync(_broker, "growing", 2);

        (await Cli.RunAsync(_broker, "topics", "add-partitions", "growing", "--partitions", "5")).Ok();
        Assert.Equal(5, _broker.Store.GetTopic("growing")!.PartitionCount);

        (await Cli.RunAsync(_broker, "topics", "add-partitions", "growing", "--partitions", "3")).Fails(ExitCodes.Usage);
        Assert.Equal(5, _broker.Store.GetTopic("growing")!.PartitionCount);
        (await Cli.RunAsync(_broker, "topics", "add-partitions", "nowhere", "--partitions", "3")).Fails(ExitCodes.NotFound);
    }

    [Fact]
    public async Task Bad_arguments_are_usage_errors_with_a_hint()
    {
        var unknownOption = (await Cli.RunAsync(_broker, "topics", "create", "x", "--partitionz", "3")).Fails(ExitCodes.Usage);
        Assert.Contains("brook topics create --help", unknownOption.Error, StringComparison.Ordinal);
        (await Cli.RunAsync(_broker, "topics", "create")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "topics", "create", "x", "--partitions", "many")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "topics", "create", "x", "--config", "noequals")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "topics", "frobnicate")).Fails(ExitCodes.Usage);
        Assert.Null(_broker.Store.GetTopic("x"));
    }
}
