using Confluent.Kafka;

namespace Brook.Broker.Tests.Groups;

/// <summary>Committed offsets follow their topic: deleted with it, never committed for a partition the broker lacks.</summary>
public sealed class DeletedTopicOffsetTests
{
    private static async Task<List<TopicPartitionOffset>> CommittedAsync(IAdminClient admin, string group)
    {
        var result = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, null)]);
        return result.Single().Partitions.Where(p => p.Offset.Value >= 0).Select(p => p.TopicPartitionOffset).ToList();
    }

    [Fact]
    public async Task Deleting_a_topic_deletes_the_offsets_groups_committed_for_it()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "short-lived", 2);
        await Clients.CreateTopicAsync(broker, "kept", 1);
        using (var consumer = Clients.Consumer(broker, c => c.GroupId = "survivors"))
        {
            consumer.Commit([
                new TopicPartitionOffset("short-lived", 0, 4),
                new TopicPartitionOffset("short-lived", 1, 2),
                new TopicPartitionOffset("kept", 0, 7),
            ]);
        }
        using var admin = Clients.Admin(broker);
        Assert.Equal(3, (await CommittedAsync(admin, "survivors")).Count);

        await admin.DeleteTopicsAsync(["short-lived"]);

        var left = Assert.Single(await CommittedAsync(admin, "survivors"));
        Assert.Equal(new TopicPartitionOffset("kept", 0, 7), left);

        // A topic created again under the same name starts without the old offsets.
        await Clients.CreateTopicAsync(broker, "short-lived", 2);
        Assert.DoesNotContain(await CommittedAsync(admin, "survivors"), p => p.Topic == "short-lived");
    }

    [Fact]
    public async Task Offsets_for_a_topic_or_partition_the_broker_lacks_are_refused()
    {
        await using var broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(broker, "two-partitions", 2);
        using var consumer = Clients.Consumer(broker, c => c.GroupId = "careless");

        // librdkafka reports the first partition error for the whole commit.
        var refused = Assert.ThrowsAny<KafkaException>(() => consumer.Commit([
            new TopicPartitionOffset("two-partitions", 0, 3),
            new TopicPartitionOffset("two-partitions", 5, 3),
            new TopicPartitionOffset("never-created", 0, 1),
        ]));

        Assert.Equal(ErrorCode.UnknownTopicOrPart, refused.Error.Code);
        using var admin = Clients.Admin(broker);
        Assert.Equal([new TopicPartitionOffset("two-partitions", 0, 3)], await CommittedAsync(admin, "careless"));
    }
}
