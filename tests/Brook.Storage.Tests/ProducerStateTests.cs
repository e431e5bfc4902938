using System.Buffers.Binary;
using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

/// <summary>Idempotent-producer rules every log store applies: duplicates, sequence gaps, epochs, expiry.</summary>
public abstract class ProducerStateTests : IAsyncLifetime
{
    protected static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);
    protected static readonly TimeSpan Expiration = TimeSpan.FromHours(1);

    protected ManualTimeProvider Clock { get; } = new();

    protected ILogStore Store { get; set; } = null!;

    protected abstract Task<ILogStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    protected async Task<IPartitionLog> CreatePartitionAsync()
    {
        Assert.Equal(StoreStatus.Ok, (await Store.CreateTopicAsync("events", 1, new Dictionary<string, string>())).Status);
        return Store.GetPartition("events", 0)!;
    }

    /// <summary>A batch of <paramref name="count"/> records from producer <paramref name="producerId"/> starting at <paramref name="sequence"/>.</summary>
    public static byte[] Batch(long producerId, short epoch, int sequence, int count = 1)
    {
        var batch = TestBatches.OfSize(count, 10);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.ProducerIdPosition), producerId);
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.ProducerEpochPosition), epoch);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BaseSequencePosition), sequence);
        RecordBatchHeader.UpdateCrc(batch);
        return batch;
    }

    protected static async Task<AppendResult> AppendAsync(IPartitionLog log, byte[] batch) => await log.AppendAsync(batch, CreateTime);

    [Fact]
    public async Task A_retry_of_any_of_the_last_five_batches_gets_its_original_offsets_and_appends_nothing()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(3, 10)); // offsets 0-2, no producer
        var first = new List<AppendResult>();
        for (var i = 0; i < 6; i++) first.Add(await AppendAsync(log, Batch(7, 0, i * 2, count: 2)));
        var end = log.LogEndOffset;
        var size = log.SizeInBytes;

        for (var i = 1; i < 6; i++)
        {
            var retry = await AppendAsync(log, Batch(7, 0, i * 2, count: 2));
            Assert.Equal(AppendStatus.Duplicate, retry.Status);
            Assert.Equal(first[i].BaseOffset, retry.BaseOffset);
            Assert.Equal(first[i].LastOffset, retry.LastOffset);
        }
        Assert.Equal(end, log.LogEndOffset);
        Assert.Equal(size, log.SizeInBytes);

        // The oldest batch fell out of the window: its retry is out of order, not a silent duplicate.
        var tooOld = await AppendAsync(log, Batch(7, 0, 0, count: 2));
        Assert.Equal(AppendStatus.OutOfOrderSequence, tooOld.Status);
        Assert.Equal(end, log.LogEndOffset);
        // Same first sequence with another length is not the same batch either.
        Assert.Equal(AppendStatus.OutOfOrderSequence, (await AppendAsync(log, Batch(7, 0, 10, count: 1))).Status);
    }

    [Fact]
    public async Task A_gap_in_sequence_is_rejected_and_the_next_in_order_batch_is_accepted()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, Batch(1, 0, 0, count: 3));

        var gap = await AppendAsync(log, Batch(1, 0, 4));

        Assert.Equal(AppendStatus.OutOfOrderSequence, gap.Status);
        Assert.Equal(-1, gap.BaseOffset);
        Assert.NotNull(gap.Message);
        Assert.Equal(3, log.LogEndOffset);
        var next = await AppendAsync(log, Batch(1, 0, 3));
        Assert.Equal(AppendStatus.Appended, next.Status);
        Assert.Equal(3, next.BaseOffset);
    }

    [Fact]
    public async Task Epochs_fence_older_producers_and_a_new_epoch_starts_at_sequence_zero()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, Batch(1, 3, 0));
        await AppendAsync(log, Batch(1, 3, 1));

        Assert.Equal(AppendStatus.InvalidProducerEpoch, (await AppendAsync(log, Batch(1, 2, 2))).Status);
        Assert.Equal(AppendStatus.OutOfOrderSequence, (await AppendAsync(log, Batch(1, 4, 5))).Status);
        Assert.Equal(2, log.LogEndOffset);

        var bumped = await AppendAsync(log, Batch(1, 4, 0));
        Assert.Equal(AppendStatus.Appended, bumped.Status);
        Assert.Equal(2, bumped.BaseOffset);
        // The old epoch, even with the sequence it would have used next, is now fenced.
        Assert.Equal(AppendStatus.InvalidProducerEpoch, (await AppendAsync(log, Batch(1, 3, 2))).Status);
        Assert.Equal(3, log.LogEndOffset);
    }

    [Fact]
    public async Task Producers_are_independent_and_an_unknown_producer_may_start_at_any_sequence()
    {
        var log = await CreatePartitionAsync();

        var a = await AppendAsync(log, Batch(1, 0, 0));
        var b = await AppendAsync(log, Batch(2, 0, 42));
        var c = await AppendAsync(log, Batch(1, 0, 1));

        Assert.Equal([AppendStatus.Appended, AppendStatus.Appended, AppendStatus.Appended], new[] { a.Status, b.Status, c.Status });
        Assert.Equal(AppendStatus.OutOfOrderSequence, (await AppendAsync(log, Batch(2, 0, 42 + 2))).Status);
        Assert.Equal(AppendStatus.Appended, (await AppendAsync(log, Batch(2, 0, 43))).Status);
    }

    [Fact]
    public async Task Sequences_wrap_from_int_max_to_zero()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, Batch(5, 0, int.MaxValue - 1, count: 1)); // unknown producer: accepted at any sequence

        var wrapping = await AppendAsync(log, Batch(5, 0, int.MaxValue, count: 3)); // sequences MaxValue, 0, 1

        Assert.Equal(AppendStatus.Appended, wrapping.Status);
        Assert.Equal(AppendStatus.Duplicate, (await AppendAsync(log, Batch(5, 0, int.MaxValue, count: 3))).Status);
        Assert.Equal(AppendStatus.OutOfOrderSequence, (await AppendAsync(log, Batch(5, 0, 0))).Status);
        Assert.Equal(AppendStatus.Appended, (await AppendAsync(log, Batch(5, 0, 2))).Status);
    }

    [Fact]
    public async Task State_of_an_idle_producer_expires_after_the_expiration_time()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, Batch(9, 0, 0));
        Clock.Advance(Expiration - TimeSpan.FromMilliseconds(1));
        Assert.Equal(AppendStatus.OutOfOrderSequence, (await AppendAsync(log, Batch(9, 0, 7))).Status);
        Assert.Equal(AppendStatus.Duplicate, (await AppendAsync(log, Batch(9, 0, 0))).Status);

        Clock.Advance(TimeSpan.FromMilliseconds(1));

        // Forgotten: the old batch is no longer recognised as a retry, and any sequence is accepted again.
        var again = await AppendAsync(log, Batch(9, 0, 0));
        Assert.Equal(AppendStatus.Appended, again.Status);
        Assert.Equal(1, again.BaseOffset);
    }

    [Fact]
    public async Task Concurrent_appends_of_the_same_batch_store_it_once()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, Batch(3, 0, 0));

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => AppendAsync(log, Batch(3, 0, 1, count: 4)))));

        Assert.Single(results, r => r.Status == AppendStatus.Appended);
        Assert.All(results, r => Assert.Equal(1, r.BaseOffset));
        Assert.Equal(5, log.LogEndOffset);
    }
}

public sealed class InMemoryProducerStateTests : ProducerStateTests
{
    protected override Task<ILogStore> CreateStoreAsync() => Task.FromResult<ILogStore>(new InMemoryLogStore(Clock, producerIdExpiration: Expiration));
}

public sealed class DiskProducerStateTests : ProducerStateTests
{
    private readonly TempDirectory _directory = new();

    protected override async Task<ILogStore> CreateStoreAsync() => await OpenAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    private Task<DiskLogStore> OpenAsync(Dictionary<string, string>? brokerConfigs = null) =>
        DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path)
        {
            TimeProvider = Clock,
            BackgroundInterval = null,
            ProducerIdExpiration = Expiration,
            BrokerConfigs = brokerConfigs ?? [],
        });

    private string[] Snapshots() => Directory.GetFiles(Path.Combine(_directory.Path, "events-0"), "*.snapshot").Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public async Task Producer_state_survives_a_clean_restart_through_a_snapshot()
    {
        var log = await CreatePartitionAsync();
        var original = await AppendAsync(log, Batch(11, 2, 0, count: 3));
        await AppendAsync(log, Batch(11, 2, 3));
        await Store.DisposeAsync();
        Assert.Equal(["00000000000000000004.snapshot"], Snapshots());

        await using var reopened = await OpenAsync();
        var again = reopened.GetPartition("events", 0)!;

        var retry = await AppendAsync(again, Batch(11, 2, 0, count: 3));
        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal(original.BaseOffset, retry.BaseOffset);
        Assert.Equal(AppendStatus.OutOfOrderSequence, (await AppendAsync(again, Batch(11, 2, 9))).Status);
        Assert.Equal(AppendStatus.InvalidProducerEpoch, (await AppendAsync(again, Batch(11, 1, 0))).Status);
        Assert.Equal(4, (await AppendAsync(again, Batch(11, 2, 4))).BaseOffset);
    }

    [Fact]
    public async Task Producer_state_is_rebuilt_from_batch_headers_after_a_crash()
    {
        var log = await CreatePartitionAsync();
        var offsets = new List<long>();
        for (var i = 0; i < 5; i++) offsets.Add((await AppendAsync(log, Batch(21, 0, i * 2, count: 2))).BaseOffset);
        await ((DiskLogStore)Store).AbandonAsync();
        Assert.Empty(Snapshots());

        await using var reopened = await OpenAsync();
        var again = reopened.GetPartition("events", 0)!;

        for (var i = 0; i < 5; i++)
        {
            var retry = await AppendAsync(again, Batch(21, 0, i * 2, count: 2));
            Assert.Equal(AppendStatus.Duplicate, retry.Status);
            Assert.Equal(offsets[i], retry.BaseOffset);
        }
        Assert.Equal(10, again.LogEndOffset);
        Assert.Equal(AppendStatus.OutOfOrderSequence, (await AppendAsync(again, Batch(21, 0, 11))).Status);
    }

    [Fact]
    public async Task State_after_a_crash_combines_the_roll_snapshot_with_the_batches_after_it()
    {
        await Store.DisposeAsync();
        var store = await OpenAsync();
        await store.CreateTopicAsync("events", 1, new Dictionary<string, string> { ["segment.bytes"] = "400" });
        var log = store.GetPartition("events", 0)!;
        var results = new List<AppendResult>();
        for (var i = 0; i < 8; i++) results.Add(await AppendAsync(log, Batch(31, 0, i)));
        Assert.NotEmpty(Snapshots()); // segments rolled and saved the state
        Assert.True(Snapshots().Length <= 2);
        await store.AbandonAsync();

        var reopened = await OpenAsync();
        try
        {
            var again = reopened.GetPartition("events", 0)!;
            for (var i = 3; i < 8; i++) Assert.Equal(results[i].BaseOffset, (await AppendAsync(again, Batch(31, 0, i))).BaseOffset);
            Assert.Equal(8, again.LogEndOffset);
            Assert.Equal(AppendStatus.Appended, (await AppendAsync(again, Batch(31, 0, 8))).Status);
        }
        finally
        {
            await reopened.DisposeAsync();
        }
    }
}

public sealed class ProducerStateManagerTests
{
    [Fact]
    public void Idle_producers_are_swept_from_memory_and_a_snapshot_round_trips()
    {
        var state = new ProducerStateManager(expirationMs: 1_000);
        var idle = ProducerStateTests.Batch(1, 0, 0);
        state.OnAppended(idle, nowMs: 10_000);
        state.OnAppended(ProducerStateTests.Batch(2, 4, 0, count: 2), nowMs: 10_500);
        Assert.Equal(2, state.Count);

        var copy = new ProducerStateManager(expirationMs: 1_000);
        Assert.True(copy.TryLoadSnapshot(state.ToSnapshot(42), out var offset));
        Assert.Equal(42, offset);
        Assert.Equal(AppendStatus.Duplicate, copy.Check(ProducerStateTests.Batch(2, 4, 0, count: 2), nowMs: 10_600).Status);
        var corrupt = state.ToSnapshot(42);
        corrupt[^1] ^= 1;
        Assert.False(new ProducerStateManager(1_000).TryLoadSnapshot(corrupt, out _));

        // Checking any batch after producer 1 went idle for the expiration time drops it.
        state.Check(ProducerStateTests.Batch(3, 0, 0), nowMs: 11_000);
        Assert.Equal(1, state.Count);
        Assert.Null(state.Get(1, nowMs: 11_000));
        Assert.NotNull(state.Get(2, nowMs: 11_000));
    }
}
