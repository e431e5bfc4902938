using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

/// <summary>Behaviour every <see cref="ILogStore"/> must have; run against each implementation by a subclass.</summary>
public abstract partial class LogStoreContractTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> NoConfigs = [];
    private static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);

    protected ILogStore Store { get; private set; } = null!;

    /// <summary>The store's clock; tests move it by hand.</summary>
    protected ManualTimeProvider Clock { get; } = new(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));

    protected abstract Task<ILogStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    protected async Task<IPartitionLog> CreatePartitionAsync(string topic = "events", int partitions = 1)
    {
        var result = await Store.CreateTopicAsync(topic, partitions, NoConfigs);
        Assert.Equal(StoreStatus.Ok, result.Status);
        return Store.GetPartition(topic, 0)!;
    }

    protected static async Task<AppendResult> AppendAsync(IPartitionLog log, byte[] batch) => await log.AppendAsync(batch, CreateTime);

    [Fact]
    public async Task Created_topic_is_listed_and_found_by_name_and_id()
    {
        var created = await Store.CreateTopicAsync("orders", 3, new Dictionary<string, string> { ["retention.ms"] = "1000" });

        Assert.Equal(StoreStatus.Ok, created.Status);
        var metadata = created.Value!;
        Assert.Equal(3, metadata.PartitionCount);
        Assert.False(metadata.TopicId.IsZero);
        Assert.Equal("1000", metadata.Configs["retention.ms"]);
        Assert.Equal(metadata.TopicId, Store.GetTopic("orders")!.TopicId);
        Assert.Equal("orders", Store.GetTopic(metadata.TopicId)!.Name);
        Assert.Contains(Store.ListTopics(), t => t.Name == "orders");
        Assert.NotNull(Store.GetPartition("orders", 2));
        Assert.Null(Store.GetPartition("orders", 3));
        Assert.Null(Store.GetPartition("unknown", 0));
    }

    [Fact]
    public async Task Creating_an_existing_topic_fails()
    {
        await Store.CreateTopicAsync("orders", 1, NoConfigs);

        var again = await Store.CreateTopicAsync("orders", 2, NoConfigs);

        Assert.Equal(StoreStatus.TopicAlreadyExists, again.Status);
        Assert.Equal(1, Store.GetTopic("orders")!.PartitionCount);
    }

    [Fact]
    public async Task Creating_a_topic_without_partitions_fails()
    {
        var result = await Store.CreateTopicAsync("empty", 0, NoConfigs);

        Assert.Equal(StoreStatus.InvalidPartitions, result.Status);
        Assert.Null(Store.GetTopic("empty"));
    }

    [Fact]
    public async Task Adding_partitions_grows_the_topic_and_keeps_existing_data()
    {
        var log = await CreatePartitionAsync("orders", 2);
        await AppendAsync(log, TestBatches.OfSize(2, 10));

        var grown = await Store.AddPartitionsAsync("orders", 4);

        Assert.Equal(StoreStatus.Ok, grown.Status);
        Assert.Equal(4, Store.GetTopic("orders")!.PartitionCount);
        Assert.Equal(0, Store.GetPartition("orders", 3)!.LogEndOffset);
        Assert.Equal(2, Store.GetPartition("orders", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task Adding_partitions_rejects_shrinking_and_unknown_topics()
    {
        await Store.CreateTopicAsync("orders", 3, NoConfigs);

        Assert.Equal(StoreStatus.InvalidPartitions, (await Store.AddPartitionsAsync("orders", 3)).Status);
        Assert.Equal(StoreStatus.InvalidPartitions, (await Store.AddPartitionsAsync("orders", 2)).Status);
        Assert.Equal(StoreStatus.UnknownTopic, (await Store.AddPartitionsAsync("missing", 5)).Status);
    }

    [Fact]
    public async Task Setting_configs_replaces_the_explicit_set()
    {
        await Store.CreateTopicAsync("orders", 1, new Dictionary<string, string> { ["retention.ms"] = "1000", ["cleanup.policy"] = "compact" });

        var updated = await Store.SetTopicConfigsAsync("orders", new Dictionary<string, string> { ["retention.bytes"] = "5000" });

        Assert.Equal(StoreStatus.Ok, updated.Status);
        var configs = Store.GetTopic("orders")!.Configs;
        Assert.Equal("5000", Assert.Single(configs).Value);
        Assert.Equal(StoreStatus.UnknownTopic, (await Store.SetTopicConfigsAsync("missing", NoConfigs)).Status);
    }

    [Fact]
    public async Task Describe_configs_shows_topic_overrides_and_defaults()
    {
        await Store.CreateTopicAsync("orders", 1, new Dictionary<string, string> { ["cleanup.policy"] = "compact" });

        var entries = Store.DescribeTopicConfigs("orders").ToDictionary(e => e.Name);

        Assert.Equal(("compact", ConfigSource.Topic), (entries["cleanup.policy"].Value, entries["cleanup.policy"].Source));
        Assert.Equal(("604800000", ConfigSource.Default), (entries["retention.ms"].Value, entries["retention.ms"].Source));
        Assert.Empty(Store.DescribeTopicConfigs("missing"));
    }

    [Fact]
    public async Task Deleted_topic_disappears_and_wakes_waiters()
    {
        var log = await CreatePartitionAsync("orders");
        var waiter = log.WaitForAppendAsync(CancellationToken.None);

        Assert.Equal(StoreStatus.Ok, await Store.DeleteTopicAsync("orders"));

        Assert.Null(Store.GetTopic("orders"));
        Assert.Null(Store.GetPartition("orders", 0));
        await waiter.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StoreStatus.UnknownTopic, await Store.DeleteTopicAsync("orders"));
        await Assert.ThrowsAsync<StorageException>(async () => await AppendAsync(log, TestBatches.OfSize(1, 10)));
    }

    [Fact]
    public async Task Topic_can_be_recreated_after_deletion_with_an_empty_log()
    {
        var log = await CreatePartitionAsync("orders");
        await AppendAsync(log, TestBatches.OfSize(3, 10));
        await Store.DeleteTopicAsync("orders");

        var recreated = await CreatePartitionAsync("orders");

        Assert.Equal(0, recreated.LogEndOffset);
        using var read = await recreated.ReadAsync(0, 1 << 20, true, long.MaxValue);
        Assert.True(read.Records.IsEmpty);
    }

    [Fact]
    public async Task Appends_assign_consecutive_offsets_by_patching_base_offsets()
    {
        var log = await CreatePartitionAsync();
        var first = TestBatches.OfSize(3, 10);
        var second = TestBatches.OfSize(2, 10);

        var a = await AppendAsync(log, first);
        var b = await AppendAsync(log, second);

        Assert.Equal((0L, 2L), (a.BaseOffset, a.LastOffset));
        Assert.Equal((3L, 4L), (b.BaseOffset, b.LastOffset));
        Assert.Equal(3, new RecordBatchHeader(second).BaseOffset);
        Assert.True(new RecordBatchHeader(second).IsCrcValid);
        Assert.Equal(5, log.LogEndOffset);
        Assert.Equal(5, log.HighWatermark);
        Assert.Equal(first.Length + second.Length, log.SizeInBytes);
        Assert.Equal(-1, a.LogAppendTime);
    }

    [Fact]
    public async Task Several_batches_in_one_append_get_consecutive_offsets()
    {
        var log = await CreatePartitionAsync();
        var batches = TestBatches.OfSize(2, 10).Concat(TestBatches.OfSize(4, 10)).ToArray();

        var result = await AppendAsync(log, batches);

        Assert.Equal((0L, 5L), (result.BaseOffset, result.LastOffset));
        using var read = await log.ReadAsync(0, 1 << 20, true, long.MaxValue);
        var stored = TestBatches.Split(read.Records.Span);
        Assert.Equal([0L, 2L], stored.Select(b => new RecordBatchHeader(b).BaseOffset));
    }

    [Fact]
    public async Task Malformed_batches_are_rejected_without_moving_the_log_end()
    {
        var log = await CreatePartitionAsync();
        var torn = TestBatches.OfSize(2, 10)[..40];

        await Assert.ThrowsAsync<ArgumentException>(async () => await AppendAsync(log, torn));

        Assert.Equal(0, log.LogEndOffset);
    }

    [Fact]
    public async Task Log_append_time_patches_max_timestamp_attributes_and_crc()
    {
        var log = await CreatePartitionAsync();
        var batch = TestBatches.OfSize(3, 10, baseTimestamp: 1_000);

        var result = await log.AppendAsync(batch, new AppendOptions(TimestampType.LogAppendTime, 99_000, 7));

        Assert.Equal(99_000, result.LogAppendTime);
        using var read = await log.ReadAsync(0, 1 << 20, true, long.MaxValue);
        var header = new RecordBatchHeader(read.Records.Span);
        Assert.Equal(99_000, header.MaxTimestamp);
        Assert.Equal(TimestampType.LogAppendTime, header.TimestampType);
        Assert.Equal(7, header.PartitionLeaderEpoch);
        Assert.True(header.IsCrcValid);
    }

    [Fact]
    public async Task Read_from_an_offset_inside_a_batch_returns_that_whole_batch()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(3, 10));
        await AppendAsync(log, TestBatches.OfSize(3, 10));

        using var read = await log.ReadAsync(4, 1 << 20, true, long.MaxValue);

        var batch = Assert.Single(TestBatches.Split(read.Records.Span));
        Assert.Equal(3, new RecordBatchHeader(batch).BaseOffset);
        Assert.Equal(6, read.HighWatermark);
        Assert.Equal(6, read.LogEndOffset);
        Assert.Equal(0, read.LogStartOffset);
    }

    [Fact]
    public async Task Read_returns_whole_batches_within_max_bytes()
    {
        var log = await CreatePartitionAsync();
        var size = TestBatches.OfSize(1, 100).Length;
        for (var i = 0; i < 5; i++) await AppendAsync(log, TestBatches.OfSize(1, 100));

        using var read = await log.ReadAsync(0, size * 2 + size / 2, false, long.MaxValue);

        Assert.Equal(2 * size, read.Records.Length);
    }

    [Fact]
    public async Task Oversized_first_batch_is_returned_only_when_min_one_batch()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(1, 1000));

        using var strict = await log.ReadAsync(0, 100, false, long.MaxValue);
        using var lenient = await log.ReadAsync(0, 100, true, long.MaxValue);

        Assert.True(strict.Records.IsEmpty);
        Assert.Single(TestBatches.Split(lenient.Records.Span));
    }

    [Fact]
    public async Task Read_stops_before_the_batch_holding_max_offset()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(2, 10));
        await AppendAsync(log, TestBatches.OfSize(2, 10));

        using var read = await log.ReadAsync(0, 1 << 20, true, maxOffset: 2);
        using var none = await log.ReadAsync(0, 1 << 20, true, maxOffset: 0);

        Assert.Single(TestBatches.Split(read.Records.Span));
        Assert.True(none.Records.IsEmpty);
    }

    [Fact]
    public async Task Read_at_log_end_is_empty_and_outside_the_log_throws()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(2, 10));

        using var atEnd = await log.ReadAsync(2, 1 << 20, true, long.MaxValue);

        Assert.True(atEnd.Records.IsEmpty);
        await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(3, 100, true, long.MaxValue));
        await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(-1, 100, true, long.MaxValue));
    }

    [Fact]
    public async Task Records_come_back_byte_for_byte()
    {
        var log = await CreatePartitionAsync();
        var batch = TestBatches.Keyed(5_000, ("k1", "v1"), ("k2", null), ("k3", "value three"));
        await AppendAsync(log, batch);

        using var read = await log.ReadAsync(0, 1 << 20, true, long.MaxValue);

        Assert.Equal(batch, read.Records.ToArray());
        Assert.Equal([(0L, "k1", "v1"), (1L, "k2", null), (2L, "k3", "value three")], TestBatches.Records(read.Records.Span));
    }

    [Fact]
    public async Task Timestamp_lookup_finds_the_first_record_at_or_after_the_time()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(3, 10, baseTimestamp: 1_000)); // offsets 0..2 at 1000..1002
        await AppendAsync(log, TestBatches.OfSize(3, 10, baseTimestamp: 2_000)); // offsets 3..5 at 2000..2002

        Assert.Equal(new TimestampOffset(1_000, 0), await log.FindOffsetByTimestampAsync(0));
        Assert.Equal(new TimestampOffset(1_002, 2), await log.FindOffsetByTimestampAsync(1_002));
        Assert.Equal(new TimestampOffset(2_000, 3), await log.FindOffsetByTimestampAsync(1_500));
        Assert.Equal(new TimestampOffset(2_001, 4), await log.FindOffsetByTimestampAsync(2_001));
        Assert.Null(await log.FindOffsetByTimestampAsync(2_003));
    }

    [Fact]
    public async Task Max_timestamp_points_at_the_record_carrying_it()
    {
        var log = await CreatePartitionAsync();
        Assert.Null(await log.FindMaxTimestampAsync());
        await AppendAsync(log, TestBatches.OfSize(3, 10, baseTimestamp: 5_000));
        await AppendAsync(log, TestBatches.OfSize(3, 10, baseTimestamp: 1_000));

        Assert.Equal(new TimestampOffset(5_002, 2), await log.FindMaxTimestampAsync());
    }

    [Fact]
    public async Task Delete_records_moves_the_log_start_offset()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(3, 10));
        await AppendAsync(log, TestBatches.OfSize(3, 10));

        Assert.Equal(4, await log.DeleteRecordsBeforeAsync(4));

        Assert.Equal(4, log.LogStartOffset);
        await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(2, 100, true, long.MaxValue));
        using var read = await log.ReadAsync(4, 1 << 20, true, long.MaxValue);
        Assert.Equal(4, read.LogStartOffset);
        // The batch holding the new start is kept whole; the consumer skips records below it.
        Assert.Equal(3, new RecordBatchHeader(read.Records.Span).BaseOffset);
        Assert.Equal(4, (await log.FindOffsetByTimestampAsync(0))!.Value.Offset);
        Assert.Equal(4, await log.DeleteRecordsBeforeAsync(1)); // never moves backwards
        Assert.Equal(4, (await AppendAsync(log, TestBatches.OfSize(1, 10))).LogStartOffset);
    }

    [Fact]
    public async Task Delete_records_to_the_high_watermark_empties_the_log()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(3, 10));

        Assert.Equal(3, await log.DeleteRecordsBeforeAsync(-1));

        using var read = await log.ReadAsync(3, 1 << 20, true, long.MaxValue);
        Assert.True(read.Records.IsEmpty);
        Assert.Equal(3, log.LogEndOffset);
        Assert.Equal(3, (await AppendAsync(log, TestBatches.OfSize(1, 10))).BaseOffset);
    }

    [Fact]
    public async Task Delete_records_beyond_the_high_watermark_throws()
    {
        var log = await CreatePartitionAsync();
        await AppendAsync(log, TestBatches.OfSize(3, 10));

        await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.DeleteRecordsBeforeAsync(4));
        Assert.Equal(0, log.LogStartOffset);
    }

    [Fact]
    public async Task Waiting_for_append_completes_when_data_arrives()
    {
        var log = await CreatePartitionAsync();
        var waiter = log.WaitForAppendAsync(CancellationToken.None);
        Assert.False(waiter.IsCompleted);

        await AppendAsync(log, TestBatches.OfSize(1, 10));

        await waiter.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Waiting_for_append_honours_cancellation()
    {
        var log = await CreatePartitionAsync();
        using var cts = new CancellationTokenSource();
        var waiter = log.WaitForAppendAsync(cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
    }

    [Fact]
    public async Task Concurrent_appends_get_distinct_contiguous_offsets_and_readers_see_whole_batches()
    {
        var log = await CreatePartitionAsync();
        const int Writers = 4, PerWriter = 50;
        using var stop = new CancellationTokenSource();
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var read = await log.ReadAsync(log.LogStartOffset, 1 << 20, true, long.MaxValue);
                foreach (var batch in TestBatches.Split(read.Records.Span)) Assert.True(new RecordBatchHeader(batch).IsCrcValid);
            }
        });

        var results = await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            var mine = new List<AppendResult>();
            for (var i = 0; i < PerWriter; i++) mine.Add(await AppendAsync(log, TestBatches.OfSize(2, 50)));
            return mine;
        })));
        await stop.CancelAsync();
        await reader;

        var offsets = results.SelectMany(r => r).OrderBy(r => r.BaseOffset).ToList();
        Assert.Equal(Enumerable.Range(0, Writers * PerWriter).Select(i => 2L * i), offsets.Select(r => r.BaseOffset));
        Assert.Equal(2 * Writers * PerWriter, log.LogEndOffset);
        using var all = await log.ReadAsync(0, int.MaxValue, true, long.MaxValue);
        Assert.Equal(Writers * PerWriter, TestBatches.Split(all.Records.Span).Count);
    }
}

public sealed class InMemoryLogStoreContractTests : LogStoreContractTests
{
    protected override Task<ILogStore> CreateStoreAsync() => Task.FromResult<ILogStore>(new InMemoryLogStore(Clock));
}

public sealed class DiskLogStoreContractTests : LogStoreContractTests
{
    private readonly TempDirectory _directory = new();

    protected override async Task<ILogStore> CreateStoreAsync() =>
        await DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path) { TimeProvider = Clock, BackgroundInterval = null });

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }

    [Fact]
    public async Task Topics_and_data_survive_reopening()
    {
        var log = await CreatePartitionAsync("orders", 2);
        await AppendAsync(log, TestBatches.OfSize(3, 10));
        await log.DeleteRecordsBeforeAsync(1);
        var id = Store.GetTopic("orders")!.TopicId;
        await Store.DisposeAsync();

        await using var reopened = await DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path) { BackgroundInterval = null });

        Assert.Equal(id, reopened.GetTopic("orders")!.TopicId);
        var again = reopened.GetPartition("orders", 0)!;
        Assert.Equal((1L, 3L, 3L), (again.LogStartOffset, again.LogEndOffset, again.HighWatermark));
        Assert.Equal(3, (await again.AppendAsync(TestBatches.OfSize(1, 10), new AppendOptions(TimestampType.CreateTime, -1, 0))).BaseOffset);
    }
}
