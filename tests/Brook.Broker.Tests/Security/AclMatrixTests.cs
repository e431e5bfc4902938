using System.Collections.Concurrent;
using System.Text;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;
using AclOperation = Confluent.Kafka.Admin.AclOperation;
using AclPermissionType = Confluent.Kafka.Admin.AclPermissionType;
using ErrorCode = Confluent.Kafka.ErrorCode;
using ResourceType = Confluent.Kafka.Admin.ResourceType;

namespace Brook.Broker.Tests.Security;

/// <summary>
/// Each client action allowed and denied as Kafka's authorizer decides, with Confluent.Kafka (and a bare socket where
/// an exact error code matters). The PLAINTEXT listener's ANONYMOUS user is a super user and sets everything up;
/// alice and bob log in with SASL/PLAIN. alice may: write "orders" and topics prefixed "app." except "app.secret"
/// (deny), read "orders", read groups prefixed "alice-", create topics prefixed "alice.", describe the configs of
/// "orders", alter those of "app.events", and write the transactional id "alice-tx". bob has no ACL.
/// </summary>
public sealed class AclMatrixTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrookBroker.StartAsync(new BrokerOptions
        {
            Listeners = ["PLAINTEXT://127.0.0.1:0", "SASL_PLAINTEXT://127.0.0.1:0"],
            InMemory = true,
            Configs =
            {
                ["sasl.enabled.mechanisms"] = "PLAIN",
                ["sasl.plain.users"] = "alice:alice-pw,bob:bob-pw",
                ["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                ["super.users"] = "User:ANONYMOUS",
                ["group.initial.rebalance.delay.ms"] = "0",
            },
        });
        using var admin = SuperAdmin();
        await admin.CreateTopicsAsync(new[] { "orders", "payments", "app.events", "app.secret" }.Select(n => new TopicSpecification { Name = n, NumPartitions = 1 }));
        await admin.CreateAclsAsync([
            Allow(ResourceType.Topic, "orders", ResourcePatternType.Literal, AclOperation.Write),
            Allow(ResourceType.Topic, "orders", ResourcePatternType.Literal, AclOperation.Read),
            Allow(ResourceType.Topic, "app.", ResourcePatternType.Prefixed, AclOperation.Write),
            Allow(ResourceType.Topic, "app.secret", ResourcePatternType.Literal, AclOperation.Write, AclPermissionType.Deny),
            Allow(ResourceType.Group, "alice-", ResourcePatternType.Prefixed, AclOperation.Read),
            Allow(ResourceType.Topic, "alice.", ResourcePatternType.Prefixed, AclOperation.Create),
            Allow(ResourceType.Topic, "orders", ResourcePatternType.Literal, AclOperation.DescribeConfigs),
            Allow(ResourceType.Topic, "app.events", ResourcePatternType.Literal, AclOperation.AlterConfigs),
        ]);
        // librdkafka's ACL API has no TRANSACTIONAL_ID resource type, so this one goes over the wire by hand.
        using var raw = await RawClient.ConnectAsync(_broker, "PLAINTEXT");
        var created = await raw.SendAsync<CreateAclsResponse>(new CreateAclsRequest
        {
            Creations = [new CreateAclsRequest.AclCreation { ResourceType = 5, ResourceName = "alice-tx", ResourcePatternType = 3, Principal = "User:alice", Host = "*", Operation = 4, PermissionType = 3 }],
        }, 3);
        Assert.Equal(0, created.Results.Single().ErrorCode);
    }

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private static AclBinding Allow(ResourceType type, string name, ResourcePatternType pattern, AclOperation operation, AclPermissionType permission = AclPermissionType.Allow, string principal = "User:alice") => new()
    {
        Pattern = new ResourcePattern { Type = type, Name = name, ResourcePatternType = pattern },
        Entry = new AccessControlEntry { Principal = principal, Host = "*", Operation = operation, PermissionType = permission },
    };

    private IAdminClient SuperAdmin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _broker.BootstrapServersFor("PLAINTEXT") }).Build();

    private T As<T>(T config, string user)
        where T : ClientConfig => SecureClients.Sasl(config, _broker, "SASL_PLAINTEXT", SaslMechanism.Plain, user, user + "-pw");

    private IAdminClient Admin(string user) => new AdminClientBuilder(As(new AdminClientConfig(), user)).Build();

    private async Task<RawClient> RawAsAsync(string user)
    {
        var client = await RawClient.ConnectAsync(_broker, "SASL_PLAINTEXT");
        await client.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
        var auth = await client.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = Encoding.UTF8.GetBytes($"\0{user}\0{user}-pw") }, 2);
        Assert.Equal(0, auth.ErrorCode);
        return client;
    }

    private static Message<string, string> Text(string value) => new() { Key = "k", Value = value };

    [Fact]
    public async Task Produce_needs_topic_write_from_a_literal_or_prefixed_allow_and_a_deny_wins()
    {
        using var producer = SecureClients.Producer(As(new ProducerConfig(), "alice"));
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("orders", Text("literal allow"))).Status);
        Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("app.events", Text("prefixed allow"))).Status);
        foreach (var topic in new[] { "payments", "app.secret" })
        {
            var denied = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync(topic, Text("denied")));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, denied.Error.Code);
        }
        Assert.Equal(0, _broker.Store.GetPartition("payments", 0)!.LogEndOffset);
        Assert.Equal(0, _broker.Store.GetPartition("app.secret", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task Metadata_shows_only_topics_the_principal_may_describe_with_their_authorized_operations()
    {
        using (var alice = Admin("alice"))
        {
            var visible = alice.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).Order(StringComparer.Ordinal);
            // WRITE and READ imply DESCRIBE; the DENY on writing app.secret does not deny describing it.
            Assert.Equal(["app.events", "app.secret", "orders"], visible);
            var described = (await alice.DescribeTopicsAsync(TopicCollection.OfTopicNames(["orders"]), new DescribeTopicsOptions { IncludeAuthorizedOperations = true })).TopicDescriptions.Single();
            Assert.Equal([AclOperation.Read, AclOperation.Write, AclOperation.Describe, AclOperation.DescribeConfigs], described.AuthorizedOperations!.Order());
            var cluster = await alice.DescribeClusterAsync(new DescribeClusterOptions { IncludeAuthorizedOperations = true });
            Assert.Empty(cluster.AuthorizedOperations ?? []);
        }
        using var bob = Admin("bob");
        Assert.Empty(bob.GetMetadata(TimeSpan.FromSeconds(10)).Topics);
        using var super = SuperAdmin();
        Assert.Contains(super.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == "payments");
    }

    [Fact]
    public async Task Consuming_in_a_group_needs_group_read_and_topic_read()
    {
        using (var producer = SecureClients.Producer(As(new ProducerConfig(), "alice")))
            await producer.ProduceAsync("orders", Text("to consume"));

        using (var consumer = new ConsumerBuilder<string, string>(As(new ConsumerConfig { GroupId = "alice-readers", AutoOffsetReset = AutoOffsetReset.Earliest, EnableAutoCommit = false }, "alice")).Build())
        {
            consumer.Subscribe("orders");
            ConsumeResult<string, string>? result = null;
            Assert.True(SpinWait.SpinUntil(() => (result = consumer.Consume(TimeSpan.FromMilliseconds(100))) is not null, TimeSpan.FromSeconds(20)));
            Assert.Equal("to consume", result!.Message.Value);
            consumer.Commit(result);
            Assert.Equal(1, consumer.Committed([new TopicPartition("orders", 0)], TimeSpan.FromSeconds(10)).Single().Offset.Value);
            consumer.Close();
        }

        Assert.Equal(ErrorCode.GroupAuthorizationFailed, FirstConsumerError("other-readers", "orders"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, FirstConsumerError("alice-payments", "payments"));
    }

    [Fact]
    public async Task A_regular_expression_subscription_resolves_only_to_topics_the_member_may_describe()
    {
        // "orders" is readable by alice (READ implies DESCRIBE); "payments" has no ACL for her.
        using var consumer = new ConsumerBuilder<string, string>(As(new ConsumerConfig
        {
            GroupId = "alice-regex",
            GroupProtocol = GroupProtocol.Consumer,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            TopicMetadataRefreshIntervalMs = 1000,
        }, "alice")).Build();
        consumer.Subscribe("^(orders|payments)$");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (consumer.Assignment.Count == 0 && DateTime.UtcNow < deadline)
        {
            try
            {
                consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException)
            {
                // Only the assignment matters here.
            }
        }
        Assert.Equal([new TopicPartition("orders", 0)], consumer.Assignment);
        var described = await _broker.Services.GetRequiredService<Brook.Broker.Groups.GroupCoordinator>().DescribeConsumerGroupAsync("alice-regex", default);
        Assert.Equal(["orders"], described.Members.Single().Assignment.TopicPartitions.Select(t => t.TopicName).Distinct());
        consumer.Close();
    }

    private ErrorCode? FirstConsumerError(string group, string topic)
    {
        var errors = new ConcurrentQueue<Error>();
        using var consumer = new ConsumerBuilder<string, string>(As(new ConsumerConfig { GroupId = group, AutoOffsetReset = AutoOffsetReset.Earliest }, "alice"))
            .SetErrorHandler((_, e) => errors.Enqueue(e)).Build();
        consumer.Subscribe(topic);
        SpinWait.SpinUntil(() =>
        {
            try
            {
                consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException ex)
            {
                errors.Enqueue(ex.Error);
            }
            return errors.Any(e => e.Code is ErrorCode.GroupAuthorizationFailed or ErrorCode.TopicAuthorizationFailed);
        }, TimeSpan.FromSeconds(20));
        return errors.Select(e => (ErrorCode?)e.Code).FirstOrDefault(c => c is ErrorCode.GroupAuthorizationFailed or ErrorCode.TopicAuthorizationFailed);
    }

    [Fact]
    public async Task Group_apis_refuse_and_hide_groups_and_topics_the_principal_may_not_see()
    {
        static OffsetCommitRequest Commit(string group, params string[] topics) => new()
        {
            GroupId = group,
            GenerationIdOrMemberEpoch = -1,
            MemberId = "",
            Topics = topics.Select(t => new OffsetCommitRequest.OffsetCommitRequestTopic
            {
                Name = t,
                Partitions = [new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 0, CommittedOffset = 0 }],
            }).ToList(),
        };
        const short TopicDenied = (short)Protocol.ErrorCode.TopicAuthorizationFailed;
        const short GroupDenied = (short)Protocol.ErrorCode.GroupAuthorizationFailed;
        using (var super = await RawClient.ConnectAsync(_broker, "PLAINTEXT"))
        {
            await super.SendAsync<OffsetCommitResponse>(Commit("alice-raw", "payments"), 8);
            await super.SendAsync<OffsetCommitResponse>(Commit("other-group", "orders"), 8);
        }
        using var alice = await RawAsAsync("alice");

        var commit = await alice.SendAsync<OffsetCommitResponse>(Commit("alice-raw", "orders", "payments"), 8);
        Assert.Equal([("orders", (short)0), ("payments", TopicDenied)], commit.Topics.Select(t => (t.Name, t.Partitions.Single().ErrorCode)));
        Assert.Equal(GroupDenied, (await alice.SendAsync<OffsetCommitResponse>(Commit("other-group", "orders"), 8)).Topics.Single().Partitions.Single().ErrorCode);

        // v8: several groups; "all topics" leaves out payments, which alice may not describe.
        var fetched = await alice.SendAsync<OffsetFetchResponse>(new OffsetFetchRequest
        {
            Groups =
            [
                new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = "other-group", Topics = null },
                new OffsetFetchRequest.OffsetFetchRequestGroup { GroupId = "alice-raw", Topics = null },
            ],
        }, 8);
        Assert.Equal(["other-group", "alice-raw"], fetched.Groups.Select(g => g.GroupId));
        Assert.Equal(GroupDenied, fetched.Groups[0].ErrorCode);
        Assert.Equal(["orders"], fetched.Groups[1].Topics.Select(t => t.Name));

        var named = await alice.SendAsync<OffsetFetchResponse>(new OffsetFetchRequest
        {
            GroupId = "alice-raw",
            Topics = [new() { Name = "orders", PartitionIndexes = [0] }, new() { Name = "payments", PartitionIndexes = [0] }],
        }, 7);
        Assert.Equal([("orders", (short)0), ("payments", TopicDenied)], named.Topics.Select(t => (t.Name, t.Partitions.Single().ErrorCode)).Order());
        Assert.Equal(GroupDenied, (await alice.SendAsync<OffsetFetchResponse>(new OffsetFetchRequest { GroupId = "other-group", Topics = null }, 5)).ErrorCode);

        var described = await alice.SendAsync<DescribeGroupsResponse>(new DescribeGroupsRequest { Groups = ["alice-raw", "other-group"], IncludeAuthorizedOperations = true }, 5);
        Assert.Equal((short)0, described.Groups[0].ErrorCode);
        Assert.Equal((1 << 3) | (1 << 8), described.Groups[0].AuthorizedOperations); // READ, and DESCRIBE implied by it
        Assert.Equal(GroupDenied, described.Groups[1].ErrorCode);
        Assert.Equal(["alice-raw"], (await alice.SendAsync<ListGroupsResponse>(new ListGroupsRequest(), 4)).Groups.Select(g => g.GroupId));
        Assert.Equal(GroupDenied, (await alice.SendAsync<DeleteGroupsResponse>(new DeleteGroupsRequest { GroupsNames = ["other-group"] }, 2)).Results.Single().ErrorCode);
    }

    [Fact]
    public async Task Creating_topics_needs_create_on_the_topic_name_or_the_cluster()
    {
        using var alice = Admin("alice");
        await alice.CreateTopicsAsync([new TopicSpecification { Name = "alice.new", NumPartitions = 1 }]);
        Assert.NotNull(_broker.Store.GetTopic("alice.new"));
        var denied = await Assert.ThrowsAsync<CreateTopicsException>(() => alice.CreateTopicsAsync([new TopicSpecification { Name = "bob.new", NumPartitions = 1 }]));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, denied.Results.Single().Error.Code);
        Assert.Null(_broker.Store.GetTopic("bob.new"));

        using var super = SuperAdmin();
        await super.CreateAclsAsync([Allow(ResourceType.Broker, "kafka-cluster", ResourcePatternType.Literal, AclOperation.Create, principal: "User:bob")]);
        using var bob = Admin("bob");
        await bob.CreateTopicsAsync([new TopicSpecification { Name = "bob.new", NumPartitions = 1 }]);
        Assert.NotNull(_broker.Store.GetTopic("bob.new"));
    }

    [Fact]
    public async Task Idempotent_producers_need_idempotent_write_on_the_cluster_or_write_on_some_topic()
    {
        using (var producer = SecureClients.Producer(As(new ProducerConfig { EnableIdempotence = true }, "alice")))
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("orders", Text("idempotent"))).Status);

        using (var alice = await RawAsAsync("alice"))
            Assert.Equal(0, (await InitProducerIdAsync(alice, null)).ErrorCode);
        using (var bob = await RawAsAsync("bob"))
        {
            Assert.Equal((short)Protocol.ErrorCode.ClusterAuthorizationFailed, (await InitProducerIdAsync(bob, null)).ErrorCode);
            using var super = SuperAdmin();
            await super.CreateAclsAsync([Allow(ResourceType.Broker, "kafka-cluster", ResourcePatternType.Literal, AclOperation.IdempotentWrite, principal: "User:bob")]);
            Assert.Equal(0, (await InitProducerIdAsync(bob, null)).ErrorCode);
        }
    }

    [Fact]
    public async Task Transactional_producers_need_write_on_their_transactional_id()
    {
        using (var producer = new ProducerBuilder<string, string>(As(new ProducerConfig { TransactionalId = "alice-tx" }, "alice")).Build())
            producer.InitTransactions(TimeSpan.FromSeconds(20));
        using (var producer = new ProducerBuilder<string, string>(As(new ProducerConfig { TransactionalId = "other-tx" }, "alice")).Build())
        {
            var denied = Assert.ThrowsAny<KafkaException>(() => producer.InitTransactions(TimeSpan.FromSeconds(20)));
            Assert.Equal(ErrorCode.TransactionalIdAuthorizationFailed, denied.Error.Code);
        }

        using var alice = await RawAsAsync("alice");
        Assert.Equal((short)Protocol.ErrorCode.TransactionalIdAuthorizationFailed, (await InitProducerIdAsync(alice, "other-tx")).ErrorCode);
        var init = await InitProducerIdAsync(alice, "alice-tx");
        Assert.Equal(0, init.ErrorCode);

        // Transactional records under a transactional id alice may not write are refused before anything is appended.
        using var builder = new RecordBatchBuilder { ProducerId = init.ProducerId, ProducerEpoch = init.ProducerEpoch, BaseSequence = 0, IsTransactional = true };
        builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "k"u8.ToArray(), "v"u8.ToArray(), []);
        var produce = await alice.SendAsync<ProduceResponse>(new ProduceRequest
        {
            TransactionalId = "other-tx",
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new ProduceRequest.TopicProduceData { Name = "orders", PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = builder.ToArray() }] }],
        }, 9);
        Assert.Equal((short)Protocol.ErrorCode.TransactionalIdAuthorizationFailed, produce.Responses.Single().PartitionResponses.Single().ErrorCode);
        Assert.Equal(0, _broker.Store.GetPartition("orders", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task A_transaction_needs_write_on_each_topic_it_adds_and_read_on_the_group_whose_offsets_it_commits()
    {
        using (var producer = new ProducerBuilder<string, string>(As(new ProducerConfig { TransactionalId = "alice-tx" }, "alice")).Build())
        {
            producer.InitTransactions(TimeSpan.FromSeconds(20));
            producer.BeginTransaction();
            await producer.ProduceAsync("orders", Text("in-a-transaction"));
            producer.CommitTransaction(TimeSpan.FromSeconds(20));
        }
        Assert.Equal(2, _broker.Store.GetPartition("orders", 0)!.LastStableOffset); // the record and its COMMIT marker

        using var alice = await RawAsAsync("alice");
        var init = await InitProducerIdAsync(alice, "alice-tx");
        Assert.Equal(0, init.ErrorCode);
        var add = await alice.SendAsync<AddPartitionsToTxnResponse>(new AddPartitionsToTxnRequest
        {
            V3AndBelowTransactionalId = "alice-tx",
            V3AndBelowProducerId = init.ProducerId,
            V3AndBelowProducerEpoch = init.ProducerEpoch,
            V3AndBelowTopics = [new() { Name = "orders", Partitions = [0] }, new() { Name = "payments", Partitions = [0] }],
        }, 3);
        var errors = add.ResultsByTopicV3AndBelow.ToDictionary(t => t.Name, t => t.ResultsByPartition.Single().PartitionErrorCode);
        Assert.Equal((short)Protocol.ErrorCode.TopicAuthorizationFailed, errors["payments"]);
        Assert.Equal((short)Protocol.ErrorCode.OperationNotAttempted, errors["orders"]);

        var offsets = await alice.SendAsync<AddOffsetsToTxnResponse>(new AddOffsetsToTxnRequest
        {
            TransactionalId = "alice-tx",
            ProducerId = init.ProducerId,
            ProducerEpoch = init.ProducerEpoch,
            GroupId = "bob-group",
        }, 3);
        Assert.Equal((short)Protocol.ErrorCode.GroupAuthorizationFailed, offsets.ErrorCode);
        var end = await alice.SendAsync<EndTxnResponse>(new EndTxnRequest { TransactionalId = "bob-tx", ProducerId = init.ProducerId, ProducerEpoch = init.ProducerEpoch, Committed = true }, 3);
        Assert.Equal((short)Protocol.ErrorCode.TransactionalIdAuthorizationFailed, end.ErrorCode);
    }

    private static Task<InitProducerIdResponse> InitProducerIdAsync(RawClient client, string? transactionalId) =>
        client.SendAsync<InitProducerIdResponse>(new InitProducerIdRequest { TransactionalId = transactionalId, TransactionTimeoutMs = 60_000 }, 4);

    [Fact]
    public async Task Describing_configs_needs_describe_configs_or_alter_configs()
    {
        using var alice = Admin("alice");
        Task<List<DescribeConfigsResult>> Describe(Confluent.Kafka.Admin.ResourceType type, string name) =>
            alice.DescribeConfigsAsync([new ConfigResource { Type = type, Name = name }]);

        Assert.Equal("delete", (await Describe(ResourceType.Topic, "orders")).Single().Entries["cleanup.policy"].Value);
        Assert.Equal("delete", (await Describe(ResourceType.Topic, "app.events")).Single().Entries["cleanup.policy"].Value);
        var topic = await Assert.ThrowsAsync<DescribeConfigsException>(() => Describe(ResourceType.Topic, "payments"));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, topic.Results.Single().Error.Code);
        var broker = await Assert.ThrowsAsync<DescribeConfigsException>(() => Describe(ResourceType.Broker, _broker.Node.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(ErrorCode.ClusterAuthorizationFailed, broker.Results.Single().Error.Code);
    }

    [Fact]
    public async Task Acl_apis_need_cluster_rights_and_list_and_delete_by_filter()
    {
        var everything = new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        };
        using (var raw = await RawAsAsync("alice"))
        {
            var response = await raw.SendAsync<DescribeAclsResponse>(new DescribeAclsRequest { ResourceTypeFilter = 1, PatternTypeFilter = 1, Operation = 1, PermissionType = 1, ResourceNameFilter = null, PrincipalFilter = null, HostFilter = null }, 3);
            Assert.Equal((short)Protocol.ErrorCode.ClusterAuthorizationFailed, response.ErrorCode);
            Assert.Empty(response.Resources);
        }
        using (var alice = Admin("alice"))
        {
            // librdkafka drops DescribeAcls' top-level error code, so its caller sees an empty list: nothing is disclosed.
            Assert.Empty((await alice.DescribeAclsAsync(everything)).AclBindings);
            var denied = await Assert.ThrowsAsync<CreateAclsException>(() => alice.CreateAclsAsync([Allow(ResourceType.Topic, "payments", ResourcePatternType.Literal, AclOperation.Read)]));
            Assert.Equal(ErrorCode.ClusterAuthorizationFailed, denied.Results.Single().Error.Code);
        }

        using var super = SuperAdmin();
        var matchOrders = new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Topic, Name = "orders", ResourcePatternType = ResourcePatternType.Match },
            EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
        };
        Assert.Equal(9, (await super.DescribeAclsAsync(everything)).AclBindings.Count);
        Assert.Equal(3, (await super.DescribeAclsAsync(matchOrders)).AclBindings.Count);
        var deleted = await super.DeleteAclsAsync([new AclBindingFilter
        {
            PatternFilter = new ResourcePatternFilter { Type = ResourceType.Topic, Name = "orders", ResourcePatternType = ResourcePatternType.Literal },
            EntryFilter = new AccessControlEntryFilter { Principal = "User:alice", Operation = AclOperation.Write, PermissionType = AclPermissionType.Allow },
        }]);
        Assert.Single(deleted.Single().AclBindings);
        Assert.Equal(2, (await super.DescribeAclsAsync(matchOrders)).AclBindings.Count);

        using var producer = SecureClients.Producer(As(new ProducerConfig(), "alice"));
        var refused = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync("orders", Text("no longer allowed")));
        Assert.Equal(ErrorCode.TopicAuthorizationFailed, refused.Error.Code);
    }

    [Fact]
    public async Task Without_an_authorizer_everything_is_allowed_and_acl_apis_answer_security_disabled()
    {
        await using var open = await BrookBroker.StartAsync();
        using var admin = Clients.Admin(open);
        var disabled = await Assert.ThrowsAsync<CreateAclsException>(() => admin.CreateAclsAsync([Allow(ResourceType.Topic, "t", ResourcePatternType.Literal, AclOperation.Read)]));
        Assert.Equal(ErrorCode.SecurityDisabled, disabled.Results.Single().Error.Code);
        await Clients.CreateTopicAsync(open, "open", 1);
        var described = (await admin.DescribeTopicsAsync(TopicCollection.OfTopicNames(["open"]), new DescribeTopicsOptions { IncludeAuthorizedOperations = true })).TopicDescriptions.Single();
        Assert.Equal(8, described.AuthorizedOperations!.Count);
    }
}
