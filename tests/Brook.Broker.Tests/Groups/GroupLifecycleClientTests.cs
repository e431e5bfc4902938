using Confluent.Kafka;

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
            foreach (var c in list) c.Consume(TimeSpan.FromMilliseconds(20));
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
}
