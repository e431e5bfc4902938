using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

public sealed class CompactionTests : IDisposable
{
    private static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);
    private readonly TempDirectory _directory = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _directory.Dispose();

    private Task<DiskLogStore> OpenAsync() =>
        DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path) { TimeProvider = _clock, BackgroundInterval = null });

    private static async Task<DiskPartitionLog> CreateAsync(DiskLogStore store, params (string Name, string Value)[] configs)
    {
        var all = new Dictionary<string, string> { ["cleanup.policy"] = "compact", ["segment.bytes"] = "150" };
        foreach (var (name, value) in configs) all[name] = value;
        Assert.Equal(StoreStatus.Ok, (await store.CreateTopicAsync("table", 1, all)).Status);
        return store.GetDiskPartition("table", 0)!;
    }

    private async Task AppendAsync(IPartitionLog log, string key, string? value) =>
        await log.AppendAsync(TestBatches.Keyed(_clock.NowMs, (key, value)), CreateTime);

    private static async Task<List<(long Offset, string? Key, string? Value)>> ReadAllAsync(IPartitionLog log)
    {
        using var read = await log.ReadAsync(log.LogStartOffset, int.MaxValue, true, long.MaxValue);
        foreach (var batch in TestBatches.Split(read.Records.Span)) Assert.True(new RecordBatchHeader(batch).IsCrcValid);
        return TestBatches.Records(read.Records.Span);
    }

    [Fact]
    public async Task Cleaning_keeps_the_latest_record_per_key_and_the_offsets()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "100")); // one batch per segment
        await AppendAsync(log, "a", "1");
        await AppendAsync(log, "b", "1");
        await AppendAsync(log, "a", "2");
        await AppendAsync(log, "c", "1");
        await AppendAsync(log, "b", "2");
        await AppendAsync(log, "a", "3"); // active segment: never cleaned

        Assert.Equal(1, await store.RunCleanerAsync());

        Assert.Equal([(2L, "a", "2"), (3L, "c", "1"), (4L, "b", "2"), (5L, "a", "3")], await ReadAllAsync(log));
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(6, (await log.AppendAsync(TestBatches.Keyed(0, ("d", "1")), CreateTime)).BaseOffset);
    }

    [Fact]
    public async Task Records_within_one_batch_are_filtered_and_the_batch_keeps_its_offsets()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "1000"));
        await log.AppendAsync(TestBatches.Keyed(_clock.NowMs - 100, ("a", "1"), ("b", "1"), ("a", "2"), ("c", "1")), CreateTime);
        await log.AppendAsync(TestBatches.OfSize(20, 40), CreateTime); // forces a roll

        await store.RunCleanerAsync();
        using var read = await log.ReadAsync(0, int.MaxValue, true, long.MaxValue);
        var first = TestBatches.Split(read.Records.Span)[0];

        var header = new RecordBatchHeader(first);
        Assert.Equal((0L, 3L, 3), (header.BaseOffset, header.LastOffset, header.RecordCount));
        Assert.True(header.IsCrcValid);
        Assert.Equal([(1L, "b", "1"), (2L, "a", "2"), (3L, "c", "1")], TestBatches.Records(first));
    }

    [Fact]
    public async Task Tombstones_are_kept_until_delete_retention_ms_has_passed()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("delete.retention.ms", "60000"));
        await AppendAsync(log, "a", "1");
        await AppendAsync(log, "a", null);
        await AppendAsync(log, "b", "1");

        await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None);
        Assert.Equal([(1L, "a", null), (2L, "b", "1")], await ReadAllAsync(log));

        _clock.Advance(TimeSpan.FromMinutes(2));
        await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None);

        Assert.Equal([(2L, "b", "1")], await ReadAllAsync(log));
    }

    [Fact]
    public async Task Cleaning_waits_for_the_dirty_ratio()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("min.cleanable.dirty.ratio", "0.6"));
        for (var i = 0; i < 6; i++) await AppendAsync(log, $"k{i}", "v");
        Assert.Equal(1, await store.RunCleanerAsync()); // everything dirty

        await AppendAsync(log, "k0", "w");
        await AppendAsync(log, "k1", "w");

        Assert.Equal(0, await store.RunCleanerAsync()); // two dirty segments of seven: below 0.6
    }

    [Fact]
    public async Task Records_younger_than_min_compaction_lag_are_not_cleaned()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("min.compaction.lag.ms", "60000"));
        await AppendAsync(log, "a", "1");
        await AppendAsync(log, "a", "2");
        await AppendAsync(log, "b", "1");

        Assert.Equal(0, await store.RunCleanerAsync());
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await store.RunCleanerAsync());

        Assert.Equal([(1L, "a", "2"), (2L, "b", "1")], await ReadAllAsync(log));
    }

    [Fact]
    public async Task Control_batches_and_keyless_records_are_kept()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store);
        const short Control = 0x30; // transactional control batch
        await log.AppendAsync(TestBatches.Create(_clock.NowMs, Control, new TestRecord([0, 0, 0, 1], [0, 0, 0, 0, 0, 0])), CreateTime);
        await log.AppendAsync(TestBatches.Create(_clock.NowMs, new TestRecord(null, [1])), CreateTime);
        await AppendAsync(log, "a", "1");

        await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None);

        using var read = await log.ReadAsync(0, int.MaxValue, true, long.MaxValue);
        var batches = TestBatches.Split(read.Records.Span);
        Assert.Equal(3, batches.Count);
        Assert.True(new RecordBatchHeader(batches[0]).IsControl);
    }

    [Fact]
    public async Task Compacted_log_survives_reopening()
    {
        List<(long, string?, string?)> expected;
        await using (var store = await OpenAsync())
        {
            var log = await CreateAsync(store);
            for (var i = 0; i < 10; i++) await AppendAsync(log, $"k{i % 3}", $"v{i}");
            await store.RunCleanerAsync();
            expected = await ReadAllAsync(log);
        }

        await using var reopened = await OpenAsync();

        Assert.Equal(expected, await ReadAllAsync(reopened.GetPartition("table", 0)!));
    }

    [Fact]
    public async Task A_pending_delete_horizon_survives_reopening()
    {
        await using (var store = await OpenAsync())
        {
            var log = await CreateAsync(store, ("segment.bytes", "14"), ("delete.retention.ms", "60000"));
            await AppendAsync(log, "a", "1");
            await AppendAsync(log, "a", null);
            await AppendAsync(log, "b", "1");
            await AppendAsync(log, "x", "1");
            Assert.Equal(1, await store.RunCleanerAsync());
            Assert.Equal([(1L, "a", null), (2L, "b", "1"), (3L, "x", "1")], await ReadAllAsync(log));
        }
        _clock.Advance(TimeSpan.FromSeconds(61));

        await using var reopened = await OpenAsync();

        // Nothing is dirty: only the horizon recorded in the checkpoint makes the log due.
        Assert.Equal(1, await reopened.RunCleanerAsync());
        Assert.Equal([(2L, "b", "1"), (3L, "x", "1")], await ReadAllAsync(reopened.GetPartition("table", 0)!));
    }

    [Fact]
    public async Task Segments_without_changes_are_not_rewritten()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "14"));
        foreach (var key in new[] { "a", "b", "c", "x" }) await AppendAsync(log, key, "1");
        var before = log.Segments;

        Assert.True(await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None));
        Assert.Equal(before, log.Segments);

        await AppendAsync(log, "a", "2");
        await AppendAsync(log, "y", "1");
        Assert.True(await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None));

        var after = log.Segments;
        Assert.NotSame(before[0], after[0]);
        Assert.True(after[0].IsEmpty);
        Assert.Equal(before[1..].ToArray(), after[1..before.Length].ToArray()); // the same instances: untouched
    }

    [Fact]
    public async Task Compacted_compressed_batches_survive_a_crash_and_recovery()
    {
        List<(long, string?, string?, long)> expected;
        var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "300"));
        CompressionType[] codecs = [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];
        for (var i = 0; i < 40; i++)
        {
            var records = new[] { ($"k{i % 7}", i % 9 == 0 ? null : (string?)$"v{i}"), ($"j{i % 5}", (string?)$"w{i}") };
            await log.AppendAsync(TestBatches.Build(_clock.NowMs, codecs[i % codecs.Length], records), CreateTime);
        }
        await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None);
        using (var read = await log.ReadAsync(0, int.MaxValue, true, long.MaxValue))
        {
            expected = TestBatches.Decode(read.Records);
        }
        Assert.True(expected.Count < 80);
        await store.AbandonAsync();

        await using var reopened = await OpenAsync();

        using var again = await reopened.GetPartition("table", 0)!.ReadAsync(0, int.MaxValue, true, long.MaxValue);
        Assert.Equal(expected, TestBatches.Decode(again.Records));
    }

    [Fact]
    public async Task Cleaning_races_safely_with_appends_and_reads()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "600"));
        var model = new Dictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                var key = $"k{i % 17}";
                await AppendAsync(log, key, $"v{i}");
                model[key] = $"v{i}";
            }
        });
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var records = await ReadAllAsync(log);
                Assert.Equal(records.Select(r => r.Offset).Order(), records.Select(r => r.Offset));
            }
        });
        var cleanings = 0;
        while (!writer.IsCompleted)
        {
            if (await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None)) cleanings++;
        }
        await writer;
        await LogCleaner.CleanAsync(log, _clock, force: true, CancellationToken.None);
        await stop.CancelAsync();
        await reader;

        Assert.True(cleanings > 0);
        var final = await ReadAllAsync(log);
        var latest = final.GroupBy(r => r.Key!).ToDictionary(g => g.Key, g => g.Last().Value);
        Assert.Equal(model.OrderBy(p => p.Key), latest.OrderBy(p => p.Key)!);
        Assert.Equal(150, log.LogEndOffset);
    }
}
