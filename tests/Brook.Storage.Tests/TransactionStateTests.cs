using System.Buffers.Binary;
using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

/// <summary>Last stable offset, open transactions and the aborted-transaction index, in every log store.</summary>
public abstract class TransactionStateTests : IAsyncLifetime
{
    protected static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);

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

    /// <summary>A transactional batch of <paramref name="count"/> records.</summary>
    public static byte[] TxnBatch(long producerId, short epoch, int sequence, int count = 1)
    {
        var batch = ProducerStateTests.Batch(producerId, epoch, sequence, count);
        var attributes = BinaryPrimitives.ReadInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesPosition));
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesPosition), (short)(attributes | RecordBatchAttributes.TransactionalFlag));
        RecordBatchHeader.UpdateCrc(batch);
        return batch;
    }

    public static byte[] Marker(bool commit, long producerId, short epoch) =>
        ControlRecords.BuildTransactionMarker(commit, producerId, epoch, coordinatorEpoch: 3, timestamp: 1_000);

    protected static async Task<AppendResult> AppendAsync(IPartitionLog log, byte[] batch) => await log.AppendAsync(batch, CreateTime);

    /// <summary>
    /// Offsets 0-1 plain, 2-3 producer 5 (aborted at 6), 4 producer 6 (committed at 7), 5 plain: the state every test
    /// of this class starts from after <see cref="WriteTwoTransactionsAsync"/>.
    /// </summary>
    protected static async Task WriteTwoTransactionsAsync(IPartitionLog log)
    {
        await AppendAsync(log, TestBatches.OfSize(2, 10));
        Assert.Equal(2, log.LastStableOffset);
        await AppendAsync(log, TxnBatch(5, 0, 0, count: 2));
        Assert.Equal(2, log.LastStableOffset);
        await AppendAsync(log, TxnBatch(6, 0, 0));
        await AppendAsync(log, TestBatches.OfSize(1, 10));
        Assert.Equal(6, log.HighWatermark);
        Assert.Equal(2, log.LastStableOffset);

        Assert.Equal(6, (await AppendAsync(log, Marker(commit: false, 5, 0))).BaseOffset);
        Assert.Equal(4, log.LastStableOffset); // producer 6 is still open
        Assert.Equal(7, (await AppendAsync(log, Marker(commit: true, 6, 0))).BaseOffset);
    }

    [Fact]
    public async Task The_last_stable_offset_stops_at_the_oldest_open_transaction_and_aborts_are_indexed()
    {
        var log = await CreatePartitionAsync();
        Assert.Equal(0, log.LastStableOffset);

        await WriteTwoTransactionsAsync(log);

        Assert.Equal(8, log.LastStableOffset);
        Assert.Equal(log.HighWatermark, log.LastStableOffset);
        Assert.Equal([new AbortedTransaction(5, 2, 6)], log.AbortedTransactions(0, 8));
        Assert.Equal([new AbortedTransaction(5, 2, 6)], log.AbortedTransactions(6, 7));
        Assert.Empty(log.AbortedTransactions(7, 8)); // ended before the range
        Assert.Empty(log.AbortedTransactions(0, 2)); // began at the bound
    }

    [Fact]
    public async Task Describe_producers_reports_the_open_transaction_start_and_a_marker_closes_it()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(3, 10));
        await AppendAsync(log, TxnBatch(9, 2, 0, count: 2));
        await AppendAsync(log, TxnBatch(9, 2, 2));

        var open = Assert.Single(await log.DescribeProducersAsync());
        Assert.Equal((9L, (short)2, 2, 3L), (open.ProducerId, open.Epoch, open.LastSequence, open.CurrentTxnStartOffset));
        Assert.Equal(3, log.LastStableOffset);

        await AppendAsync(log, Marker(commit: true, 9, 2));
        var closed = Assert.Single(await log.DescribeProducersAsync());
        Assert.Equal(-1, closed.CurrentTxnStartOffset);
        Assert.Equal(3, closed.CoordinatorEpoch);
        Assert.Equal(log.HighWatermark, log.LastStableOffset);
        Assert.Empty(log.AbortedTransactions(0, long.MaxValue));

        // The next transaction of the same epoch continues the sequence.
        Assert.Equal(AppendStatus.Appended, (await AppendAsync(log, TxnBatch(9, 2, 3))).Status);
        Assert.Equal(7, log.LastStableOffset);
    }

    [Fact]
    public async Task An_abort_marker_with_a_bumped_epoch_fences_the_old_epoch()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TxnBatch(4, 0, 0));

        await AppendAsync(log, Marker(commit: false, 4, 1));

        Assert.Equal(AppendStatus.InvalidProducerEpoch, (await AppendAsync(log, TxnBatch(4, 0, 1))).Status);
        Assert.Equal(AppendStatus.Appended, (await AppendAsync(log, TxnBatch(4, 1, 0))).Status);
        Assert.Equal([new AbortedTransaction(4, 0, 1)], log.AbortedTransactions(0, long.MaxValue));
    }

    [Fact]
    public async Task A_producer_with_an_open_transaction_does_not_expire()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TxnBatch(8, 0, 0));

        Clock.Advance(TimeSpan.FromDays(30));
        await AppendAsync(log, TestBatches.OfSize(1, 10)); // an append sweeps expired producers

        Assert.Equal(0, log.LastStableOffset);
        Assert.Equal(8, Assert.Single(await log.DescribeProducersAsync()).ProducerId);
    }
}

public sealed class InMemoryTransactionStateTests : TransactionStateTests
{
    protected override Task<ILogStore> CreateStoreAsync() => Task.FromResult<ILogStore>(new InMemoryLogStore(Clock, producerIdExpiration: TimeSpan.FromHours(1)));
}

public sealed class DiskTransactionStateTests : TransactionStateTests
{
    private readonly TempDirectory _directory = new();

    protected override async Task<ILogStore> CreateStoreAsync() => await OpenAsync();

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    private Task<DiskLogStore> OpenAsync() =>
        DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path)
        {
            TimeProvider = Clock,
            BackgroundInterval = null,
            ProducerIdExpiration = TimeSpan.FromHours(1),
        });

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Open_transactions_and_the_aborted_index_survive_a_restart(bool clean)
    {
        var log = await CreatePartitionAsync();
        await WriteTwoTransactionsAsync(log);
        await AppendAsync(log, TxnBatch(7, 0, 0)); // offset 8, left open
        Assert.Equal(8, log.LastStableOffset);
        if (clean) await Store.DisposeAsync();
        else await ((DiskLogStore)Store).AbandonAsync();

        Store = await OpenAsync();
        var again = Store.GetPartition("events", 0)!;

        Assert.Equal(9, again.HighWatermark);
        Assert.Equal(8, again.LastStableOffset);
        Assert.Equal([new AbortedTransaction(5, 2, 6)], again.AbortedTransactions(0, 9));
        Assert.Equal(8, (await again.DescribeProducersAsync()).Single(p => p.ProducerId == 7).CurrentTxnStartOffset);

        await AppendAsync(again, Marker(commit: false, 7, 0));
        Assert.Equal(10, again.LastStableOffset);
        Assert.Equal([new AbortedTransaction(5, 2, 6), new AbortedTransaction(7, 8, 9)], again.AbortedTransactions(0, 10));
    }
}
