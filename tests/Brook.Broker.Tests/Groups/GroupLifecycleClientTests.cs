using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Broker.Tests.Groups;

/// <summary>Group membership that follows what real Confluent.Kafka consumers do: closing, and subscriptions that change.</summary>
public sealed class GroupLifecycleClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private BrookBroker _broker = null!;

    // Without auto creation a consumer's metadata request cannot bring a deleted topic back.
    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["auto.create.topics.enable"] = "false" },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private IConsumer<string, string> Consumer(string group, GroupProtocol protocol) => Clients.Consumer(_broker, c =>
    {
        c.GroupId = group;
        c.GroupProtocol = protocol;
        c.TopicMetadataRefreshIntervalMs = 500;
    });

    private static void PollUntil(IEnumerable<IConsumer<string, string>> consumers, Func<bool> condition, string what)
    {
        var list = consumers.ToList();
        var deadline = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            foreach (var c in list)
            {
                try
                {
                    c.Consume(TimeSpan.FromMilliseconds(20));
                }
                catch (ConsumeException)
                {
                    // librdkafka reports a deleted subscribed topic as an error, against Kafka too; polling goes on.
                }
            }
        }
    }

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public async Task A_group_can_be_deleted_as_soon_as_its_consumers_have_closed(GroupProtocol protocol)
    {
        await Clients.CreateTopicAsync(_broker, "closing", 4);
        var group = "closing-" + protocol;
        var consumers = new[] { Consumer(group, protocol), Consumer(group, protocol) };
        foreach (var c in consumers) c.Subscribe("closing");
        PollUntil(consumers, () => consumers.Sum(c => c.Assignment.Count) == 4 && consumers.All(c => c.Assignment.Count > 0), "both consumers are assigned");

        // A third member joining makes the others close in the middle of a rebalance.
        var late = Consumer(group, protocol);
        late.Subscribe("closing");
        late.Consume(TimeSpan.FromMilliseconds(200));
        foreach (var c in consumers.Append(late))
        {
            c.Close();
            c.Dispose();
        }
        using var admin = Clients.Admin(_broker);
        await admin.DeleteGroupsAsync([group]);
        var listed = await admin.ListConsumerGroupsAsync();
        Assert.DoesNotContain(listed.Valid, g => g.GroupId == group);
    }

    private static HashSet<string> Owned(IConsumer<string, string> consumer) =>
        consumer.Assignment.Select(tp => $"{tp.Topic}-{tp.Partition.Value}").ToHashSet();

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public async Task Partitions_of_a_deleted_topic_are_dropped_and_added_partitions_assigned(GroupProtocol protocol)
    {
        await Clients.CreateTopicAsync(_broker, "kept", 2);
        await Clients.CreateTopicAsync(_broker, "dropped", 2);
        var group = "changing-" + protocol;
        using var consumer = Consumer(group, protocol);
        consumer.Subscribe(["kept", "dropped"]);
        PollUntil([consumer], () => Owned(consumer).SetEquals(["kept-0", "kept-1", "dropped-0", "dropped-1"]), "the consumer owns both topics");

        using var admin = Clients.Admin(_broker);
        await admin.DeleteTopicsAsync(["dropped"]);
        PollUntil([consumer], () => Owned(consumer).SetEquals(["kept-0", "kept-1"]), "the deleted topic's partitions are dropped");

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "kept", IncreaseTo = 4 }]);
        PollUntil([consumer], () => Owned(consumer).SetEquals(["kept-0", "kept-1", "kept-2", "kept-3"]), "the added partitions are assigned");
        consumer.Close();
    }

    [Fact]
    public async Task A_consumer_protocol_member_that_changes_its_regular_expression_owns_only_what_the_new_one_matches()
    {
        await Clients.CreateTopicAsync(_broker, "wide", 10);
        await Clients.CreateTopicAsync(_broker, "narrow", 2);
        using var consumer = Consumer("regex-change", GroupProtocol.Consumer);
        consumer.Subscribe("^wi.*");
        PollUntil([consumer], () => Owned(consumer).Count == 10 && Owned(consumer).All(p => p.StartsWith("wide-", StringComparison.Ordinal)), "the first expression's partitions are owned");

        consumer.Subscribe("^nar.*");
        PollUntil([consumer], () => Owned(consumer).SetEquals(["narrow-0", "narrow-1"]), "only the new expression's partitions are owned");
        using var admin = Clients.Admin(_broker);
        var described = (await admin.DescribeConsumerGroupsAsync(["regex-change"])).ConsumerGroupDescriptions.Single();
        var member = Assert.Single(described.Members);
        Assert.Equal(["narrow-0", "narrow-1"], member.Assignment.TopicPartitions.Select(tp => $"{tp.Topic}-{tp.Partition.Value}").Order(StringComparer.Ordinal));
        consumer.Close();
    }
}
