using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Tests.Transactions;

/// <summary>The transactional APIs on the wire: error codes per version, refused produce, the admin APIs.</summary>
public sealed class TransactionProtocolTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;
    private RawClient _client = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(_broker, "events", 1);
        await Clients.CreateTopicAsync(_broker, "other", 1);
        _client = await RawClient.ConnectAsync(_broker);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Transactional_produce_to_a_partition_not_added_to_the_transaction_is_refused()
    {
        var txn = new TxnRequests(_client, "verify-app");
        await txn.InitAsync();
        Assert.Equal((short)ErrorCode.InvalidTxnState, await txn.ProduceAsync("events", "no-transaction-yet"));
        Assert.Equal(0, await txn.AddPartitionAsync("events"));

        Assert.Equal((short)ErrorCode.InvalidTxnState, await txn.ProduceAsync("other", "not-added"));
        Assert.Equal(0, await txn.ProduceAsync("events", "added"));

        Assert.Equal(0, _broker.Store.GetPartition("other", 0)!.LogEndOffset);
        Assert.Equal(1, _broker.Store.GetPartition("events", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task Add_partitions_with_an_unknown_partition_adds_none_of_them()
    {
        var txn = new TxnRequests(_client, "unknown-app");
        await txn.InitAsync();
        var response = await _client.SendAsync<AddPartitionsToTxnResponse>(new AddPartitionsToTxnRequest
        {
            V3AndBelowTransactionalId = "unknown-app",
            V3AndBelowProducerId = txn.ProducerId,
            V3AndBelowProducerEpoch = txn.Epoch,
            V3AndBelowTopics =
            [
                new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic { Name = "events", Partitions = [0] },
                new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic { Name = "missing", Partitions = [0] },
            ],
        }, 3);

        var errors = response.ResultsByTopicV3AndBelow.ToDictionary(t => t.Name, t => t.ResultsByPartition.Single().PartitionErrorCode);
        Assert.Equal((short)ErrorCode.OperationNotAttempted, errors["events"]);
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, errors["missing"]);
        Assert.Equal((short)ErrorCode.InvalidTxnState, await txn.ProduceAsync("events", "still-not-added"));
    }

    [Fact]
    public async Task A_fenced_producer_gets_producer_fenced_or_invalid_producer_epoch_by_version()
    {
        var old = new TxnRequests(_client, "fenced-app");
        await old.InitAsync();
        Assert.Equal(0, await old.AddPartitionAsync("events"));
        Assert.Equal(0, await old.ProduceAsync("events", "zombie"));
        await new TxnRequests(_client, "fenced-app").InitAsync();

        Assert.Equal((short)ErrorCode.ProducerFenced, await old.EndAsync(commit: true, version: 3));
        Assert.Equal((short)ErrorCode.InvalidProducerEpoch, await old.EndAsync(commit: true, version: 1));
        Assert.Equal((short)ErrorCode.InvalidProducerEpoch, await old.AddPartitionAsync("other", version: 1));
        // The partition itself fences the old epoch after the abort marker written at the new one.
        Assert.Equal((short)ErrorCode.InvalidProducerEpoch, await old.ProduceAsync("events", "zombie-again"));
        Assert.Equal((short)ErrorCode.InvalidProducerIdMapping, await new TxnRequests(_client, "never-initialized").EndAsync(commit: true));
    }

    [Fact]
    public async Task Describe_and_list_transactions_and_describe_producers_report_an_open_transaction()
    {
        var txn = new TxnRequests(_client, "describe-app");
        await txn.InitAsync(timeoutMs: 45_000);
        await txn.AddPartitionAsync("events");
        await txn.ProduceAsync("events", "a", "b");
        await new TxnRequests(_client, "idle-app").InitAsync();

        var described = await _client.SendAsync<DescribeTransactionsResponse>(new DescribeTransactionsRequest { TransactionalIds = ["describe-app", "nobody"] }, 0);
        var state = described.TransactionStates[0];
        Assert.Equal(("Ongoing", txn.ProducerId, txn.Epoch, 45_000), (state.TransactionState, state.ProducerId, state.ProducerEpoch, state.TransactionTimeoutMs));
        Assert.True(state.TransactionStartTimeMs > 0);
        Assert.Equal("events", Assert.Single(state.Topics).Topic);
        Assert.Equal((short)ErrorCode.TransactionalIdNotFound, described.TransactionStates[1].ErrorCode);

        var ongoing = await _client.SendAsync<ListTransactionsResponse>(new ListTransactionsRequest { StateFilters = ["Ongoing", "Bogus"] }, 1);
        Assert.Equal(["describe-app"], ongoing.TransactionStates.Select(t => t.TransactionalId));
        Assert.Equal(["Bogus"], ongoing.UnknownStateFilters);
        var all = await _client.SendAsync<ListTransactionsResponse>(new ListTransactionsRequest(), 0);
        Assert.Equal(["describe-app", "idle-app"], all.TransactionStates.Select(t => t.TransactionalId).Order());
        var byProducer = await _client.SendAsync<ListTransactionsResponse>(new ListTransactionsRequest { ProducerIdFilters = [txn.ProducerId] }, 0);
        Assert.Equal(["describe-app"], byProducer.TransactionStates.Select(t => t.TransactionalId));
        var longRunning = await _client.SendAsync<ListTransactionsResponse>(new ListTransactionsRequest { DurationFilter = 3_600_000 }, 1);
        Assert.Empty(longRunning.TransactionStates);

        var producers = await _client.SendAsync<DescribeProducersResponse>(new DescribeProducersRequest
        {
            Topics = [new DescribeProducersRequest.TopicRequest { Name = "events", PartitionIndexes = [0, 7] }],
        }, 0);
        var partitions = producers.Topics.Single().Partitions;
        var active = Assert.Single(partitions[0].ActiveProducers);
        Assert.Equal((txn.ProducerId, (int)txn.Epoch, 1, 0L), (active.ProducerId, active.ProducerEpoch, active.LastSequence, active.CurrentTxnStartOffset));
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, partitions[1].ErrorCode);
    }

    private async Task<FetchResponse.PartitionData> FetchAsync(sbyte isolationLevel, long offset) =>
        (await _client.SendAsync<FetchResponse>(new FetchRequest
        {
            MaxWaitMs = 0,
            MinBytes = 0,
            MaxBytes = 1 << 20,
            IsolationLevel = isolationLevel,
            Topics =
            [
                new FetchRequest.FetchTopic
                {
                    Topic = "events",
                    Partitions = [new FetchRequest.FetchPartition { Partition = 0, FetchOffset = offset, PartitionMaxBytes = 1 << 20 }],
                },
            ],
        }, 11)).Responses.Single().Partitions.Single();

    [Fact]
    public async Task Read_committed_fetch_stops_at_the_last_stable_offset_and_lists_the_aborted_transactions()
    {
        var aborted = new TxnRequests(_client, "aborting-app");
        await aborted.InitAsync();
        await aborted.AddPartitionAsync("events");
        await aborted.ProduceAsync("events", "a0", "a1"); // offsets 0-1
        await aborted.EndAsync(commit: false); // marker at 2
        var open = new TxnRequests(_client, "open-app");
        await open.InitAsync();
        await TxnRequests.ProducePlainAsync(_client, "events", "p0"); // 3
        await open.AddPartitionAsync("events");
        await open.ProduceAsync("events", "o0"); // 4, left open
        await TxnRequests.ProducePlainAsync(_client, "events", "p1"); // 5

        var committed = await FetchAsync(isolationLevel: 1, offset: 0);
        Assert.Equal((6L, 4L), (committed.HighWatermark, committed.LastStableOffset));
        var abortedTransaction = Assert.Single(committed.AbortedTransactions!);
        Assert.Equal((aborted.ProducerId, 0L), (abortedTransaction.ProducerId, abortedTransaction.FirstOffset));
        Assert.Equal(3, LastOffsetIn(committed.Records!.Value)); // nothing at or past the LSO
        Assert.Empty((await FetchAsync(isolationLevel: 1, offset: 3)).AbortedTransactions!); // the abort ended before 3

        var uncommitted = await FetchAsync(isolationLevel: 0, offset: 0);
        Assert.Equal(4, uncommitted.LastStableOffset);
        Assert.Null(uncommitted.AbortedTransactions);
        Assert.Equal(5, LastOffsetIn(uncommitted.Records!.Value));

        var listed = await _client.SendAsync<ListOffsetsResponse>(new ListOffsetsRequest
        {
            ReplicaId = -1,
            IsolationLevel = 1,
            Topics = [new ListOffsetsRequest.ListOffsetsTopic { Name = "events", Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = 0, Timestamp = -1 }] }],
        }, 5);
        Assert.Equal(4, listed.Topics.Single().Partitions.Single().Offset);
    }

    private static long LastOffsetIn(ReadOnlyMemory<byte> records)
    {
        var last = -1L;
        var enumerator = new Protocol.Records.RecordBatchEnumerator(records);
        while (enumerator.MoveNext()) last = enumerator.Current.Header.LastOffset;
        return last;
    }

    [Fact]
    public async Task The_transactional_apis_are_advertised_and_find_coordinator_answers_for_transactional_ids()
    {
        var versions = (await _client.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 2)).ApiKeys.ToDictionary(k => k.ApiKey, k => (k.MinVersion, k.MaxVersion));
        Assert.Equal((0, 3), versions[ApiKeys.AddPartitionsToTxn]);
        Assert.Equal((0, 4), versions[ApiKeys.AddOffsetsToTxn]);
        Assert.Equal((0, 4), versions[ApiKeys.EndTxn]);
        Assert.Equal((0, 4), versions[ApiKeys.TxnOffsetCommit]);
        Assert.Equal((0, 0), versions[ApiKeys.DescribeProducers]);
        Assert.Equal((0, 0), versions[ApiKeys.DescribeTransactions]);
        Assert.Equal((0, 1), versions[ApiKeys.ListTransactions]);

        var coordinator = await _client.SendAsync<FindCoordinatorResponse>(new FindCoordinatorRequest { KeyType = 1, CoordinatorKeys = ["any-app"] }, 4);
        var found = Assert.Single(coordinator.Coordinators);
        Assert.Equal((0, _broker.Node.NodeId), (found.ErrorCode, found.NodeId));
    }
}
