using Brook.Broker.Groups;
using Brook.Broker.Producers;
using Brook.Broker.Tests.Groups;
using Brook.Broker.Transactions;
using Brook.Protocol;
using Brook.Protocol.Records;
using Brook.Storage;

namespace Brook.Broker.Tests.Transactions;

/// <summary>The transaction coordinator's state machine driven directly on an in-memory store and a fake clock.</summary>
public sealed class TransactionCoordinatorTests : IAsyncLifetime
{
    private const string Id = "app";
    private static readonly TxnPartition Data = new("events", 0);
    private readonly FakeTime _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ProducerIdManager _producerIds = ProducerIdManager.InMemory();
    private InMemoryLogStore _store = null!;
    private GroupCoordinator _groups = null!;
    private TransactionCoordinator _coordinator = null!;

    public async Task InitializeAsync()
    {
        _store = new InMemoryLogStore(_time);
        await _store.CreateTopicAsync("events", 1, new Dictionary<string, string>());
        (_groups, _coordinator) = await NewCoordinatorsAsync();
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    /// <summary>Coordinators that load their state from the store, as after a restart.</summary>
    private async Task<(GroupCoordinator, TransactionCoordinator)> NewCoordinatorsAsync()
    {
        var config = new BrokerConfig(new Dictionary<string, string> { ["transaction.max.timeout.ms"] = "60000" });
        var groups = new GroupCoordinator(_store, config, _time);
        await groups.LoadAsync();
        var coordinator = new TransactionCoordinator(_store, _producerIds, groups, config, _time);
        await coordinator.LoadAsync();
        return (groups, coordinator);
    }

    private IPartitionLog Events => _store.GetPartition("events", 0)!;

    private async Task<ProducerIdAndEpoch> InitAsync(long producerId = -1, short epoch = -1, int timeoutMs = 10_000)
    {
        var result = await _coordinator.InitProducerIdAsync(Id, timeoutMs, producerId, epoch, default);
        Assert.Equal(ErrorCode.None, result.Error);
        return result;
    }

    private async Task WriteTransactionalAsync(ProducerIdAndEpoch producer, int sequence)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producer.ProducerId, ProducerEpoch = producer.Epoch, BaseSequence = sequence, IsTransactional = true };
        builder.Append(1_000, "k"u8.ToArray(), "v"u8.ToArray());
        await Events.AppendAsync(builder.ToArray(), new AppendOptions(TimestampType.CreateTime, -1, 0));
    }

    [Fact]
    public async Task A_transaction_goes_from_empty_through_ongoing_to_complete_commit_with_a_marker()
    {
        var producer = await InitAsync();
        Assert.Equal(TransactionState.Empty, _coordinator.Describe(Id)!.State);
        Assert.Equal(ErrorCode.InvalidTxnState, await _coordinator.EndTransactionAsync(Id, producer.ProducerId, producer.Epoch, commit: true, default));

        Assert.Equal(ErrorCode.None, await _coordinator.AddPartitionsAsync(Id, producer.ProducerId, producer.Epoch, [Data], default));
        var ongoing = _coordinator.Describe(Id)!;
        Assert.Equal(TransactionState.Ongoing, ongoing.State);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), ongoing.StartTimestamp);
        await WriteTransactionalAsync(producer, 0);
        Assert.Equal(0, Events.LastStableOffset);

        Assert.Equal(ErrorCode.None, await _coordinator.EndTransactionAsync(Id, producer.ProducerId, producer.Epoch, commit: true, default));

        var done = _coordinator.Describe(Id)!;
        Assert.Equal(TransactionState.CompleteCommit, done.State);
        Assert.Empty(done.Partitions);
        Assert.Equal(2, Events.LastStableOffset); // record + COMMIT marker
        Assert.Empty(Events.AbortedTransactions(0, 2));
        // A retried commit succeeds again; an abort of a committed transaction is refused.
        Assert.Equal(ErrorCode.None, await _coordinator.EndTransactionAsync(Id, producer.ProducerId, producer.Epoch, commit: true, default));
        Assert.Equal(ErrorCode.InvalidTxnState, await _coordinator.EndTransactionAsync(Id, producer.ProducerId, producer.Epoch, commit: false, default));
    }

    [Fact]
    public async Task A_new_instance_aborts_the_open_transaction_and_fences_the_old_epoch()
    {
        var old = await InitAsync();
        await _coordinator.AddPartitionsAsync(Id, old.ProducerId, old.Epoch, [Data], default);
        await WriteTransactionalAsync(old, 0);

        var successor = await InitAsync();

        Assert.Equal(old.ProducerId, successor.ProducerId);
        Assert.Equal(old.Epoch + 1, successor.Epoch);
        Assert.Equal([new AbortedTransaction(old.ProducerId, 0, 1)], Events.AbortedTransactions(0, 2));
        Assert.Equal(ErrorCode.ProducerFenced, await _coordinator.AddPartitionsAsync(Id, old.ProducerId, old.Epoch, [Data], default));
        Assert.Equal(ErrorCode.ProducerFenced, await _coordinator.EndTransactionAsync(Id, old.ProducerId, old.Epoch, commit: true, default));
        Assert.Equal(ErrorCode.InvalidProducerEpoch, _coordinator.VerifyTransactionalProduce(old.ProducerId, old.Epoch, "events", 0));
        Assert.Equal(ErrorCode.InvalidProducerIdMapping, await _coordinator.AddPartitionsAsync(Id, old.ProducerId + 1, successor.Epoch, [Data], default));
        // The old instance cannot come back through KIP-360 either: the bump was not its own.
        var zombie = await _coordinator.InitProducerIdAsync(Id, 10_000, old.ProducerId, old.Epoch, default);
        Assert.Equal(ErrorCode.ProducerFenced, zombie.Error);
    }

    [Fact]
    public async Task Kip360_a_producer_bumps_its_own_epoch_and_a_retry_of_that_bump_gets_the_same_answer()
    {
        var first = await InitAsync();
        var bumped = await InitAsync(first.ProducerId, first.Epoch);
        Assert.Equal((first.ProducerId, (short)(first.Epoch + 1)), (bumped.ProducerId, bumped.Epoch));

        var retried = await InitAsync(first.ProducerId, first.Epoch);

        Assert.Equal((bumped.ProducerId, bumped.Epoch), (retried.ProducerId, retried.Epoch));
        Assert.Equal(ErrorCode.InvalidTransactionTimeout, (await _coordinator.InitProducerIdAsync(Id, 120_000, -1, -1, default)).Error);
        Assert.Equal(ErrorCode.InvalidRequest, (await _coordinator.InitProducerIdAsync("", 1_000, -1, -1, default)).Error);
    }

    [Fact]
    public async Task Produce_verification_accepts_only_partitions_of_the_open_transaction()
    {
        var producer = await InitAsync();
        Assert.Equal(ErrorCode.InvalidTxnState, _coordinator.VerifyTransactionalProduce(producer.ProducerId, producer.Epoch, "events", 0));
        await _coordinator.AddPartitionsAsync(Id, producer.ProducerId, producer.Epoch, [Data], default);

        Assert.Equal(ErrorCode.None, _coordinator.VerifyTransactionalProduce(producer.ProducerId, producer.Epoch, "events", 0));
        Assert.Equal(ErrorCode.InvalidTxnState, _coordinator.VerifyTransactionalProduce(producer.ProducerId, producer.Epoch, "events", 1));
        Assert.Equal(ErrorCode.InvalidTxnState, _coordinator.VerifyTransactionalProduce(producer.ProducerId + 100, 0, "events", 0));
    }

    [Fact]
    public async Task A_transaction_past_its_timeout_is_aborted_with_an_epoch_bump()
    {
        var producer = await InitAsync(timeoutMs: 5_000);
        await _coordinator.AddPartitionsAsync(Id, producer.ProducerId, producer.Epoch, [Data], default);
        await WriteTransactionalAsync(producer, 0);

        _time.Advance(TimeSpan.FromMilliseconds(4_999));
        await _coordinator.CheckTimeoutsAsync();
        Assert.Equal(TransactionState.Ongoing, _coordinator.Describe(Id)!.State);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        await _coordinator.CheckTimeoutsAsync();

        var aborted = _coordinator.Describe(Id)!;
        Assert.Equal(TransactionState.CompleteAbort, aborted.State);
        Assert.Equal(producer.Epoch + 1, aborted.Epoch);
        Assert.Equal(2, Events.LastStableOffset);
        Assert.Equal(ErrorCode.ProducerFenced, await _coordinator.EndTransactionAsync(Id, producer.ProducerId, producer.Epoch, commit: true, default));
        // The producer recovers through KIP-360: its old epoch counts as the one the timeout replaced.
        var recovered = await InitAsync(producer.ProducerId, producer.Epoch);
        Assert.Equal(aborted.Epoch, recovered.Epoch);
    }

    [Fact]
    public async Task Transactional_offsets_are_pending_until_the_commit_marker_and_dropped_on_abort()
    {
        var producer = await InitAsync();
        var offsetsPartition = new TxnPartition(GroupCoordinator.TopicName, _groups.OffsetsPartitionFor("g"));
        Assert.Equal(ErrorCode.None, await _coordinator.AddOffsetsAsync(Id, producer.ProducerId, producer.Epoch, "g", default));
        Assert.Contains(offsetsPartition, _coordinator.Describe(Id)!.Partitions);
        await CommitOffsetAsync(producer, 7);
        Assert.True(_groups.HasPendingTransactionalOffset("g", "events", 0));
        Assert.Empty(await _groups.GetCommittedOffsetsAsync("g"));

        await _coordinator.EndTransactionAsync(Id, producer.ProducerId, producer.Epoch, commit: false, default);
        Assert.False(_groups.HasPendingTransactionalOffset("g", "events", 0));
        Assert.Empty(await _groups.GetCommittedOffsetsAsync("g"));

        await _coordinator.AddOffsetsAsync(Id, producer.ProducerId, producer.Epoch, "g", default);
        await CommitOffsetAsync(producer, 9);
        await _coordinator.EndTransactionAsync(Id, producer.ProducerId, producer.Epoch, commit: true, default);
        Assert.Equal(9, (await _groups.GetCommittedOffsetsAsync("g"))[("events", 0)].Offset);

        // Replaying __consumer_offsets and __transaction_state rebuilds the same state.
        var (groups, coordinator) = await NewCoordinatorsAsync();
        Assert.Equal(9, (await groups.GetCommittedOffsetsAsync("g"))[("events", 0)].Offset);
        Assert.False(groups.HasPendingTransactionalOffset("g", "events", 0));
        var live = _coordinator.Describe(Id)!;
        var replayed = coordinator.Describe(Id)!;
        Assert.Equal((live.ProducerId, live.Epoch, live.State, live.TimeoutMs), (replayed.ProducerId, replayed.Epoch, replayed.State, replayed.TimeoutMs));
    }

    [Fact]
    public async Task A_transaction_left_in_prepare_commit_is_finished_when_the_state_is_loaded()
    {
        var producer = await InitAsync();
        await _coordinator.AddPartitionsAsync(Id, producer.ProducerId, producer.Epoch, [Data], default);
        await WriteTransactionalAsync(producer, 0);
        // As if the broker died after storing the decision, before any marker.
        var prepared = _coordinator.Describe(Id)! with { State = TransactionState.PrepareCommit };
        var (key, value) = TransactionRecordCodec.Encode(Id, prepared);
        using (var builder = new RecordBatchBuilder())
        {
            builder.Append(1_000, key, value);
            await _store.GetPartition(TransactionCoordinator.TopicName, _coordinator.PartitionFor(Id))!.AppendAsync(builder.ToArray(), new AppendOptions(TimestampType.CreateTime, -1, 0));
        }
        Assert.Equal(0, Events.LastStableOffset);

        var (_, reloaded) = await NewCoordinatorsAsync();

        Assert.Equal(TransactionState.CompleteCommit, reloaded.Describe(Id)!.State);
        Assert.Equal(2, Events.LastStableOffset);
        Assert.Empty(Events.AbortedTransactions(0, 2));
    }

    [Fact]
    public async Task Idle_transactional_ids_expire_but_open_transactions_time_out_first()
    {
        var config = new BrokerConfig(new Dictionary<string, string> { ["transactional.id.expiration.ms"] = "1000" });
        var coordinator = new TransactionCoordinator(_store, _producerIds, _groups, config, _time);
        await coordinator.LoadAsync();
        await coordinator.InitProducerIdAsync("short-lived", 60_000, -1, -1, default);

        _time.Advance(TimeSpan.FromSeconds(1));
        await coordinator.CheckTimeoutsAsync();

        Assert.Null(coordinator.Describe("short-lived"));
        Assert.DoesNotContain(coordinator.List(), m => m.TransactionalId == "short-lived");
    }

    private async Task CommitOffsetAsync(ProducerIdAndEpoch producer, long offset)
    {
        var request = new Protocol.Messages.TxnOffsetCommitRequest
        {
            TransactionalId = Id,
            GroupId = "g",
            ProducerId = producer.ProducerId,
            ProducerEpoch = producer.Epoch,
            Topics =
            [
                new Protocol.Messages.TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic
                {
                    Name = "events",
                    Partitions = [new Protocol.Messages.TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition { PartitionIndex = 0, CommittedOffset = offset }],
                },
            ],
        };
        var response = await _groups.CommitTransactionalOffsetsAsync(request, 3, () => ErrorCode.None, default);
        Assert.Equal(0, response.Topics.Single().Partitions.Single().ErrorCode);
    }
}
