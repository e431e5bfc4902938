using Brook.Broker.Tests.Security;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Tests;

/// <summary>What an operator reads in the broker's log: topic changes, rebalances, refused logins, slow requests.</summary>
public sealed class OperationalLogTests
{
    private static BrokerOptions Options(Dictionary<string, string>? configs = null)
    {
        var options = new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], InMemory = true };
        options.Configs["group.initial.rebalance.delay.ms"] = "0";
        foreach (var (key, value) in configs ?? []) options.Configs[key] = value;
        return options;
    }

    [Fact]
    public async Task Topic_creation_config_changes_and_deletion_are_logged()
    {
        var log = new LogCapture();
        await using var broker = await BrookBroker.StartAsync(Options(), log.AddTo);
        await Clients.CreateTopicAsync(broker, "ops-logged", 3, new Dictionary<string, string> { ["retention.ms"] = "60000" });
        var created = await log.WaitForAsync(l => l.Message.StartsWith("Created topic ops-logged", StringComparison.Ordinal), "for the creation");
        Assert.Equal(LogLevel.Information, created.Level);
        Assert.Equal("Brook.Broker.Topics.TopicService", created.Category);
        Assert.Contains("3 partitions", created.Message, StringComparison.Ordinal);
        Assert.Contains("retention.ms=60000", created.Message, StringComparison.Ordinal);

        using (var admin = Clients.Admin(broker))
        {
            var resource = new ConfigResource { Type = Confluent.Kafka.Admin.ResourceType.Topic, Name = "ops-logged" };
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
            {
                [resource] = [new ConfigEntry { Name = "retention.ms", Value = "120000", IncrementalOperation = AlterConfigOpType.Set }],
            });
            var changed = await log.WaitForAsync(l => l.Message.StartsWith("Changed the configs of topic ops-logged", StringComparison.Ordinal), "for the config change");
            Assert.Contains("from retention.ms=60000 to retention.ms=120000", changed.Message, StringComparison.Ordinal);

            await admin.DeleteTopicsAsync(["ops-logged"]);
        }
        await log.WaitForAsync(l => l.Message.StartsWith("Deleted topic ops-logged with 3 partitions", StringComparison.Ordinal), "for the deletion");
    }

    [Fact]
    public async Task A_refused_login_is_logged_as_a_warning()
    {
        var log = new LogCapture();
        var options = Options(new() { ["sasl.plain.users"] = "alice:alice-pw", ["connection.failed.authentication.delay.ms"] = "0" });
        options.Listeners = ["SASL_PLAINTEXT://127.0.0.1:0"];
        await using var broker = await BrookBroker.StartAsync(options, log.AddTo);
        using (var admin = new AdminClientBuilder(SecureClients.Sasl(new AdminClientConfig(), broker, "SASL_PLAINTEXT", SaslMechanism.Plain, "alice", "wrong")).Build())
        {
            Assert.ThrowsAny<KafkaException>(() => admin.GetMetadata(TimeSpan.FromSeconds(5)));
        }
        var refused = await log.WaitForAsync(l => l.Message.StartsWith("Failed authentication", StringComparison.Ordinal), "for the refused login");
        Assert.Equal(LogLevel.Warning, refused.Level);
        Assert.Contains("SASL_PLAINTEXT", refused.Message, StringComparison.Ordinal);
        Assert.Contains("PLAIN", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_slower_than_log_slow_request_ms_are_logged_with_api_client_and_duration()
    {
        var log = new LogCapture();
        await using var broker = await BrookBroker.StartAsync(Options(new() { ["log.slow.request.ms"] = "0" }), log.AddTo);
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers, ClientId = "slow-watcher" }).Build())
            admin.GetMetadata(TimeSpan.FromSeconds(10));
        var slow = await log.WaitForAsync(l => l.Message.StartsWith("Slow request: Metadata", StringComparison.Ordinal), "for the slow request");
        Assert.Equal(LogLevel.Warning, slow.Level);
        Assert.Contains("client 'slow-watcher'", slow.Message, StringComparison.Ordinal);
        Assert.Matches(@"took \d+ ms \(log\.slow\.request\.ms=0\)", slow.Message);
    }

    [Fact]
    public async Task Requests_under_the_threshold_are_not_logged()
    {
        var log = new LogCapture();
        await using var broker = await BrookBroker.StartAsync(Options(), log.AddTo);
        using (var admin = Clients.Admin(broker)) admin.GetMetadata(TimeSpan.FromSeconds(10));
        await Clients.CreateTopicAsync(broker, "quick", 1);
        await log.WaitForAsync(l => l.Message.StartsWith("Created topic quick", StringComparison.Ordinal), "for the creation");
        Assert.DoesNotContain(log.Lines, l => l.Message.StartsWith("Slow request", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_group_rebalance_is_logged_with_its_generation_and_members()
    {
        var log = new LogCapture();
        await using var broker = await BrookBroker.StartAsync(Options(), log.AddTo);
        await Clients.CreateTopicAsync(broker, "rebalanced", 2);
        using var consumer = Clients.Consumer(broker, c => c.GroupId = "ops-group");
        consumer.Subscribe("rebalanced");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (consumer.Assignment.Count == 0 && DateTime.UtcNow < deadline) consumer.Consume(TimeSpan.FromMilliseconds(100));
        var rebalanced = await log.WaitForAsync(l => l.Message.StartsWith("Group ops-group rebalanced", StringComparison.Ordinal), "for the rebalance");
        Assert.Contains("generation 1 with 1 members", rebalanced.Message, StringComparison.Ordinal);
        Assert.Contains(consumer.MemberId, rebalanced.Message, StringComparison.Ordinal);
        consumer.Close();
    }

    [Fact]
    public async Task A_consumer_protocol_assignment_is_logged_with_its_group_epoch_and_members()
    {
        var log = new LogCapture();
        await using var broker = await BrookBroker.StartAsync(Options(), log.AddTo);
        await Clients.CreateTopicAsync(broker, "reassigned", 2);
        using var consumer = Clients.Consumer(broker, c =>
        {
            c.GroupId = "ops-848";
            c.GroupProtocol = GroupProtocol.Consumer;
        });
        consumer.Subscribe("reassigned");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (consumer.Assignment.Count == 0 && DateTime.UtcNow < deadline) consumer.Consume(TimeSpan.FromMilliseconds(100));
        var assigned = await log.WaitForAsync(l => l.Message.StartsWith("Group ops-848 (consumer protocol)", StringComparison.Ordinal), "for the assignment");
        Assert.Matches(@"group epoch [1-9]\d* with 1 members, assignor \w+", assigned.Message);
        Assert.Contains(consumer.MemberId, assigned.Message, StringComparison.Ordinal);
        consumer.Close();
    }
}
