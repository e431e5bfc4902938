using Brook.Protocol.Records;
using FsCheck.Xunit;

namespace Brook.Storage.Tests;

/// <summary>
/// Random sequences of keyed appends (every codec, tombstones), transactions committed or aborted, cleanings, clock
/// moves and disk reopenings, run against both stores at once. With one batch per disk segment the two must hold the
/// same batches after every step, and neither may lose a key's latest value or keep a record that was never written.
/// </summary>
public sealed class CompactionPropertyTests
{
    private static readonly AppendOptions CreateTime = new(TimestampType.CreateTime, -1, 0);
    private static readonly string[] Keys = ["a", "b", "c", "d", "e"];
    private static readonly CompressionType[] Codecs = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd];
    private static readonly long[] Producers = [501, 502];
    private static readonly Dictionary<string, string> Configs = new()
    {
        ["cleanup.policy"] = "compact",
        ["segment.bytes"] = "14",
        ["min.cleanable.dirty.ratio"] = "0",
        ["delete.retention.ms"] = "1000",
    };

    /// <summary>Each run plays 60 operations drawn from <paramref name="seed"/>; a failure names the operations that led to it.</summary>
    [Property(MaxTest = 20)]
    public void Disk_and_memory_compact_alike_and_keep_every_latest_value(int seed) => RunAsync(seed).GetAwaiter().GetResult();

    private static async Task RunAsync(int seed)
    {
        var random = new Random(seed);
        var trace = new List<string>();
        using var directory = new TempDirectory();
        var clock = new ManualTimeProvider();
        var options = new DiskLogStoreOptions(directory.Path) { TimeProvider = clock, BackgroundInterval = null };
        var disk = await DiskLogStore.OpenAsync(options);
        await using var memory = new InMemoryLogStore(clock);
        await disk.CreateTopicAsync("t", 1, Configs);
        await memory.CreateTopicAsync("t", 1, Configs);
        var model = new Dictionary<long, (string Key, string? Value, long Producer)>();
        var aborted = new HashSet<long>();
        var open = Producers.ToDictionary(p => p, _ => new List<long>());
        var sequences = Producers.ToDictionary(p => p, _ => 0);
        try
        {
            for (var step = 0; step < 60; step++)
            {
                var x = random.Next(int.MaxValue);
                var producer = Producers[x / 10 % Producers.Length];
                trace.Add((x % 12) switch
                {
                    < 5 => "append",
                    < 7 => $"txn {producer}",
                    7 => open[producer].Count == 0 ? "append" : x / 20 % 2 == 0 ? $"commit {producer}" : $"abort {producer}",
                    8 => "clean",
                    9 => "tick",
                    10 => "reopen",
                    _ => "crash",
                });
                switch (x % 12)
                {
                    case < 5:
                    case 7 when open[producer].Count == 0:
                        await AppendBothAsync(disk, memory, model, Records(x), Codecs[x / 7 % Codecs.Length], -1, 0, clock);
                        break;
                    case < 7:
                        var records = Records(x)[..Math.Min(2, Records(x).Length)];
                        var offsets = await AppendBothAsync(disk, memory, model, records, CompressionType.None, producer, sequences[producer], clock);
                        sequences[producer] += records.Length;
                        open[producer].AddRange(offsets);
                        break;
                    case 7:
                        var commit = x / 20 % 2 == 0;
                        if (!commit) aborted.UnionWith(open[producer]);
                        open[producer].Clear();
                        await AppendBothAsync(disk, memory, null, [], CompressionType.None, producer, 0, clock, marker: commit);
                        break;
                    case 8:
                        Assert.Equal(await memory.RunCleanerAsync(), await disk.RunCleanerAsync());
                        break;
                    case 9:
                        clock.Advance(TimeSpan.FromMilliseconds(600));
                        break;
                    case 10:
                        await disk.DisposeAsync();
                        disk = await DiskLogStore.OpenAsync(options);
                        break;
                    default:
                        await disk.AbandonAsync();
                        disk = await DiskLogStore.OpenAsync(options);
                        break;
                }
                try
                {
                    await CheckAsync(disk.GetPartition("t", 0)!, memory.GetPartition("t", 0)!, model, aborted);
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"After {string.Join(", ", trace)}: {e.Message}", e);
                }
            }
        }
        finally
        {
            await disk.DisposeAsync();
        }
    }

    private static (string Key, string? Value)[] Records(int x)
    {
        var count = 1 + x / 3 % 3;
        return Enumerable.Range(0, count).Select(i => (Keys[(x / 5 + i * 2) % Keys.Length], x / 11 % 5 == i ? null : (string?)$"v{x}.{i}")).ToArray();
    }

    /// <summary>Appends the same batch to both stores (a marker when <paramref name="marker"/> is set); returns the offsets of its records.</summary>
    private static async Task<List<long>> AppendBothAsync(DiskLogStore disk, InMemoryLogStore memory, Dictionary<long, (string, string?, long)>? model,
        (string Key, string? Value)[] records, CompressionType codec, long producer, int sequence, ManualTimeProvider clock, bool? marker = null)
    {
        var batch = marker is { } commit
            ? TestBatches.Marker(commit, producer, clock.NowMs)
            : TestBatches.Build(clock.NowMs, codec, records, producer, producer < 0 ? RecordBatchBuilder.NoProducerEpoch : (short)0,
                producer < 0 ? RecordBatchBuilder.NoSequence : sequence, transactional: producer >= 0);
        var onDisk = await disk.GetPartition("t", 0)!.AppendAsync(batch.ToArray(), CreateTime);
        var inMemory = await memory.GetPartition("t", 0)!.AppendAsync(batch, CreateTime);
        Assert.Equal((AppendStatus.Appended, onDisk.BaseOffset), (inMemory.Status, inMemory.BaseOffset));
        var offsets = new List<long>();
        for (var i = 0; i < records.Length; i++)
        {
            model?.Add(onDisk.BaseOffset + i, (records[i].Key, records[i].Value, producer));
            offsets.Add(onDisk.BaseOffset + i);
        }
        return offsets;
    }

    private static async Task CheckAsync(IPartitionLog disk, IPartitionLog memory, Dictionary<long, (string Key, string? Value, long Producer)> model, HashSet<long> aborted)
    {
        Assert.Equal((memory.LogStartOffset, memory.LogEndOffset), (disk.LogStartOffset, disk.LogEndOffset));
        using var fromDisk = await disk.ReadAsync(disk.LogStartOffset, int.MaxValue, true, long.MaxValue);
        using var fromMemory = await memory.ReadAsync(memory.LogStartOffset, int.MaxValue, true, long.MaxValue);
        Assert.Equal(Summaries(fromMemory.Records), Summaries(fromDisk.Records));
        var records = TestBatches.Decode(fromDisk.Records);
        Assert.Equal(TestBatches.Decode(fromMemory.Records), records);

        foreach (var record in records) Assert.Equal((model[record.Offset].Key, model[record.Offset].Value), (record.Key!, record.Value));
        var present = records.Select(r => r.Offset).ToHashSet();
        foreach (var key in Keys)
        {
            var written = model.Where(r => r.Value.Key == key && !aborted.Contains(r.Key)).Select(r => r.Key).ToList();
            if (written.Count == 0) continue;
            var latest = written.Max();
            if (model[latest].Value is not null) Assert.True(present.Contains(latest), $"latest {key}@{latest} lost");
        }
    }

    private static List<(long BaseOffset, long LastOffset, int RecordCount, bool IsControl, bool HasDeleteHorizon, uint Crc)> Summaries(ReadOnlyMemory<byte> bytes)
    {
        var result = new List<(long, long, int, bool, bool, uint)>();
        foreach (var batch in new RecordBatchEnumerator(bytes))
        {
            var header = batch.Header;
            Assert.True(header.IsCrcValid);
            result.Add((header.BaseOffset, header.LastOffset, header.RecordCount, header.IsControl, header.HasDeleteHorizon, header.Crc));
        }
        return result;
    }
}
