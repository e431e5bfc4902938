using System.Text;
using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

/// <summary>
/// The disk store on a small tmpfs that really fills up (ENOSPC from the kernel, not a simulated error): failed
/// appends leave nothing behind, reads keep working, appends resume once space is freed, and a restart finds exactly
/// the appends that succeeded. Skipped with the reason where a tmpfs cannot be mounted.
/// </summary>
public sealed class FullDiskTests
{
    private static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);

    // Small segments and a dense index so that rolls, index writes and checkpoint writes all meet the full disk.
    private static readonly Dictionary<string, string> TopicConfigs = new()
    {
        ["segment.bytes"] = "65536",
        ["index.interval.bytes"] = "256",
    };

    private static Task<DiskLogStore> OpenAsync(string directory) =>
        DiskLogStore.OpenAsync(new DiskLogStoreOptions(directory) { BackgroundInterval = null });

    private static byte[] Batch(int sequence, Random random)
    {
        var value = $"value-{sequence:D6}-".PadRight(random.Next(200, 12_000), 'x');
        return TestBatches.Create(1_000 + sequence, new TestRecord(Encoding.UTF8.GetBytes($"key-{sequence}"), Encoding.UTF8.GetBytes(value)));
    }

    private static async Task<List<string>> ReadValuesAsync(IPartitionLog log)
    {
        using var read = await log.ReadAsync(log.LogStartOffset, int.MaxValue, true, long.MaxValue);
        var records = TestBatches.Records(read.Records.Span);
        Assert.Equal(Enumerable.Range(0, records.Count).Select(i => (long)i), records.Select(r => r.Offset));
        return records.Select(r => r.Value!).ToList();
    }

    /// <summary>Appends until <paramref name="failuresWanted"/> appends failed; returns the values of those that succeeded.</summary>
    private static async Task<(List<string> Acked, int Failures)> FillAsync(IPartitionLog log, int firstSequence, int failuresWanted, Random random)
    {
        var acked = new List<string>();
        var failures = 0;
        for (var sequence = firstSequence; failures < failuresWanted && sequence < firstSequence + 100_000; sequence++)
        {
            var batch = Batch(sequence, random);
            var value = TestBatches.Records(batch)[0].Value!;
            try
            {
                var result = await log.AppendAsync(batch, CreateTime);
                Assert.Equal(log.LogEndOffset - 1, result.BaseOffset);
                acked.Add(value);
            }
            catch (StorageException)
            {
                failures++;
            }
        }
        return (acked, failures);
    }

    [TmpfsFact]
    public async Task Appends_on_a_full_disk_fail_cleanly_reads_go_on_and_appends_resume_when_space_is_freed()
    {
        using var mount = TmpfsMount.Create(6 << 20);
        var data = Path.Combine(mount.Path, "data");
        var filler = Path.Combine(mount.Path, "filler");
        File.WriteAllBytes(filler, new byte[2 << 20]);
        var random = new Random(11);
        var expected = new List<string>();

        await using (var store = await OpenAsync(data))
        {
            Assert.Equal(StoreStatus.Ok, (await store.CreateTopicAsync("events", 1, TopicConfigs)).Status);
            var log = store.GetPartition("events", 0)!;

            var (acked, failures) = await FillAsync(log, 0, failuresWanted: 30, random);
            expected.AddRange(acked);
            Assert.Equal(30, failures);
            Assert.True(acked.Count > 100, $"only {acked.Count} appends fitted before the disk was full");
            Assert.Equal(expected.Count, log.LogEndOffset);
            Assert.Equal(expected.Count, log.HighWatermark);
            Assert.Equal(expected, await ReadValuesAsync(log));

            // Nothing else can be created on the full disk either, and a failed creation leaves no partition behind.
            var created = await store.CreateTopicAsync("other", 2, TopicConfigs);
            if (created.Status != StoreStatus.Ok)
            {
                Assert.Equal(StoreStatus.StorageError, created.Status);
                Assert.Null(store.GetTopic("other"));
                Assert.False(Directory.Exists(Path.Combine(data, "other-0")));
            }

            File.Delete(filler);
            var (resumed, failedAfterFreeing) = await FillAsync(log, 100_000, failuresWanted: 1, random);
            Assert.Equal(1, failedAfterFreeing); // it filled up again, after taking the freed space
            Assert.True(resumed.Count > 50, $"only {resumed.Count} appends succeeded after freeing 2 MiB");
            expected.AddRange(resumed);
            Assert.Equal(expected, await ReadValuesAsync(log));
        }

        // Closing on a full disk may fail to save; reopening (recovering if needed) finds exactly the acknowledged appends.
        await using (var store = await OpenAsync(data))
        {
            var log = store.GetPartition("events", 0)!;
            Assert.Equal(expected, await ReadValuesAsync(log));
            foreach (var path in Directory.EnumerateFiles(Path.Combine(data, "events-0"), "*.tmp")) Assert.Fail($"left {path}");
        }
    }

    [TmpfsFact]
    public async Task A_store_that_crashed_on_a_full_disk_opens_on_the_full_disk_and_serves_reads()
    {
        using var mount = TmpfsMount.Create(4 << 20);
        var data = Path.Combine(mount.Path, "data");
        var random = new Random(5);
        List<string> acked;
        var store = await OpenAsync(data);
        try
        {
            Assert.Equal(StoreStatus.Ok, (await store.CreateTopicAsync("events", 1, TopicConfigs)).Status);
            (acked, _) = await FillAsync(store.GetPartition("events", 0)!, 0, failuresWanted: 10, random);
        }
        finally
        {
            await store.AbandonAsync();
        }
        // Lose the index files of every segment, so recovery has to rebuild them with no space to save them.
        foreach (var index in Directory.EnumerateFiles(Path.Combine(data, "events-0"), "*index")) File.Delete(index);
        using (var pad = File.OpenHandle(Path.Combine(mount.Path, "pad"), FileMode.Create, FileAccess.Write))
        {
            // Take back whatever the deleted indexes freed.
            var chunk = new byte[4096];
            try
            {
                for (long position = 0; ; position += chunk.Length) RandomAccess.Write(pad, chunk, position);
            }
            catch (IOException)
            {
            }
        }

        await using (var reopened = await OpenAsync(data))
        {
            var log = reopened.GetPartition("events", 0)!;
            Assert.Equal(acked, await ReadValuesAsync(log));
            using var middle = await log.ReadAsync(acked.Count / 2, 1, true, long.MaxValue);
            Assert.Equal(acked.Count / 2, new RecordBatchHeader(middle.Records.Span).BaseOffset);
            await Assert.ThrowsAsync<StorageException>(async () => await log.AppendAsync(Batch(1, random), CreateTime));
            File.Delete(Path.Combine(mount.Path, "pad"));
            var appended = await log.AppendAsync(Batch(1, random), CreateTime);
            Assert.Equal(acked.Count, appended.BaseOffset);
        }
    }
}
