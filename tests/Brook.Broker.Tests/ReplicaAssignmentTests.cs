using Brook.Protocol.Messages;

namespace Brook.Broker.Tests;

/// <summary>
/// Manual replica assignments as kafkajs's admin sends them: only this node, once per partition, one per added
/// partition, else INVALID_REPLICA_ASSIGNMENT with a message naming the problem; and null error messages on success.
/// </summary>
public sealed class ReplicaAssignmentTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Kafkajs_assignments_naming_unknown_brokers_or_the_wrong_count_are_refused()
    {
        var result = await ExternalClients.KafkaJsAsync(_broker.BootstrapServers, """
            const attempt = async f => { try { await f(); return 'ok'; } catch (e) { return (e.type || e.name) + ': ' + (e.message || ''); } };
            await admin.createTopics({ topics: [{ topic: 'assigned', numPartitions: 1 }] });
            out({
              unknownBroker: await attempt(() => admin.createPartitions({ topicPartitions: [{ topic: 'assigned', count: 2, assignments: [[10]] }] })),
              tooMany: await attempt(() => admin.createPartitions({ topicPartitions: [{ topic: 'assigned', count: 2, assignments: [[1], [1]] }] })),
              duplicate: await attempt(() => admin.createPartitions({ topicPartitions: [{ topic: 'assigned', count: 2, assignments: [[1, 1]] }] })),
              createUnknown: await attempt(() => admin.createTopics({ topics: [{ topic: 'elsewhere', replicaAssignment: [{ partition: 0, replicas: [10] }] }] })),
              valid: await attempt(() => admin.createPartitions({ topicPartitions: [{ topic: 'assigned', count: 2, assignments: [[1]] }] })),
              createValid: await attempt(() => admin.createTopics({ topics: [{ topic: 'here', replicaAssignment: [{ partition: 0, replicas: [1] }, { partition: 1, replicas: [1] }] }] })),
            });
            """);
        Assert.StartsWith("INVALID_REPLICA_ASSIGNMENT", result!["unknownBroker"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("INVALID_REPLICA_ASSIGNMENT", result["tooMany"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.StartsWith("INVALID_REPLICA_ASSIGNMENT", result["duplicate"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("ok", result["valid"]!.GetValue<string>());
        Assert.Equal("ok", result["createValid"]!.GetValue<string>());
        Assert.Null(_broker.Store.GetTopic("elsewhere"));
        Assert.Equal(2, _broker.Store.GetTopic("assigned")!.PartitionCount);
        Assert.Equal(2, _broker.Store.GetTopic("here")!.PartitionCount);
    }

    [Fact]
    public async Task The_refusal_names_the_broker_and_success_carries_a_null_error_message()
    {
        using var raw = await RawClient.ConnectAsync(_broker);
        var refused = await raw.SendAsync<CreateTopicsResponse>(new CreateTopicsRequest
        {
            Topics = [new CreateTopicsRequest.CreatableTopic { Name = "t", NumPartitions = -1, ReplicationFactor = -1, Assignments = [new() { PartitionIndex = 0, BrokerIds = [10] }] }],
        }, 5);
        Assert.Equal((short)Protocol.ErrorCode.InvalidReplicaAssignment, refused.Topics[0].ErrorCode);
        Assert.Contains("broker 10", refused.Topics[0].ErrorMessage, StringComparison.Ordinal);

        foreach (var validateOnly in new[] { true, false })
        {
            var created = await raw.SendAsync<CreateTopicsResponse>(new CreateTopicsRequest
            {
                Topics = [new CreateTopicsRequest.CreatableTopic { Name = "null-message", NumPartitions = 1, ReplicationFactor = 1 }],
                ValidateOnly = validateOnly,
            }, 5);
            Assert.Equal((0, null), (created.Topics[0].ErrorCode, created.Topics[0].ErrorMessage));
        }
    }
}
