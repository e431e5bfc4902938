using Brook.Protocol.Messages;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using BrookError = Brook.Protocol.ErrorCode;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace Brook.Broker.Tests;

/// <summary>Admin requests answered as a single Kafka node answers them, checked through kafkajs and Confluent.Kafka.</summary>
public sealed class AdminApiCompatibilityTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Kafkajs_lists_no_partition_reassignments_and_a_reassignment_to_this_node_completes()
    {
        await Clients.CreateTopicAsync(_broker, "moved", 2);
        var result = await ExternalClients.KafkaJsAsync(_broker.BootstrapServers, $$"""
            const before = await admin.listPartitionReassignments({});
            const asked = await admin.listPartitionReassignments({ topics: [{ topic: 'moved', partitions: [0, 1] }] });
            await admin.alterPartitionReassignments({ topics: [{ topic: 'moved', partitionAssignment: [{ partition: 0, replicas: [{{_broker.Node.NodeId}}] }, { partition: 1, replicas: [{{_broker.Node.NodeId}}] }] }] });
            const after = await admin.listPartitionReassignments({});
            out({ before: before.topics, asked: asked.topics, after: after.topics });
            """);
        Assert.Equal("""{"before":[],"asked":[],"after":[]}""", result!.ToJsonString());
    }

    [Fact]
    public async Task Kafkajs_gets_kafkas_errors_for_reassignments_a_single_node_cannot_make()
    {
        await Clients.CreateTopicAsync(_broker, "fixed", 1);
        var result = await ExternalClients.KafkaJsAsync(_broker.BootstrapServers, """
            const attempt = async topics => {
              try { await admin.alterPartitionReassignments({ topics }); return 'accepted'; }
              catch (e) { return (e.errors || [e]).map(x => `${x.topic}-${x.partition}:${x.type}`); }
            };
            out({
              otherBroker: await attempt([{ topic: 'fixed', partitionAssignment: [{ partition: 0, replicas: [2] }] }]),
              twoBrokers: await attempt([{ topic: 'fixed', partitionAssignment: [{ partition: 0, replicas: [1, 2] }] }]),
              noReplicas: await attempt([{ topic: 'fixed', partitionAssignment: [{ partition: 0, replicas: [] }] }]),
              unknownPartition: await attempt([{ topic: 'fixed', partitionAssignment: [{ partition: 5, replicas: [1] }] }]),
              unknownTopic: await attempt([{ topic: 'absent', partitionAssignment: [{ partition: 0, replicas: [1] }] }]),
            });
            """);
        Assert.Equal("fixed-0:INVALID_REPLICA_ASSIGNMENT", result!["otherBroker"]![0]!.GetValue<string>());
        Assert.Equal("fixed-0:INVALID_REPLICA_ASSIGNMENT", result["twoBrokers"]![0]!.GetValue<string>());
        Assert.Equal("fixed-0:INVALID_REPLICA_ASSIGNMENT", result["noReplicas"]![0]!.GetValue<string>());
        Assert.Equal("fixed-5:UNKNOWN_TOPIC_OR_PARTITION", result["unknownPartition"]![0]!.GetValue<string>());
        Assert.Equal("absent-0:UNKNOWN_TOPIC_OR_PARTITION", result["unknownTopic"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Kafkajs_describes_the_cluster()
    {
        var result = await ExternalClients.KafkaJsAsync(_broker.BootstrapServers, "out(await admin.describeCluster());");
        Assert.Equal(_broker.Node.ClusterId, result!["clusterId"]!.GetValue<string>());
        Assert.Equal(_broker.Node.NodeId, result["controller"]!.GetValue<int>());
        var broker = Assert.Single(result["brokers"]!.AsArray());
        Assert.Equal(_broker.Node.NodeId, broker!["nodeId"]!.GetValue<int>());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(2)]
    public async Task Create_partitions_not_above_the_current_count_is_refused_with_invalid_partitions(int count)
    {
        await Clients.CreateTopicAsync(_broker, "three", 3);
        using var admin = Clients.Admin(_broker);
        var error = await Assert.ThrowsAsync<CreatePartitionsException>(() => admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "three", IncreaseTo = count }]));
        Assert.Equal(ErrorCode.InvalidPartitions, Assert.Single(error.Results).Error.Code);

        var js = await ExternalClients.KafkaJsErrorAsync(_broker.BootstrapServers, $"await admin.createPartitions({{ topicPartitions: [{{ topic: 'three', count: {count} }}] }});");
        Assert.Equal("INVALID_PARTITIONS", js["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_records_reports_each_partitions_error()
    {
        await Clients.CreateTopicAsync(_broker, "trimmed", 2);
        using (var producer = Clients.Producer(_broker))
        {
            for (var i = 0; i < 5; i++) await producer.ProduceAsync(new TopicPartition("trimmed", 0), new Message<string, string> { Key = "k", Value = "v" });
        }
        using var admin = Clients.Admin(_broker);
        var error = await Assert.ThrowsAsync<DeleteRecordsException>(() => admin.DeleteRecordsAsync(
            [new TopicPartitionOffset("trimmed", 0, 3), new TopicPartitionOffset("trimmed", 1, 10)]));
        var byPartition = error.Results.ToDictionary(r => r.Partition.Value);
        Assert.Equal(ErrorCode.NoError, byPartition[0].Error.Code);
        Assert.Equal(3, byPartition[0].Offset.Value);
        Assert.Equal(ErrorCode.OffsetOutOfRange, byPartition[1].Error.Code);
    }

    // Both clients refuse partitions missing from their metadata before sending, so the broker's side is checked on the wire.
    [Fact]
    public async Task Delete_records_for_a_partition_the_broker_lacks_is_unknown_with_no_low_watermark()
    {
        await Clients.CreateTopicAsync(_broker, "short", 1);
        using var client = await RawClient.ConnectAsync(_broker);
        var response = await client.SendAsync<DeleteRecordsResponse>(new DeleteRecordsRequest
        {
            Topics =
            [
                new DeleteRecordsRequest.DeleteRecordsTopic { Name = "short", Partitions = [new() { PartitionIndex = 4, Offset = 0 }, new() { PartitionIndex = 0, Offset = -2 }] },
                new DeleteRecordsRequest.DeleteRecordsTopic { Name = "missing", Partitions = [new() { PartitionIndex = 0, Offset = 0 }] },
            ],
            TimeoutMs = 1000,
        }, 2);
        var results = response.Topics.SelectMany(t => t.Partitions.Select(p => (t.Name, p.PartitionIndex, (BrookError)p.ErrorCode, p.LowWatermark)));
        Assert.Equal(
            [("short", 4, BrookError.UnknownTopicOrPartition, -1L), ("short", 0, BrookError.OffsetOutOfRange, -1L), ("missing", 0, BrookError.UnknownTopicOrPartition, -1L)],
            results);
    }

    // librdkafka sends DescribeCluster (v0 before 2.x's endpoint types, v1 since); kafkajs describes the cluster with Metadata.
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Describe_cluster_answers_at_every_version(short version)
    {
        using var client = await RawClient.ConnectAsync(_broker);
        var response = await client.SendAsync<DescribeClusterResponse>(new DescribeClusterRequest { IncludeClusterAuthorizedOperations = true }, version);
        Assert.Equal(0, response.ErrorCode);
        Assert.Equal(_broker.Node.ClusterId, response.ClusterId);
        Assert.Equal(_broker.Node.NodeId, response.ControllerId);
        Assert.Equal(_broker.Node.NodeId, Assert.Single(response.Brokers).BrokerId);
    }
}
