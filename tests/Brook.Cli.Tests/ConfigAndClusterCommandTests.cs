using System.Globalization;
using Brook.Broker;

namespace Brook.Cli.Tests;

public sealed class ConfigAndClusterCommandTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private string BrokerId => _broker.Node.NodeId.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Cluster_describe_lists_the_broker_as_controller_and_the_cluster_id()
    {
        var result = (await Cli.RunAsync(_broker, "cluster", "describe")).Ok();

        var row = Assert.Single(result.Rows);
        Assert.Equal(BrokerId, row[0]);
        Assert.Equal(_broker.BootstrapServers, $"{row[1]}:{row[2]}");
        Assert.Equal("true", row[4]);
        Assert.Contains(_broker.Node.ClusterId, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Topic_configs_are_described_with_sources_and_all_shows_defaults()
    {
        await Kafka.CreateTopicAsync(_broker, "cfg", 1);
        (await Cli.RunAsync(_broker, "configs", "alter", "--topic", "cfg", "--set", "retention.ms=120000", "--set", "max.message.bytes=2048")).Ok();

        var overrides = (await Cli.RunAsync(_broker, "configs", "describe", "--topic", "cfg")).Ok();
        var retention = Assert.Single(overrides.Rows, r => r[0] == "retention.ms");
        Assert.Equal(["retention.ms", "120000", "DYNAMIC_TOPIC_CONFIG", "false"], retention);
        Assert.Contains(overrides.Rows, r => r[0] == "max.message.bytes" && r[1] == "2048");
        Assert.DoesNotContain(overrides.Rows, r => r[0] == "cleanup.policy");

        var all = (await Cli.RunAsync(_broker, "configs", "describe", "--topic", "cfg", "--all")).Ok();
        Assert.Contains(all.Rows, r => r[0] == "cleanup.policy" && r[1] == "delete" && r[2] == "DEFAULT_CONFIG");
        Assert.Equal("120000", _broker.Store.GetTopic("cfg")!.Configs["retention.ms"]);
    }

    [Fact]
    public async Task Configs_alter_deletes_overrides_back_to_defaults()
    {
        await Kafka.CreateTopicAsync(_broker, "cfg-reset", 1);
        (await Cli.RunAsync(_broker, "configs", "alter", "--topic", "cfg-reset", "--set", "retention.ms=5000")).Ok();
        (await Cli.RunAsync(_broker, "configs", "alter", "--topic", "cfg-reset", "--delete", "retention.ms")).Ok();

        var described = (await Cli.RunAsync(_broker, "configs", "describe", "--topic", "cfg-reset", "--all")).Ok();
        var retention = Assert.Single(described.Rows, r => r[0] == "retention.ms");
        Assert.Equal("604800000", retention[1]);
        Assert.NotEqual("DYNAMIC_TOPIC_CONFIG", retention[2]);
    }

    [Fact]
    public async Task Broker_configs_are_described_altered_dynamically_and_read_only_ones_refused_with_a_clear_error()
    {
        var all = (await Cli.RunAsync(_broker, "configs", "describe", "--broker", BrokerId, "--all")).Ok();
        Assert.Contains(all.Rows, r => r[0] == "auto.create.topics.enable" && r[1] == "true");

        // Dynamic broker configs change at run time, as in Kafka.
        (await Cli.RunAsync(_broker, "configs", "alter", "--broker", BrokerId, "--set", "log.retention.ms=1000")).Ok();
        var altered = (await Cli.RunAsync(_broker, "configs", "describe", "--broker", BrokerId, "--all")).Ok();
        Assert.Contains(altered.Rows, r => r[0] == "log.retention.ms" && r[1] == "1000");

        // Read-only ones are refused with Kafka's INVALID_REQUEST and a message saying so.
        var refused = (await Cli.RunAsync(_broker, "configs", "alter", "--broker", BrokerId, "--set", "auto.create.topics.enable=false")).Fails(ExitCodes.Usage);
        Assert.Contains("Cannot update these configs dynamically", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configs_need_exactly_one_entity_and_a_known_topic_and_valid_values()
    {
        (await Cli.RunAsync(_broker, "configs", "describe")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "configs", "describe", "--topic", "a", "--broker", "1")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "configs", "describe", "--topic", "unknown-cfg")).Fails(ExitCodes.NotFound);
        await Kafka.CreateTopicAsync(_broker, "cfg-bad", 1);
        (await Cli.RunAsync(_broker, "configs", "alter", "--topic", "cfg-bad", "--set", "retention.ms=soon")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "configs", "alter", "--topic", "cfg-bad")).Fails(ExitCodes.Usage);
    }
}
