using Brook.Protocol.Records;
using FsCheck.Xunit;

namespace Brook.Storage.Tests;

/// <summary>Random operation sequences on the disk log compared with a plain list of batches.</summary>
public sealed class DiskLogPropertyTests
{
    private static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);
    private static readonly Dictionary<string, string> SmallSegments = new() { ["segment.bytes"] = "600", ["index.interval.bytes"] = "150" };

    /// <summary>
    /// Each number picks an operation: append (most often), DeleteRecords, clean reopen, reopen after a crash
    /// (files closed without flushing or checkpointing), or a read from an offset. Every acknowledged append must
    /// survive both kinds of reopen because the default policy fsyncs before acknowledging.
    /// </summary>
    [Property(MaxTest = 25)]
    public void Disk_log_behaves_like_a_list_of_batches(int[] operations) => RunAsync(operations).GetAwaiter().GetResult();

    private static async Task RunAsync(int[] operations)
    {
        using var directory = new TempDirectory();
        var options = new DiskLogStoreOptions(directory.Path) { BackgroundInterval = null };
        var store = await DiskLogStore.OpenAsync(options);
        await store.CreateTopicAsync("model", 1, SmallSegments);
        var model = new List<(long Base, long Last, byte[] Bytes)>();
        long logStart = 0, logEnd = 0;
        try
        {
            foreach (var raw in operations.Take(40))
            {
                var x = raw == int.MinValue ? 0 : Math.Abs(raw);
                var log = store.GetPartition("model", 0)!;
                switch (x % 10)
                {
                    case < 6:
                        var batch = TestBatches.OfSize(1 + (x / 10 % 4), x / 40 % 300);
                        var result = await log.AppendAsync(batch, CreateTime);
                        Assert.Equal(logEnd, result.BaseOffset);
                        model.Add((result.BaseOffset, result.LastOffset, batch));
                        logEnd = result.LastOffset + 1;
                        break;
                    case 6:
                        var target = logStart + (x / 10 % (logEnd - logStart + 1));
                        logStart = Math.Max(logStart, target);
                        Assert.Equal(logStart, await log.DeleteRecordsBeforeAsync(target));
                        break;
                    case 7:
                        await store.DisposeAsync();
                        store = await DiskLogStore.OpenAsync(options);
                        break;
                    case 8:
                        await store.AbandonAsync();
                        store = await DiskLogStore.OpenAsync(options);
                        break;
                    default:
                        var from = logStart + (x / 10 % (logEnd - logStart + 1));
                        using (var read = await log.ReadAsync(from, int.MaxValue, true, long.MaxValue))
                        {
                            Assert.Equal(model.Where(b => b.Last >= from).Select(b => b.Bytes), TestBatches.Split(read.Records.Span));
                        }
                        break;
                }
                var current = store.GetPartition("model", 0)!;
                Assert.Equal((logStart, logEnd, logEnd), (current.LogStartOffset, current.LogEndOffset, current.HighWatermark));
                using var all = await current.ReadAsync(logStart, int.MaxValue, true, long.MaxValue);
                Assert.Equal(model.Where(b => b.Last >= logStart).Select(b => b.Bytes), TestBatches.Split(all.Records.Span));
            }
        }
        finally
        {
            await store.DisposeAsync();
        }
    }
}
