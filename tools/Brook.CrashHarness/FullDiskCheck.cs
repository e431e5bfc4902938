using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.CrashHarness;

/// <summary>
/// Runs brook-server with its data on a small filesystem (a tmpfs the caller mounted, partly taken by a filler file)
/// and produces with Confluent.Kafka until the disk is full. Checks: producers get KAFKA_STORAGE_ERROR and the broker
/// keeps running; every acknowledged message reads back exactly once at its offset and no refused one appears; offset
/// commits fail with a retriable error; deleting a topic frees space and writes resume; a broker killed while the disk
/// is full restarts on the full disk and serves reads; deleting the filler file lets writes resume; a clean restart
/// keeps everything. Exit code 0 when every check held.
/// </summary>
internal sealed class FullDiskCheck : IDisposable
{
    private const string Topic = "filled";
    private const string Ballast = "ballast";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly ServerProcess _server;
    private readonly string _mount;
    private readonly string _filler;
    private readonly int _messageBytes;
    private readonly Dictionary<string, TopicPartitionOffset> _acked = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private int _sequence;

    private FullDiskCheck(ServerProcess server, string mount, string filler, int messageBytes)
    {
        _server = server;
        _mount = mount;
        _filler = filler;
        _messageBytes = messageBytes;
    }

    public static async Task<int> RunAsync(Options options)
    {
        var mount = options.Get("mount");
        var log = options.Get("log", Path.Combine(mount, "..", "server.log"));
        using var server = new ServerProcess(options.Get("server"), Path.Combine(mount, "data"), Path.GetFullPath(log));
        using var check = new FullDiskCheck(server, mount, options.Get("filler"), options.GetInt("message-bytes", 4096));
        try
        {
            await check.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException or TimeoutException)
        {
            check._failures.Add($"{e.GetType().Name}: {e.Message}");
        }
        if (check._failures.Count == 0)
        {
            Console.WriteLine($"full disk: ok ({check._acked.Count} messages acknowledged, {check._refused.Count} refused with KAFKA_STORAGE_ERROR, {server.Starts} server starts)");
            return 0;
        }
        foreach (var failure in check._failures) Console.WriteLine($"FAIL: {failure}");
        Console.WriteLine($"server log: {server.LogPath}");
        return 1;
    }

    public void Dispose() => _server.Dispose();

    private async Task RunAsync()
    {
        await _server.StartAsync(StartTimeout).ConfigureAwait(false);
        Step($"server on {_server.Bootstrap}, data on a {FreeMiB():F1} MiB-free filesystem at {_mount}");
        using (var admin = Admin())
        {
            // Small segments and a dense index: rolls and index writes meet the full disk too.
            await admin.CreateTopicsAsync(
            [
                new TopicSpecification { Name = Topic, NumPartitions = 2, ReplicationFactor = 1, Configs = new() { ["segment.bytes"] = "131072", ["index.interval.bytes"] = "1024" } },
                new TopicSpecification { Name = Ballast, NumPartitions = 1, ReplicationFactor = 1 },
            ]).ConfigureAwait(false);
        }
        var ballast = await ProduceAsync(Ballast, maxMessages: (int)(FreeMiB() / 4 * 1024 * 1024 / _messageBytes), stopAfterRefusals: 1).ConfigureAwait(false);
        Expect(ballast.Refused == 0, $"ballast: {ballast.Refused} messages refused while the disk still had room");
        Step($"ballast topic holds {ballast.Acked} messages; {FreeMiB():F1} MiB free");

        var fill = await ProduceAsync(Topic, int.MaxValue, stopAfterRefusals: 50).ConfigureAwait(false);
        Step($"filled: {fill.Acked} acknowledged, then {fill.Refused} refused with KAFKA_STORAGE_ERROR; {FreeMiB():F2} MiB free");
        Expect(fill.Refused > 0, "the disk never filled up");
        Expect(_server.IsRunning, "the server exited when the disk filled up");
        Verify("full disk");
        // A few KiB may still fit where a large batch did not; take the last bytes so that nothing fits.
        var pad = Path.Combine(_mount, "pad");
        FillFile(pad);
        var refused = await ProduceAsync(Topic, maxMessages: 20, stopAfterRefusals: 20).ConfigureAwait(false);
        Expect(refused.Acked == 0, $"{refused.Acked} messages were acknowledged with no byte free");
        CommitOffsets(expectSuccess: false);
        File.Delete(pad);

        using (var admin = Admin())
            await admin.DeleteTopicsAsync([Ballast]).ConfigureAwait(false);
        await WaitForFreeSpaceAsync(minimumMiB: 1).ConfigureAwait(false);
        Step($"deleted the ballast topic: {FreeMiB():F1} MiB free");
        var resumed = await ProduceAsync(Topic, maxMessages: 200, stopAfterRefusals: 1).ConfigureAwait(false);
        Expect(resumed.Refused == 0 && resumed.Acked == 200, $"after deleting a topic: {resumed.Acked} of 200 acknowledged, {resumed.Refused} refused");
        CommitOffsets(expectSuccess: true);

        fill = await ProduceAsync(Topic, int.MaxValue, stopAfterRefusals: 20).ConfigureAwait(false);
        Step($"filled again: {fill.Acked} acknowledged, {fill.Refused} refused");
        FillFile(pad);
        _server.Kill();
        await _server.StartAsync(StartTimeout).ConfigureAwait(false);
        Step($"killed with SIGKILL on the full disk and restarted on it ({FreeMiB():F2} MiB free)");
        Verify("restart on a full disk");
        var stillFull = await ProduceAsync(Topic, maxMessages: 100, stopAfterRefusals: 5).ConfigureAwait(false);
        Expect(stillFull.Refused > 0, "writes succeeded on a disk that should still be full");

        File.Delete(_filler);
        File.Delete(pad);
        Step($"deleted the filler file: {FreeMiB():F1} MiB free");
        resumed = await ProduceAsync(Topic, maxMessages: 500, stopAfterRefusals: 1).ConfigureAwait(false);
        Expect(resumed.Refused == 0 && resumed.Acked == 500, $"after deleting the filler: {resumed.Acked} of 500 acknowledged, {resumed.Refused} refused");
        Verify("space freed");

        await _server.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        await _server.StartAsync(StartTimeout).ConfigureAwait(false);
        Verify("clean restart");
        await _server.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    /// <summary>
    /// Produces numbered messages (acks=all, no retries, so each delivery report is the broker's own answer) in windows
    /// until <paramref name="maxMessages"/> were sent or <paramref name="stopAfterRefusals"/> were refused.
    /// </summary>
    private async Task<(int Acked, int Refused)> ProduceAsync(string topic, int maxMessages, int stopAfterRefusals)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = _server.Bootstrap,
            Acks = Acks.All,
            EnableIdempotence = false,
            MessageSendMaxRetries = 0,
            LingerMs = 2,
            MessageTimeoutMs = 30_000,
        };
        using var producer = new ProducerBuilder<string, string>(config).SetLogHandler((_, _) => { }).Build();
        int acked = 0, refused = 0, sent = 0;
        while (sent < maxMessages && refused < stopAfterRefusals)
        {
            var window = new List<(string Value, Task<DeliveryResult<string, string>> Delivery)>();
            for (var i = 0; i < 64 && sent < maxMessages; i++, sent++)
            {
                var sequence = ++_sequence;
                var value = $"{sequence:D9}|".PadRight(_messageBytes, 'x');
                window.Add((value, producer.ProduceAsync(topic, new Message<string, string> { Key = sequence.ToString(CultureInfo.InvariantCulture), Value = value })));
            }
            foreach (var (value, delivery) in window)
            {
                try
                {
                    var result = await delivery.ConfigureAwait(false);
                    if (topic == Topic) _acked[value] = result.TopicPartitionOffset;
                    acked++;
                }
                catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.KafkaStorageError)
                {
                    if (topic == Topic) _refused.Add(value);
                    refused++;
                }
                catch (ProduceException<string, string> e)
                {
                    throw new InvalidOperationException($"a produce failed with {e.Error.Code} ({e.Error.Reason}), not KAFKA_STORAGE_ERROR", e);
                }
            }
        }
        return (acked, refused);
    }

    /// <summary>Reads the whole topic: each acknowledged message exactly once at its offset, no refused one, in order per partition.</summary>
    private void Verify(string stage)
    {
        var config = new ConsumerConfig { BootstrapServers = _server.Bootstrap, GroupId = "full-disk-verify", EnableAutoCommit = false, EnablePartitionEof = true };
        using var consumer = new ConsumerBuilder<string, string>(config).SetLogHandler((_, _) => { }).Build();
        var found = new Dictionary<string, TopicPartitionOffset>(StringComparer.Ordinal);
        int duplicates = 0, refusedPresent = 0, unknown = 0, outOfOrder = 0;
        for (var partition = 0; partition < 2; partition++)
        {
            var tp = new TopicPartition(Topic, partition);
            var end = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High;
            consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
            var last = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            var position = 0L;
            while (position < end && DateTime.UtcNow < deadline)
            {
                var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (record is null || record.IsPartitionEOF) continue;
                position = record.Offset + 1;
                var value = record.Message.Value;
                var sequence = int.Parse(value.AsSpan(0, 9), CultureInfo.InvariantCulture);
                if (sequence <= last) outOfOrder++;
                last = sequence;
                if (!found.TryAdd(value, record.TopicPartitionOffset)) duplicates++;
                if (_refused.Contains(value)) refusedPresent++;
                else if (!_acked.ContainsKey(value)) unknown++;
            }
            Expect(position >= end, $"{stage}: partition {partition} read only to offset {position} of {end}");
        }
        var missing = _acked.Count(a => !found.TryGetValue(a.Key, out var at) || at != a.Value);
        Expect(missing == 0, $"{stage}: {missing} acknowledged messages missing or not at their acknowledged offset");
        Expect(duplicates == 0 && unknown == 0, $"{stage}: {duplicates} duplicates, {unknown} messages never produced");
        Expect(refusedPresent == 0, $"{stage}: {refusedPresent} messages refused with KAFKA_STORAGE_ERROR are in the log anyway");
        Expect(outOfOrder == 0, $"{stage}: {outOfOrder} messages out of order");
        Step($"{stage}: read back {found.Count} messages, all {_acked.Count} acknowledged present once at their offsets");
    }

    /// <summary>A group offset commit (written to __consumer_offsets): refused on a full disk with a retriable error, then fine.</summary>
    private void CommitOffsets(bool expectSuccess)
    {
        var config = new ConsumerConfig { BootstrapServers = _server.Bootstrap, GroupId = "full-disk-group", EnableAutoCommit = false };
        using var consumer = new ConsumerBuilder<string, string>(config).SetLogHandler((_, _) => { }).Build();
        var offsets = new[] { new TopicPartitionOffset(Topic, 0, 1 + (_sequence % 10)) };
        try
        {
            consumer.Commit(offsets);
            Expect(expectSuccess, "an offset commit succeeded on a full disk");
            var committed = consumer.Committed([new TopicPartition(Topic, 0)], TimeSpan.FromSeconds(10));
            Expect(committed[0].Offset == offsets[0].Offset, $"committed offset reads back as {committed[0].Offset}, not {offsets[0].Offset}");
            Step($"offset commit: ok, reads back {committed[0].Offset}");
        }
        catch (KafkaException e) when (!expectSuccess)
        {
            Expect(e.Error.Code is ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.NotCoordinatorForGroup or ErrorCode.KafkaStorageError or ErrorCode.RequestTimedOut,
                $"an offset commit on a full disk failed with {e.Error.Code}, not a retriable coordinator or storage error");
            Step($"offset commit on the full disk: refused with {e.Error.Code}");
        }
    }

    private async Task WaitForFreeSpaceAsync(double minimumMiB)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (FreeMiB() < minimumMiB)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"only {FreeMiB():F2} MiB free 30 s after deleting a topic");
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Writes zeros to <paramref name="path"/> until the filesystem refuses more.</summary>
    private static void FillFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Create, FileAccess.Write);
        var chunk = new byte[4096];
        try
        {
            for (long position = 0; ; position += chunk.Length) RandomAccess.Write(handle, chunk, position);
        }
        catch (IOException)
        {
            // Full.
        }
    }

    private IAdminClient Admin() =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _server.Bootstrap }).SetLogHandler((_, _) => { }).Build();

    private double FreeMiB() => new DriveInfo(_mount).AvailableFreeSpace / 1048576.0;

    private void Expect(bool condition, string failure)
    {
        if (!condition) _failures.Add(failure);
    }

    private static void Step(string text) => Console.WriteLine($"  {text}");
}
