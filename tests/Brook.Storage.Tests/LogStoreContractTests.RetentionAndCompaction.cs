using System.Collections.Concurrent;
using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

/// <summary>
/// Retention and compaction, the same for both stores. segment.bytes=14 gives the disk store one batch per segment,
/// the granularity at which the in-memory store works, so both must give the same answers.
/// </summary>
public abstract partial class LogStoreContractTests
{
    private const long ProducerA = 1001;
    private const long ProducerB = 1002;

    private ILogMaintenance Maintenance => (ILogMaintenance)Store;

    private async Task<IPartitionLog> CreateTopicAsync(params (string Name, string Value)[] configs)
    {
        var all = new Dictionary<string, string> { ["segment.bytes"] = "14" };
        foreach (var (name, value) in configs) all[name] = value;
        Assert.Equal(StoreStatus.Ok, (await Store.CreateTopicAsync("kept", 1, all)).Status);
        return Store.GetPartition("kept", 0)!;
    }

    private Task<IPartitionLog> CreateCompactedTopicAsync(params (string Name, string Value)[] configs) =>
        CreateTopicAsync([("cleanup.policy", "compact"), ("min.cleanable.dirty.ratio", "0"), .. configs]);

    private async Task<long> AppendKeyedAsync(IPartitionLog log, params (string Key, string? Value)[] records) =>
        (await AppendAsync(log, TestBatches.Build(Clock.NowMs, CompressionType.None, records))).BaseOffset;

    private static async Task<List<(long Offset, string? Key, string? Value)>> ReadRecordsAsync(IPartitionLog log)
    {
        using var read = await log.ReadAsync(log.LogStartOffset, int.MaxValue, true, long.MaxValue);
        return TestBatches.Decode(read.Records).Select(r => (r.Offset, r.Key, r.Value)).ToList();
    }

    private static async Task<List<byte[]>> ReadBatchesAsync(IPartitionLog log)
    {
        using var read = await log.ReadAsync(log.LogStartOffset, int.MaxValue, true, long.MaxValue);
        var batches = TestBatches.Split(read.Records.Span);
        Assert.All(batches, b => Assert.True(new RecordBatchHeader(b).IsCrcValid));
        return batches;
    }

    private static List<(long BaseOffset, bool HasDeleteHorizon)> ControlBatches(List<byte[]> batches) =>
        batches.Where(b => new RecordBatchHeader(b).IsControl).Select(b => (new RecordBatchHeader(b).BaseOffset, new RecordBatchHeader(b).HasDeleteHorizon)).ToList();

    [Fact]
    public async Task Retention_ms_deletes_the_batches_older_than_the_limit_and_moves_the_log_start()
    {
        var log = await CreateTopicAsync(("retention.ms", "60000"));
        for (var i = 0; i < 3; i++) await AppendAsync(log, TestBatches.OfSize(2, 10, Clock.NowMs - 120_000));
        await AppendAsync(log, TestBatches.OfSize(2, 10, Clock.NowMs));
        await AppendAsync(log, TestBatches.OfSize(2, 10, Clock.NowMs));

        Assert.Equal(3, await Maintenance.EnforceRetentionAsync());

        Assert.Equal((6L, 10L), (log.LogStartOffset, log.LogEndOffset));
        Assert.Equal([6L, 8L], (await ReadBatchesAsync(log)).Select(b => new RecordBatchHeader(b).BaseOffset));
        await Assert.ThrowsAsync<OffsetOutOfRangeException>(async () => await log.ReadAsync(0, 1 << 20, true, long.MaxValue));
        Assert.Equal(0, await Maintenance.EnforceRetentionAsync());
    }

    [Fact]
    public async Task Retention_ms_can_empty_the_log_and_appends_go_on_at_the_log_end()
    {
        var log = await CreateTopicAsync(("retention.ms", "60000"));
        await AppendAsync(log, TestBatches.OfSize(2, 10, Clock.NowMs));
        await AppendAsync(log, TestBatches.OfSize(2, 10, Clock.NowMs));
        Clock.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(2, await Maintenance.EnforceRetentionAsync());

        Assert.Equal((4L, 4L), (log.LogStartOffset, log.LogEndOffset));
        Assert.Empty(await ReadBatchesAsync(log));
        Assert.Equal(4, (await AppendAsync(log, TestBatches.OfSize(1, 10, Clock.NowMs))).BaseOffset);
    }

    [Fact]
    public async Task Retention_bytes_deletes_the_oldest_batches_while_the_rest_still_exceeds_the_limit()
    {
        var size = TestBatches.OfSize(2, 100).Length;
        var log = await CreateTopicAsync(("retention.bytes", (2 * size + size / 2).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        for (var i = 0; i < 5; i++) await AppendAsync(log, TestBatches.OfSize(2, 100, Clock.NowMs));

        Assert.Equal(2, await Maintenance.EnforceRetentionAsync());

        // Kafka's rule: a unit goes only if what remains without it still reaches the limit.
        Assert.Equal(4, log.LogStartOffset);
        Assert.Equal(3 * size, log.SizeInBytes);
        Assert.Equal(3, (await ReadBatchesAsync(log)).Count);
    }

    [Fact]
    public async Task Retention_leaves_compact_only_topics_alone()
    {
        var log = await CreateTopicAsync(("cleanup.policy", "compact"), ("retention.ms", "1000"), ("retention.bytes", "100"));
        await AppendKeyedAsync(log, ("a", "1"));
        await AppendKeyedAsync(log, ("b", "1"));
        Clock.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, await Maintenance.EnforceRetentionAsync());
        Assert.Equal(0, log.LogStartOffset);
    }

    [Fact]
    public async Task Compaction_keeps_the_latest_record_per_key_and_the_offsets()
    {
        var log = await CreateCompactedTopicAsync();
        foreach (var (key, value) in new[] { ("a", "1"), ("b", "1"), ("a", "2"), ("c", "1"), ("b", "2"), ("a", "3") }) await AppendKeyedAsync(log, (key, value));

        Assert.Equal(1, await Maintenance.RunCleanerAsync());

        // The newest batch plays the active segment: never cleaned.
        Assert.Equal([(2L, "a", "2"), (3L, "c", "1"), (4L, "b", "2"), (5L, "a", "3")], await ReadRecordsAsync(log));
        Assert.Equal(6, log.LogEndOffset);
        Assert.Equal(0, await Maintenance.RunCleanerAsync()); // nothing dirty
        Assert.Equal(6, await AppendKeyedAsync(log, ("d", "1")));
    }

    [Fact]
    public async Task Compaction_only_runs_on_compacted_topics()
    {
        var log = await CreateTopicAsync();
        await AppendKeyedAsync(log, ("a", "1"));
        await AppendKeyedAsync(log, ("a", "2"));
        await AppendKeyedAsync(log, ("a", "3"));

        Assert.Equal(0, await Maintenance.RunCleanerAsync());
        Assert.Equal(3, (await ReadRecordsAsync(log)).Count);
    }

    [Theory]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public async Task Compressed_batches_are_compacted_and_keep_codec_offsets_producer_fields_and_timestamps(CompressionType codec)
    {
        var log = await CreateCompactedTopicAsync();
        var start = Clock.NowMs - 1_000;
        await AppendAsync(log, TestBatches.Build(start, codec, [("a", "1"), ("b", "1"), ("c", "1")], producerId: 7, producerEpoch: 3, baseSequence: 0));
        var untouched = TestBatches.Build(start + 10, codec, [("a", "2"), ("d", "1")]);
        await AppendAsync(log, untouched);
        await AppendKeyedAsync(log, ("b", "2"));
        await AppendKeyedAsync(log, ("x", "1"));

        Assert.Equal(1, await Maintenance.RunCleanerAsync());

        var batches = await ReadBatchesAsync(log);
        var first = new RecordBatchHeader(batches[0]);
        Assert.Equal((0L, 2L, 1), (first.BaseOffset, first.LastOffset, first.RecordCount));
        Assert.Equal(codec, first.Compression);
        Assert.Equal((7L, (short)3, 0), (first.ProducerId, first.ProducerEpoch, first.BaseSequence));
        Assert.Equal(start + 2, first.MaxTimestamp);
        Assert.Equal(untouched, batches[1]);
        using var read = await log.ReadAsync(0, int.MaxValue, true, long.MaxValue);
        Assert.Equal([(2L, "c", "1", start + 2), (3L, "a", "2", start + 10), (4L, "d", "1", start + 11)], TestBatches.Decode(read.Records)[..3]);
        Assert.Equal([(2L, "c", "1"), (3L, "a", "2"), (4L, "d", "1"), (5L, "b", "2"), (6L, "x", "1")], await ReadRecordsAsync(log));
    }

    [Fact]
    public async Task An_emptied_batch_goes_unless_it_is_the_last_batch_of_an_active_producer()
    {
        var log = await CreateCompactedTopicAsync();
        await AppendKeyedAsync(log, ("k", "1"));
        await AppendAsync(log, TestBatches.Build(Clock.NowMs, CompressionType.Lz4, [("a", "1"), ("b", "1")], producerId: 7, producerEpoch: 0, baseSequence: 0));
        await AppendKeyedAsync(log, ("k", "2"), ("a", "2"), ("b", "2"));
        await AppendKeyedAsync(log, ("x", "1"));

        await Maintenance.RunCleanerAsync();

        var batches = await ReadBatchesAsync(log);
        Assert.Equal([1L, 3L, 6L], batches.Select(b => new RecordBatchHeader(b).BaseOffset));
        var kept = new RecordBatchHeader(batches[0]);
        Assert.Equal((2L, 0, 7L, 0), (kept.LastOffset, kept.RecordCount, kept.ProducerId, kept.BaseSequence));
        Assert.Equal(CompressionType.None, kept.Compression);

        // Once the producer has expired, its emptied batch goes too.
        Clock.Advance(TimeSpan.FromDays(2));
        await AppendKeyedAsync(log, ("y", "1"));
        await AppendKeyedAsync(log, ("z", "1"));
        await Maintenance.RunCleanerAsync();

        Assert.Equal([3L, 6L, 7L, 8L], (await ReadBatchesAsync(log)).Select(b => new RecordBatchHeader(b).BaseOffset));
    }

    [Fact]
    public async Task Tombstones_get_a_delete_horizon_and_go_on_the_first_cleaning_after_it()
    {
        var log = await CreateCompactedTopicAsync(("delete.retention.ms", "60000"));
        await AppendKeyedAsync(log, ("a", "1"));
        var tombstoneTime = Clock.NowMs;
        await AppendKeyedAsync(log, ("a", null));
        await AppendKeyedAsync(log, ("b", "1"));
        await AppendKeyedAsync(log, ("x", "1"));

        Assert.Equal(1, await Maintenance.RunCleanerAsync());

        var batches = await ReadBatchesAsync(log);
        var tombstone = new RecordBatchHeader(batches[0]);
        Assert.True(tombstone.HasDeleteHorizon);
        Assert.Equal(Clock.NowMs + 60_000, tombstone.BaseTimestamp);
        Assert.Equal(tombstoneTime, tombstone.MaxTimestamp);
        var record = Assert.Single(TestBatches.Decode(batches[0]));
        Assert.Equal((1L, "a", tombstoneTime), (record.Offset, record.Key, record.Timestamp));
        Assert.Null(record.Value);
        Assert.False(new RecordBatchHeader(batches[1]).HasDeleteHorizon);

        Clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0, await Maintenance.RunCleanerAsync());
        Assert.Equal([(1L, "a", null), (2L, "b", "1"), (3L, "x", "1")], await ReadRecordsAsync(log));

        // The passed horizon alone makes the log due, with nothing new to clean.
        Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(1, await Maintenance.RunCleanerAsync());
        Assert.Equal([(2L, "b", "1"), (3L, "x", "1")], await ReadRecordsAsync(log));
        Assert.Equal(0, await Maintenance.RunCleanerAsync());
    }

    [Fact]
    public async Task Timestamp_lookups_after_compaction_use_the_record_timestamps_not_the_delete_horizon()
    {
        var log = await CreateCompactedTopicAsync();
        var now = Clock.NowMs;
        await AppendAsync(log, TestBatches.Build(now - 3_000, CompressionType.None, [("a", "1")]));
        await AppendAsync(log, TestBatches.Build(now - 2_000, CompressionType.Snappy, [("a", null)]));
        await AppendAsync(log, TestBatches.Build(now - 1_000, CompressionType.None, [("b", "1")]));
        await AppendAsync(log, TestBatches.Build(now, CompressionType.None, [("x", "1")]));

        await Maintenance.RunCleanerAsync();

        Assert.True(new RecordBatchHeader((await ReadBatchesAsync(log))[0]).HasDeleteHorizon);
        Assert.Equal(new TimestampOffset(now - 2_000, 1), await log.FindOffsetByTimestampAsync(now - 2_500));
        Assert.Equal(new TimestampOffset(now - 1_000, 2), await log.FindOffsetByTimestampAsync(now - 1_500));
        Assert.Equal(new TimestampOffset(now, 3), await log.FindMaxTimestampAsync());
    }

    [Fact]
    public async Task Aborted_transactions_are_removed_and_markers_go_once_their_data_has_and_their_horizon_passed()
    {
        var log = await CreateCompactedTopicAsync(("delete.retention.ms", "60000"));
        var now = Clock.NowMs;
        await AppendAsync(log, TestBatches.Transactional(ProducerB, 0, now, ("a", "committed"))); // 0
        await AppendAsync(log, TestBatches.Marker(commit: true, ProducerB, now)); // 1
        await AppendAsync(log, TestBatches.Transactional(ProducerA, 0, now, ("a", "aborted"), ("e", "aborted"))); // 2-3
        await AppendAsync(log, TestBatches.Marker(commit: false, ProducerA, now)); // 4
        await AppendAsync(log, TestBatches.Transactional(ProducerA, 2, now, ("b", "1"))); // 5
        await AppendAsync(log, TestBatches.Marker(commit: true, ProducerA, now)); // 6
        await AppendAsync(log, TestBatches.Transactional(ProducerB, 1, now, ("c", "1"))); // 7
        await AppendAsync(log, TestBatches.Marker(commit: true, ProducerB, now)); // 8
        await AppendKeyedAsync(log, ("z", "1")); // 9

        Assert.Equal(1, await Maintenance.RunCleanerAsync());

        // The aborted write of "a" never shadows the committed one.
        Assert.Equal([(0L, "a", "committed"), (5L, "b", "1"), (7L, "c", "1"), (9L, "z", "1")], await ReadRecordsAsync(log));
        // The abort marker's transaction has no data left: its horizon starts; the commit marker's still has data.
        Assert.Equal([(1L, false), (4L, true), (6L, false), (8L, false)], ControlBatches(await ReadBatchesAsync(log)));

        await AppendKeyedAsync(log, ("a", "new")); // 10
        await AppendKeyedAsync(log, ("y", "1")); // 11
        Assert.Equal(1, await Maintenance.RunCleanerAsync());

        Assert.Equal([(1L, true), (4L, true), (6L, false), (8L, false)], ControlBatches(await ReadBatchesAsync(log)));

        Clock.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal(1, await Maintenance.RunCleanerAsync());

        // Markers that are their producer's newest entry stay (they carry the producer's epoch).
        Assert.Equal([(6L, false), (8L, false)], ControlBatches(await ReadBatchesAsync(log)));
        Assert.Equal([(5L, "b", "1"), (7L, "c", "1"), (9L, "z", "1"), (10L, "a", "new"), (11L, "y", "1")], await ReadRecordsAsync(log));
    }

    [Fact]
    public async Task Compaction_stops_at_the_first_open_transaction()
    {
        var log = await CreateCompactedTopicAsync();
        await AppendKeyedAsync(log, ("a", "1")); // 0
        await AppendKeyedAsync(log, ("a", "2")); // 1
        await AppendAsync(log, TestBatches.Transactional(ProducerA, 0, Clock.NowMs, ("b", "1"))); // 2, open
        await AppendKeyedAsync(log, ("a", "3")); // 3
        await AppendKeyedAsync(log, ("a", "4")); // 4
        await AppendKeyedAsync(log, ("x", "1")); // 5

        Assert.Equal(1, await Maintenance.RunCleanerAsync());
        Assert.Equal([(1L, "a", "2"), (2L, "b", "1"), (3L, "a", "3"), (4L, "a", "4"), (5L, "x", "1")], await ReadRecordsAsync(log));

        await AppendAsync(log, TestBatches.Marker(commit: true, ProducerA, Clock.NowMs)); // 6
        await AppendKeyedAsync(log, ("y", "1")); // 7
        Assert.Equal(1, await Maintenance.RunCleanerAsync());

        Assert.Equal([(2L, "b", "1"), (4L, "a", "4"), (5L, "x", "1"), (7L, "y", "1")], await ReadRecordsAsync(log));
        Assert.Equal([(6L, false)], ControlBatches(await ReadBatchesAsync(log)));
    }

    [Fact]
    public async Task Compaction_racing_with_appends_and_reads_never_loses_the_latest_value_of_a_key()
    {
        var log = await CreateCompactedTopicAsync(("segment.bytes", "600"));
        CompressionType[] codecs = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];
        var acknowledged = new ConcurrentDictionary<string, long>(); // key → offset of its newest acknowledged record
        using var stop = new CancellationTokenSource();
        var cleanings = 0;
        using var cleaned = new SemaphoreSlim(0);
        var appendedRecords = 0;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 300; i++)
            {
                // Every 50 batches, wait for a cleaning to finish so that cleanings keep racing with the appends.
                if (i % 50 == 49) Assert.True(await cleaned.WaitAsync(TimeSpan.FromSeconds(30)), "no cleaning finished");
                var records = Enumerable.Range(0, 1 + i % 3).Select(r => ($"k{(i * 3 + r) % 23}", (string?)$"v{i}.{r}")).ToArray();
                var appended = await AppendAsync(log, TestBatches.Build(Clock.NowMs, codecs[i % codecs.Length], records));
                for (var r = 0; r < records.Length; r++) acknowledged[records[r].Item1] = appended.BaseOffset + r;
                appendedRecords += records.Length;
            }
        });
        var readsChecked = 0;
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var expected = acknowledged.ToArray(); // taken before the read: all of it is in the log
                using var read = await log.ReadAsync(log.LogStartOffset, int.MaxValue, true, long.MaxValue);
                var previousEnd = -1L;
                foreach (var batch in new RecordBatchEnumerator(read.Records))
                {
                    Assert.True(batch.Header.IsCrcValid);
                    Assert.True(batch.Header.BaseOffset > previousEnd);
                    previousEnd = batch.Header.LastOffset;
                }
                var records = TestBatches.Decode(read.Records);
                Assert.Equal(records.Select(r => r.Offset).Order(), records.Select(r => r.Offset));
                var newest = records.GroupBy(r => r.Key!).ToDictionary(g => g.Key, g => g.Max(r => r.Offset));
                foreach (var (key, offset) in expected) Assert.True(newest.TryGetValue(key, out var found) && found >= offset, $"{key}@{offset} lost");
                readsChecked++;
            }
        });
        while (!writer.IsCompleted)
        {
            if (await Maintenance.RunCleanerAsync() == 0) continue;
            cleanings++;
            cleaned.Release();
        }
        await writer;
        await Maintenance.RunCleanerAsync();
        await stop.CancelAsync();
        await reader;

        Assert.True(cleanings >= 5, $"only {cleanings} cleanings");
        Assert.True(readsChecked > 1, $"only {readsChecked} reads");
        var final = await ReadRecordsAsync(log);
        Assert.True(final.Count < appendedRecords / 2, $"{final.Count} of {appendedRecords} records left");
        var latest = final.GroupBy(r => r.Key!).ToDictionary(g => g.Key, g => g.Last().Offset);
        Assert.Equal(acknowledged.OrderBy(p => p.Key), latest.OrderBy(p => p.Key));
    }
}
