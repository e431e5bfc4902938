using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Brook.Protocol.Records;
using Brook.Storage;

// Append/read throughput of DiskLogStore with 1 KiB records, per durability policy and batch size.
// Usage: Brook.Storage.Bench [data directory] [MiB per run]
var root = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "brook-bench");
var mebibytes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;
var policies = new (string Name, Dictionary<string, string> Broker)[]
{
    ("fsync per append (group commit)", new() { ["log.flush.interval.messages"] = "1" }),
    ("interval flush.ms=1000", new() { ["log.flush.interval.messages"] = long.MaxValue.ToString(CultureInfo.InvariantCulture), ["log.flush.interval.ms"] = "1000" }),
    ("left to the OS", new() { ["log.flush.interval.messages"] = long.MaxValue.ToString(CultureInfo.InvariantCulture) }),
};
Console.WriteLine($"| policy | batch | appenders | append MiB/s | appends/s | read MiB/s |");
Console.WriteLine($"|---|---|---|---|---|---|");
foreach (var (name, broker) in policies)
{
    foreach (var batchKiB in new[] { 16, 1024 })
    {
        foreach (var appenders in new[] { 1, 4 })
        {
            var directory = Path.Combine(root, Guid.NewGuid().ToString("N"));
            await using (var store = await DiskLogStore.OpenAsync(new DiskLogStoreOptions(directory) { BrokerConfigs = broker, BackgroundInterval = TimeSpan.FromSeconds(1) }))
            {
                await store.CreateTopicAsync("bench", 1, new Dictionary<string, string>());
                var log = store.GetPartition("bench", 0)!;
                var template = Batch(batchKiB);
                var total = (long)mebibytes << 20;
                var perAppender = total / template.Length / appenders;
                var watch = Stopwatch.StartNew();
                await Task.WhenAll(Enumerable.Range(0, appenders).Select(_ => Task.Run(async () =>
                {
                    var batch = (byte[])template.Clone();
                    for (var i = 0; i < perAppender; i++) await log.AppendAsync(batch, new AppendOptions(TimestampType.CreateTime, -1, 0));
                })));
                var appendSeconds = watch.Elapsed.TotalSeconds;
                var written = perAppender * appenders * template.Length;
                watch.Restart();
                long readBytes = 0, offset = 0;
                while (offset < log.LogEndOffset)
                {
                    using var read = await log.ReadAsync(offset, 1 << 20, true, long.MaxValue);
                    readBytes += read.Records.Length;
                    var span = read.Records.Span;
                    var last = 0L;
                    while (!span.IsEmpty)
                    {
                        var header = new RecordBatchHeader(span);
                        last = header.LastOffset;
                        span = span[header.TotalSize..];
                    }
                    offset = last + 1;
                }
                var readSeconds = watch.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {batchKiB} KiB | {appenders} | {written / appendSeconds / (1 << 20):F0} | {perAppender * appenders / appendSeconds:F0} | {readBytes / readSeconds / (1 << 20):F0} |"));
            }
            Directory.Delete(directory, recursive: true);
        }
    }
}

// One magic-2 batch of 1 KiB uncompressed records (keyless), about batchKiB in total.
static byte[] Batch(int batchKiB)
{
    const int ValueSize = 1024;
    var count = batchKiB;
    var record = new List<byte>();
    var body = new List<byte>();
    for (var i = 0; i < count; i++)
    {
        record.Clear();
        record.Add(0);
        Varint(record, 0);
        Varint(record, i);
        Varint(record, -1);
        Varint(record, ValueSize);
        record.AddRange(new byte[ValueSize]);
        Varint(record, 0);
        Varint(body, record.Count);
        body.AddRange(record);
    }
    var batch = new byte[RecordBatchHeader.Size + body.Count];
    BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.LengthPosition), batch.Length - RecordBatchHeader.LogOverhead);
    batch[RecordBatchHeader.MagicPosition] = 2;
    BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.LastOffsetDeltaPosition), count - 1);
    var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.BaseTimestampPosition), now);
    BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.MaxTimestampPosition), now);
    BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.ProducerIdPosition), -1);
    BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.ProducerEpochPosition), -1);
    BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BaseSequencePosition), -1);
    BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.RecordCountPosition), count);
    body.CopyTo(batch, RecordBatchHeader.Size);
    RecordBatchHeader.UpdateCrc(batch);
    return batch;
}

static void Varint(List<byte> output, long value)
{
    var zigzag = (ulong)((value << 1) ^ (value >> 63));
    while (zigzag >= 0x80)
    {
        output.Add((byte)(zigzag | 0x80));
        zigzag >>= 7;
    }
    output.Add((byte)zigzag);
}
