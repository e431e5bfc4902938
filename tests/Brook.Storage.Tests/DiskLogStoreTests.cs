using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

/// <summary>Disk-only behaviour: segments, indexes, retention, recovery.</summary>
public sealed class DiskLogStoreTests : IDisposable
{
    private static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);
    private readonly TempDirectory _directory = new();
    private readonly ManualTimeProvider _clock = new();

    public void Dispose() => _directory.Dispose();

    private string PartitionDirectory => Path.Combine(_directory.Path, "events-0");

    private Task<DiskLogStore> OpenAsync(Dictionary<string, string>? broker = null) =>
        DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path) { TimeProvider = _clock, BackgroundInterval = null, BrokerConfigs = broker ?? [] });

    private static async Task<IPartitionLog> CreateAsync(DiskLogStore store, params (string Name, string Value)[] configs)
    {
        var result = await store.CreateTopicAsync("events", 1, configs.ToDictionary(c => c.Name, c => c.Value));
        Assert.Equal(StoreStatus.Ok, result.Status);
        return store.GetPartition("events", 0)!;
    }

    private static async Task<List<byte[]>> ReadAllAsync(IPartitionLog log)
    {
        using var read = await log.ReadAsync(log.LogStartOffset, int.MaxValue, true, long.MaxValue);
        return TestBatches.Split(read.Records.Span);
    }

    private string[] SegmentFiles() => Directory.GetFiles(PartitionDirectory, "*.log").Select(Path.GetFileName).Order().ToArray()!;

    private string[] DeletedFiles() => Directory.GetFiles(PartitionDirectory, "*.deleted").Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public async Task Segments_roll_at_segment_bytes_and_are_named_by_base_offset()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "400"));
        var batchSize = TestBatches.OfSize(2, 50).Length; // about 170 bytes: two per segment

        for (var i = 0; i < 6; i++) await log.AppendAsync(TestBatches.OfSize(2, 50), CreateTime);

        Assert.Equal(["00000000000000000000.log", "00000000000000000004.log", "00000000000000000008.log"], SegmentFiles());
        Assert.Equal(6 * batchSize, log.SizeInBytes);
        var all = await ReadAllAsync(log);
        Assert.Equal([0L, 2, 4, 6, 8, 10], all.Select(b => new RecordBatchHeader(b).BaseOffset));
        using var middle = await log.ReadAsync(5, int.MaxValue, true, long.MaxValue);
        Assert.Equal(4, new RecordBatchHeader(middle.Records.Span).BaseOffset);
    }

    [Fact]
    public async Task Flushed_pages_behind_the_retained_window_leave_the_page_cache_and_still_read_back()
    {
        await using var store = await OpenAsync(new() { [DiskLogStore.PageCacheRetainBytesConfig] = (1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var log = await CreateAsync(store);
        var batches = Enumerable.Range(0, 8).Select(i => TestBatches.OfSize(4, 128 * 1024, 1_000 + i)).ToList();
        foreach (var batch in batches) await log.AppendAsync(batch.ToArray(), CreateTime); // fsync per append (Brook's default)

        var segment = ((DiskPartitionLog)log).Segments[^1];
        // Everything flushed but the newest 1 MiB (in whole-MiB steps) was handed back.
        Assert.InRange(segment.CacheDroppedTo, segment.Size - (2L << 20), segment.Size - (1L << 20));
        var all = await ReadAllAsync(log);
        Assert.Equal(batches.Count, all.Count);
        for (var i = 0; i < batches.Count; i++) Assert.Equal(batches[i].AsSpan(16..), all[i].AsSpan(16..)); // past the offset and leader epoch the log sets
    }

    [Fact]
    public async Task Without_a_retained_window_the_page_cache_is_left_to_the_kernel()
    {
        await using var store = await OpenAsync(new() { [DiskLogStore.PageCacheRetainBytesConfig] = "-1" });
        var log = await CreateAsync(store);
        for (var i = 0; i < 4; i++) await log.AppendAsync(TestBatches.OfSize(4, 256 * 1024), CreateTime);
        Assert.Equal(0, ((DiskPartitionLog)log).Segments[^1].CacheDroppedTo);
    }

    [Fact]
    public async Task Segments_roll_after_segment_ms_by_the_store_clock()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.ms", "60000"));
        await log.AppendAsync(TestBatches.OfSize(1, 10), CreateTime);
        _clock.Advance(TimeSpan.FromSeconds(59));
        await log.AppendAsync(TestBatches.OfSize(1, 10), CreateTime);
        Assert.Single(SegmentFiles());

        _clock.Advance(TimeSpan.FromSeconds(2));
        await log.AppendAsync(TestBatches.OfSize(1, 10), CreateTime);

        Assert.Equal(["00000000000000000000.log", "00000000000000000002.log"], SegmentFiles());
    }

    [Fact]
    public async Task Time_retention_deletes_whole_segments_older_than_retention_ms()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "200"), ("retention.ms", "3600000"));
        await log.AppendAsync(TestBatches.OfSize(1, 50, baseTimestamp: _clock.NowMs), CreateTime);
        await log.AppendAsync(TestBatches.OfSize(1, 50, baseTimestamp: _clock.NowMs), CreateTime);
        _clock.Advance(TimeSpan.FromMinutes(30));
        await log.AppendAsync(TestBatches.OfSize(1, 50, baseTimestamp: _clock.NowMs), CreateTime);
        Assert.Equal(0, await store.EnforceRetentionAsync());

        _clock.Advance(TimeSpan.FromMinutes(31));

        Assert.Equal(2, await store.EnforceRetentionAsync());
        Assert.Equal(2, log.LogStartOffset);
        Assert.Equal(["00000000000000000002.log"], SegmentFiles());
        await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(0, 100, true, long.MaxValue));

        _clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(1, await store.EnforceRetentionAsync());
        Assert.Equal((3L, 3L), (log.LogStartOffset, log.LogEndOffset));
        Assert.Equal(3, (await log.AppendAsync(TestBatches.OfSize(1, 10), CreateTime)).BaseOffset);
    }

    [Fact]
    public async Task Size_retention_deletes_oldest_segments_while_the_rest_still_reaches_retention_bytes()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "200"), ("retention.bytes", "400"), ("retention.ms", "-1"));
        for (var i = 0; i < 6; i++) await log.AppendAsync(TestBatches.OfSize(1, 50), CreateTime);

        await store.EnforceRetentionAsync();

        // As in Kafka, a segment goes only if the log stays at or above retention.bytes without it.
        var segmentSize = TestBatches.OfSize(1, 50).Length;
        Assert.InRange(log.SizeInBytes, 400, 400 + segmentSize);
        Assert.Equal(2, log.LogStartOffset);
        Assert.Equal([2L, 3L, 4L, 5L], (await ReadAllAsync(log)).Select(b => new RecordBatchHeader(b).BaseOffset));
    }

    [Fact]
    public async Task Compact_only_topics_are_not_deleted_by_retention()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "200"), ("retention.ms", "1"), ("cleanup.policy", "compact"));
        for (var i = 0; i < 3; i++) await log.AppendAsync(TestBatches.OfSize(1, 50, baseTimestamp: 0), CreateTime);

        Assert.Equal(0, await store.EnforceRetentionAsync());
        Assert.Equal(0, log.LogStartOffset);
    }

    [Fact]
    public async Task Deleted_segments_wait_as_deleted_files_for_file_delete_delay_ms()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "14"), ("retention.ms", "60000"), ("file.delete.delay.ms", "30000"));
        for (var i = 0; i < 2; i++) await log.AppendAsync(TestBatches.OfSize(1, 50, baseTimestamp: _clock.NowMs - 120_000), CreateTime);
        await log.AppendAsync(TestBatches.OfSize(1, 50, baseTimestamp: _clock.NowMs), CreateTime);

        Assert.Equal(2, await store.EnforceRetentionAsync());

        Assert.Equal(["00000000000000000002.log"], SegmentFiles());
        string[] waiting = ["00000000000000000000.log.deleted", "00000000000000000001.log.deleted"];
        Assert.Equal(waiting, DeletedFiles().Where(f => f.EndsWith(".log.deleted", StringComparison.Ordinal)));
        Assert.Equal(6, DeletedFiles().Length); // with their indexes

        _clock.Advance(TimeSpan.FromSeconds(29));
        await store.EnforceRetentionAsync();
        Assert.Equal(6, DeletedFiles().Length);

        _clock.Advance(TimeSpan.FromSeconds(2));
        await store.EnforceRetentionAsync();
        Assert.Empty(DeletedFiles());
    }

    [Fact]
    public async Task A_reader_holding_a_deleted_segment_reads_it_until_file_delete_delay_ms_has_passed()
    {
        await using var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "14"), ("file.delete.delay.ms", "30000"));
        var first = TestBatches.OfSize(1, 50);
        await log.AppendAsync(first, CreateTime);
        await log.AppendAsync(TestBatches.OfSize(1, 50), CreateTime);
        var partition = store.GetDiskPartition("events", 0)!;
        var picked = partition.Segments[0];
        var cached = store.Handles.Get(picked);

        await log.DeleteRecordsBeforeAsync(1);

        Assert.DoesNotContain(picked, partition.Segments);
        // Both the handle taken before the deletion and the one a reader of the old segment list gets read the old bytes.
        foreach (var handle in new[] { cached, store.Handles.Get(picked) })
        {
            var bytes = new byte[first.Length];
            Assert.Equal(first.Length, RandomAccess.Read(handle, bytes, 0));
            Assert.Equal(first, bytes);
        }

        _clock.Advance(TimeSpan.FromSeconds(31));
        await store.EnforceRetentionAsync();

        Assert.Throws<ObjectDisposedException>(() => RandomAccess.Read(cached, new byte[1], 0));
        Assert.Throws<ObjectDisposedException>(() => RandomAccess.Read(store.Handles.Get(picked), new byte[1], 0));
        Assert.Empty(DeletedFiles());
    }

    [Fact]
    public async Task Deleted_files_left_by_a_crash_are_removed_on_open()
    {
        await using (var store = await OpenAsync())
        {
            var log = await CreateAsync(store);
            await log.AppendAsync(TestBatches.OfSize(1, 50), CreateTime);
        }
        File.WriteAllBytes(Path.Combine(PartitionDirectory, "00000000000000000099.log.deleted"), [1, 2, 3]);

        await using var reopened = await OpenAsync();

        Assert.Empty(DeletedFiles());
        Assert.Equal(1, reopened.GetPartition("events", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task Delete_records_removes_segments_below_the_new_start_and_persists_it()
    {
        await using (var store = await OpenAsync())
        {
            var log = await CreateAsync(store, ("segment.bytes", "200"));
            for (var i = 0; i < 4; i++) await log.AppendAsync(TestBatches.OfSize(1, 50), CreateTime);

            await log.DeleteRecordsBeforeAsync(2);

            Assert.Equal(["00000000000000000002.log", "00000000000000000003.log"], SegmentFiles());
        }
        await using var reopened = await OpenAsync();
        Assert.Equal(2, reopened.GetPartition("events", 0)!.LogStartOffset);
    }

    [Fact]
    public async Task Missing_and_corrupt_indexes_are_rebuilt_on_open()
    {
        List<byte[]> expected;
        await using (var store = await OpenAsync())
        {
            var log = await CreateAsync(store, ("index.interval.bytes", "100"));
            for (var i = 0; i < 20; i++) await log.AppendAsync(TestBatches.OfSize(2, 40, baseTimestamp: 1_000 + i * 10), CreateTime);
            expected = await ReadAllAsync(log);
        }
        var index = Path.Combine(PartitionDirectory, "00000000000000000000.index");
        var timeIndex = Path.Combine(PartitionDirectory, "00000000000000000000.timeindex");
        var indexLength = new FileInfo(index).Length;
        Assert.True(indexLength >= 10 * LogSegment.OffsetEntrySize);
        File.Delete(index);
        File.WriteAllBytes(timeIndex, [1, 2, 3]);

        await using var reopened = await OpenAsync();

        var again = reopened.GetPartition("events", 0)!;
        Assert.Equal(indexLength, new FileInfo(index).Length);
        Assert.Equal(0, new FileInfo(timeIndex).Length % LogSegment.TimeEntrySize);
        Assert.Equal(expected, await ReadAllAsync(again));
        using var fromMiddle = await again.ReadAsync(27, int.MaxValue, true, long.MaxValue);
        Assert.Equal(26, new RecordBatchHeader(fromMiddle.Records.Span).BaseOffset);
        Assert.Equal(new TimestampOffset(1_150, 30), await again.FindOffsetByTimestampAsync(1_145));
        Assert.Equal(new TimestampOffset(1_191, 39), await again.FindMaxTimestampAsync());
    }

    [Fact]
    public async Task Torn_tail_after_a_crash_is_truncated_to_the_last_whole_batch()
    {
        var sizes = new List<long>();
        var store = await OpenAsync();
        var log = await CreateAsync(store);
        for (var i = 0; i < 5; i++)
        {
            await log.AppendAsync(TestBatches.OfSize(1, 30 + i), CreateTime);
            sizes.Add(log.SizeInBytes);
        }
        await store.AbandonAsync();
        var file = Path.Combine(PartitionDirectory, "00000000000000000000.log");
        using (var stream = new FileStream(file, FileMode.Open)) stream.SetLength(sizes[3] - 7);

        await using var reopened = await OpenAsync();

        var again = reopened.GetPartition("events", 0)!;
        Assert.Equal(3, again.LogEndOffset);
        Assert.Equal(sizes[2], new FileInfo(file).Length);
        Assert.Equal(3, (await again.AppendAsync(TestBatches.OfSize(1, 10), CreateTime)).BaseOffset);
    }

    [Fact]
    public async Task Acknowledged_appends_survive_reopening_without_a_clean_shutdown()
    {
        var store = await OpenAsync();
        var log = await CreateAsync(store, ("segment.bytes", "300"));
        var appended = new List<byte[]>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++) await log.AppendAsync(TestBatches.OfSize(1, 40), CreateTime);
        })));
        var expected = await ReadAllAsync(log);
        await store.AbandonAsync();

        await using var reopened = await OpenAsync();

        Assert.Equal(expected, await ReadAllAsync(reopened.GetPartition("events", 0)!));
    }

    [Fact]
    public async Task Only_whole_valid_batches_remain_after_random_truncation_or_corruption()
    {
        var random = new Random(1234);
        for (var round = 0; round < 12; round++)
        {
            using var directory = new TempDirectory();
            var options = new DiskLogStoreOptions(directory.Path) { TimeProvider = _clock, BackgroundInterval = null };
            var store = await DiskLogStore.OpenAsync(options);
            await store.CreateTopicAsync("events", 1, new Dictionary<string, string>());
            var log = store.GetPartition("events", 0)!;
            var written = new List<byte[]>();
            for (var i = 0; i < 20; i++)
            {
                var batch = TestBatches.OfSize(1 + random.Next(3), random.Next(1, 200));
                await log.AppendAsync(batch, CreateTime);
                written.Add(batch);
            }
            await store.AbandonAsync();
            var file = Path.Combine(directory.Path, "events-0", "00000000000000000000.log");
            var length = new FileInfo(file).Length;
            var damageAt = random.NextInt64(length);
            using (var stream = new FileStream(file, FileMode.Open))
            {
                if (round % 2 == 0)
                {
                    stream.SetLength(damageAt);
                }
                else
                {
                    stream.Position = damageAt;
                    var original = stream.ReadByte();
                    stream.Position = damageAt;
                    stream.WriteByte((byte)(original ^ 0x5A));
                }
            }

            await using var reopened = await DiskLogStore.OpenAsync(options);

            var recovered = await ReadAllAsync(reopened.GetPartition("events", 0)!);
            Assert.Equal(written.Take(recovered.Count), recovered);
            // Everything before the damaged batch is kept.
            var kept = 0L;
            var wholeBefore = written.TakeWhile(b => (kept += b.Length) <= damageAt).Count();
            Assert.True(recovered.Count >= wholeBefore, $"round {round}: {recovered.Count} < {wholeBefore}");
            Assert.True(recovered.Count < written.Count);
        }
    }

    [Fact]
    public async Task Read_handles_stay_bounded_across_many_partitions()
    {
        await using var store = await DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path) { BackgroundInterval = null, MaxOpenReadHandles = 8 });
        await store.CreateTopicAsync("wide", 50, new Dictionary<string, string>());
        for (var p = 0; p < 50; p++)
        {
            var log = store.GetPartition("wide", p)!;
            await log.AppendAsync(TestBatches.OfSize(1, 10), CreateTime);
            using var read = await log.ReadAsync(0, 1000, true, long.MaxValue);
            Assert.Single(TestBatches.Split(read.Records.Span));
        }

        Assert.True(store.Handles.Count <= 8);
    }

    [Fact]
    public async Task Flush_interval_policy_acknowledges_before_fsync_and_flushes_when_due()
    {
        await using var store = await OpenAsync(new Dictionary<string, string> { ["log.flush.interval.messages"] = "9223372036854775807" });
        var log = (DiskPartitionLog)await CreateAsync(store, ("flush.ms", "1000"));
        await log.AppendAsync(TestBatches.OfSize(1, 10), CreateTime);
        Assert.Equal(0, log.RecoveryPoint);

        await store.FlushDueAsync();
        Assert.Equal(0, log.RecoveryPoint);
        _clock.Advance(TimeSpan.FromSeconds(2));
        await store.FlushDueAsync();

        Assert.Equal(1, log.RecoveryPoint);
    }

    [Fact]
    public async Task Default_policy_fsyncs_every_append_before_acknowledging()
    {
        await using var store = await OpenAsync();
        var log = (DiskPartitionLog)await CreateAsync(store);

        await log.AppendAsync(TestBatches.OfSize(3, 10), CreateTime);

        Assert.Equal(3, log.RecoveryPoint);
        Assert.Equal("1", store.DescribeTopicConfigs("events").Single(e => e.Name == "flush.messages").Value);
    }

    [Fact]
    public async Task Flush_messages_policy_fsyncs_once_enough_messages_are_pending()
    {
        await using var store = await OpenAsync();
        var log = (DiskPartitionLog)await CreateAsync(store, ("flush.messages", "5"));

        await log.AppendAsync(TestBatches.OfSize(3, 10), CreateTime);
        Assert.Equal(0, log.RecoveryPoint);
        await log.AppendAsync(TestBatches.OfSize(3, 10), CreateTime);

        Assert.Equal(6, log.RecoveryPoint);
    }

    [Fact]
    public async Task Reopening_many_partitions_opens_no_files_until_they_are_used()
    {
        if (!Directory.Exists("/proc/self/fd")) return; // descriptor counting needs Linux
        await using (var store = await OpenAsync())
        {
            await store.CreateTopicAsync("wide", 200, new Dictionary<string, string>());
            for (var p = 0; p < 200; p++) await store.GetPartition("wide", p)!.AppendAsync(TestBatches.OfSize(1, 10), CreateTime);
        }
        var before = Directory.GetFiles("/proc/self/fd").Length;

        await using var reopened = await OpenAsync();

        Assert.Equal(1, reopened.GetPartition("wide", 199)!.LogEndOffset);
        Assert.InRange(Directory.GetFiles("/proc/self/fd").Length - before, -50, 50);
    }

    [Fact]
    public async Task Background_task_applies_retention_on_its_timer()
    {
        await using var store = await DiskLogStore.OpenAsync(new DiskLogStoreOptions(_directory.Path) { BackgroundInterval = TimeSpan.FromMilliseconds(20) });
        await store.CreateTopicAsync("events", 1, new Dictionary<string, string> { ["segment.bytes"] = "200", ["retention.ms"] = "1000" });
        var log = store.GetPartition("events", 0)!;
        // Record timestamps from 1970 are far past retention by the system clock.
        for (var i = 0; i < 3; i++) await log.AppendAsync(TestBatches.OfSize(1, 50, baseTimestamp: 1_000), CreateTime);

        Assert.True(SpinWait.SpinUntil(() => log.LogStartOffset == 3, TimeSpan.FromSeconds(30)), $"log start {log.LogStartOffset}");
    }
}
