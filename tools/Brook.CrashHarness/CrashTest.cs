using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.CrashHarness;

/// <summary>
/// kill -9 at random moments while real clients work: idempotent producers (acks=all) over several partitions, a
/// consumer group committing after processing, and a transactional consume-transform-produce pipeline. The broker is
/// restarted on the same port and data after each kill. At the end (after one more kill with everything idle) it
/// checks: every acknowledged message is in the log exactly once, at the offset it was acknowledged with, in order per
/// producer and partition; no message is duplicated; the group's committed offsets never passed what was processed and
/// no acknowledged commit was lost; every committed transaction is visible to read_committed in full, no aborted one
/// is, none is half visible, and each input record was transformed exactly once.
/// </summary>
internal sealed class CrashTest
{
    private const string Events = "events";
    private const string Output = "txn-out";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(180);

    private readonly ServerProcess _server;
    private readonly int _kills;
    private readonly int _partitions;
    private readonly int _minUptimeMs;
    private readonly int _maxUptimeMs;
    private readonly Random _random;
    private readonly List<IdempotentWriter> _writers;
    private readonly GroupConsumer _group;
    private readonly TransactionalPipeline _pipeline;
    private readonly List<string> _violations = [];
    private readonly List<double> _restartMs = [];
    private readonly string _dataDirectory;
    private readonly bool _sabotage;

    private CrashTest(ServerProcess server, Options options)
    {
        _server = server;
        _dataDirectory = Path.Combine(Path.GetFullPath(options.Get("work")), "data");
        _sabotage = options.Get("sabotage", "no") == "yes";
        _kills = options.GetInt("kills", 100);
        _partitions = options.GetInt("partitions", 4);
        _minUptimeMs = options.GetInt("min-uptime-ms", 500);
        _maxUptimeMs = options.GetInt("max-uptime-ms", 3000);
        _random = new Random(options.GetInt("seed", Environment.TickCount));
        var rate = options.GetInt("rate", 300);
        _writers = Enumerable.Range(0, options.GetInt("writers", 2)).Select(i => new IdempotentWriter(i, server.Bootstrap, Events, _partitions, rate)).ToList();
        _group = new GroupConsumer(server.Bootstrap, Events, "crash-consumers");
        _pipeline = new TransactionalPipeline(server.Bootstrap, Events, Output, _partitions, "crash-pipeline", "crash-pipeline-txn");
    }

    public static async Task<int> RunAsync(Options options)
    {
        var work = Path.GetFullPath(options.Get("work"));
        Directory.CreateDirectory(work);
        var overrides = options.Get("overrides", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        // Rebalances start at once: a broker that restarts every few seconds leaves no time for the usual delay.
        overrides.Add("group.initial.rebalance.delay.ms=0");
        using var server = new ServerProcess(options.Get("server"), Path.Combine(work, "data"), Path.Combine(work, "server.log"), overrides);
        var test = new CrashTest(server, options);
        Console.WriteLine($"crash test: {test._kills} kills, {test._partitions} partitions, {test._writers.Count} idempotent writers, a consumer group, a transactional pipeline; overrides: {string.Join(' ', overrides)}");
        var clock = Stopwatch.StartNew();
        try
        {
            await test.RunAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is KafkaException or InvalidOperationException or TimeoutException)
        {
            test._violations.Add($"the run stopped: {e.GetType().Name}: {e.Message}");
        }
        Console.WriteLine($"took {clock.Elapsed.TotalSeconds:F0} s");
        if (test._violations.Count == 0)
        {
            Console.WriteLine("crash test: ok");
            return 0;
        }
        foreach (var violation in test._violations) Console.WriteLine($"FAIL: {violation}");
        Console.WriteLine($"server log: {server.LogPath}");
        return 1;
    }

    private async Task RunAsync()
    {
        await _server.StartAsync(StartTimeout).ConfigureAwait(false);
        using (var admin = new AdminClientBuilder(ClientSettings.Apply(new AdminClientConfig(), _server.Bootstrap)).SetLogHandler(ClientSettings.IgnoreLog).Build())
        {
            await admin.CreateTopicsAsync(
            [
                new TopicSpecification { Name = Events, NumPartitions = _partitions, ReplicationFactor = 1 },
                new TopicSpecification { Name = Output, NumPartitions = _partitions, ReplicationFactor = 1 },
            ]).ConfigureAwait(false);
        }
        using var stopWriters = new CancellationTokenSource();
        using var stopReaders = new CancellationTokenSource();
        var writing = _writers.Select(w => w.RunAsync(stopWriters.Token)).ToList();
        var grouping = _group.RunAsync(stopReaders.Token);
        var piping = _pipeline.RunAsync(stopReaders.Token);
        await WaitUntilAsync(() => Acked > 0, TimeSpan.FromSeconds(60), "the first acknowledgement").ConfigureAwait(false);

        for (var kill = 1; kill <= _kills; kill++)
        {
            await Task.Delay(_random.Next(_minUptimeMs, _maxUptimeMs)).ConfigureAwait(false);
            _server.Kill();
            if (_sabotage && kill == (_kills + 1) / 2) CutEventsTail();
            await Task.Delay(_random.Next(0, 300)).ConfigureAwait(false);
            var restart = Stopwatch.StartNew();
            await _server.StartAsync(StartTimeout).ConfigureAwait(false);
            _restartMs.Add(restart.Elapsed.TotalMilliseconds);
            if (kill % 10 == 0 || kill == _kills) Progress($"kill {kill}/{_kills}");
            if (writing.Append(grouping).Append(piping).FirstOrDefault(t => t.IsFaulted) is { } failed)
                throw new InvalidOperationException($"a client worker failed: {failed.Exception!.GetBaseException()}");
        }

        await stopWriters.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(writing).ConfigureAwait(false);
        var unflushed = _writers.Sum(w => w.Close(TimeSpan.FromMinutes(3)));
        if (unflushed > 0) _violations.Add($"{unflushed} messages still had no delivery report 3 minutes after the last kill");
        var ends = EndOffsets();
        Progress("writers done");
        await WaitUntilAsync(() => Caught(_pipeline.CommittedPositions(), ends), CatchUpTimeout, "the pipeline to commit the whole input").ConfigureAwait(false);
        await WaitUntilAsync(() => Caught(_group.AcknowledgedCommits(), ends), CatchUpTimeout, "the consumer group to commit the whole input").ConfigureAwait(false);
        await stopReaders.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(grouping, piping).ConfigureAwait(false);

        // One more crash with nothing in flight, then everything must still be there.
        _server.Kill();
        await _server.StartAsync(StartTimeout).ConfigureAwait(false);
        Verify(ends);
        await _server.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }

    /// <summary>
    /// The harness's self-test (--sabotage yes): while the broker is down, cut the last bytes of a partition of the events
    /// topic, as a storage engine that lost acknowledged data would. The run must then fail.
    /// </summary>
    private void CutEventsTail()
    {
        var segment = Directory.EnumerateFiles(Path.Combine(_dataDirectory, "logs", $"{Events}-0"), "*.log").Order(StringComparer.Ordinal).Last();
        using var file = new FileStream(segment, FileMode.Open, FileAccess.Write);
        var cut = Math.Min(file.Length, 4096);
        file.SetLength(file.Length - cut);
        Console.WriteLine($"  sabotage: cut {cut} bytes off {segment}");
    }

    private long Acked => _writers.Sum(w => (long)w.Acked.Count);

    private void Progress(string stage)
    {
        var transactions = _pipeline.Transactions();
        Console.WriteLine($"  {stage}: {Acked} acknowledged, {_writers.Sum(w => w.Failed.Count)} failed deliveries; group processed {_group.Processed} " +
            $"({_group.Commits} commits, {_group.CommitFailures} refused); pipeline {transactions.Count(t => t.Outcome == TransactionOutcome.Committed)} transactions committed, " +
            $"{transactions.Count(t => t.Outcome == TransactionOutcome.Aborted)} aborted, {transactions.Count(t => t.Outcome == TransactionOutcome.Unknown)} unknown, {_pipeline.Restarts} restarts; " +
            $"restart {(_restartMs.Count == 0 ? 0 : _restartMs.Average()):F0} ms on average");
    }

    private static bool Caught(Dictionary<int, long> positions, Dictionary<int, long> ends) => ends.All(e => e.Value == 0 || positions.GetValueOrDefault(e.Key) >= e.Value);

    private Dictionary<int, long> EndOffsets()
    {
        using var consumer = Consumer(IsolationLevel.ReadUncommitted);
        return Enumerable.Range(0, _partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(Events, p), TimeSpan.FromSeconds(30)).High.Value);
    }

    private void Verify(Dictionary<int, long> ends)
    {
        VerifyEvents(ends);
        VerifyGroup();
        VerifyPipeline(ends);
        Progress("final");
        var lostOrMissing = _violations.Count;
        Console.WriteLine($"  {_kills} kills (SIGKILL), {_server.Starts} starts, restart {_restartMs.DefaultIfEmpty().Average():F0} ms on average " +
            $"(max {_restartMs.DefaultIfEmpty().Max():F0} ms); {lostOrMissing} violations");
    }

    /// <summary>The events topic read back whole: acknowledged messages exactly once, at their offsets, in order.</summary>
    private void VerifyEvents(Dictionary<int, long> ends)
    {
        var log = ReadAll(Events, IsolationLevel.ReadUncommitted, ends);
        var byValue = new Dictionary<string, List<TopicPartitionOffset>>(StringComparer.Ordinal);
        foreach (var record in log)
        {
            if (!byValue.TryGetValue(record.Message.Value, out var places)) byValue[record.Message.Value] = places = [];
            places.Add(record.TopicPartitionOffset);
        }
        var acked = _writers.SelectMany(w => w.Acked).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        var failed = _writers.SelectMany(w => w.Failed.Keys).ToHashSet(StringComparer.Ordinal);
        var lost = acked.Where(a => !byValue.ContainsKey(a.Key)).Select(a => a.Key).ToList();
        var moved = acked.Count(a => byValue.TryGetValue(a.Key, out var places) && places.Count == 1 && places[0] != a.Value);
        var duplicated = byValue.Count(v => v.Value.Count > 1);
        var failedButWritten = failed.Count(byValue.ContainsKey);
        var unknown = byValue.Keys.Count(v => !acked.ContainsKey(v) && !failed.Contains(v));
        // Per producer instance and partition, sequence numbers must grow with the offset.
        var outOfOrder = log.GroupBy(r => (Writer: r.Message.Value[..r.Message.Value.IndexOf('-', StringComparison.Ordinal)], r.Partition.Value))
            .Sum(g => g.Select(r => long.Parse(r.Message.Value.AsSpan(r.Message.Value.IndexOf('-', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture))
                .Zip(g.Skip(1).Select(r => long.Parse(r.Message.Value.AsSpan(r.Message.Value.IndexOf('-', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture)))
                .Count(pair => pair.Second <= pair.First));
        Console.WriteLine($"  events: {log.Count} records; {acked.Count} acknowledged: {lost.Count} lost, {moved} not at their acknowledged offset, " +
            $"{duplicated} duplicated, {outOfOrder} out of order; {failed.Count} failed deliveries ({failedButWritten} of them written anyway), {unknown} records never produced");
        if (lost.Count > 0) _violations.Add($"{lost.Count} acknowledged messages lost, e.g. {string.Join(", ", lost.Take(5))}");
        if (moved > 0) _violations.Add($"{moved} acknowledged messages are at another offset than acknowledged");
        if (duplicated > 0) _violations.Add($"{duplicated} messages are in the log more than once (idempotence)");
        if (outOfOrder > 0) _violations.Add($"{outOfOrder} messages out of order within a producer and partition");
        if (unknown > 0) _violations.Add($"{unknown} records in the log were never produced");
        foreach (var fatal in _writers.SelectMany(w => w.FatalErrors)) _violations.Add($"fatal producer error: {fatal}");
    }

    /// <summary>The group's committed offsets as the broker has them now, against what the member processed and was told.</summary>
    private void VerifyGroup()
    {
        using var consumer = Consumer(IsolationLevel.ReadUncommitted, _group.GroupId);
        var committed = consumer.Committed(Enumerable.Range(0, _partitions).Select(p => new TopicPartition(Events, p)), TimeSpan.FromSeconds(30))
            .ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
        var processed = _group.ProcessedOffsets();
        var acknowledged = _group.AcknowledgedCommits();
        foreach (var (partition, offset) in committed)
        {
            var seen = processed.GetValueOrDefault(partition) ?? [];
            var ahead = offset < 0 ? 0 : Enumerable.Range(0, (int)offset).Count(o => !seen.Contains(o));
            if (ahead > 0) _violations.Add($"group: partition {partition} committed {offset} but {ahead} offsets below it were never processed");
            if (offset < acknowledged.GetValueOrDefault(partition)) _violations.Add($"group: partition {partition} committed {offset}, below the acknowledged commit {acknowledged[partition]}");
        }
        List<string> rewinds;
        lock (_group.Rewinds) rewinds = [.. _group.Rewinds];
        foreach (var rewind in rewinds.Take(5)) _violations.Add($"group: went back below an acknowledged commit: {rewind}");
        Console.WriteLine($"  group: committed {string.Join(", ", committed.OrderBy(c => c.Key).Select(c => $"{c.Key}:{c.Value}"))}; {_group.Processed} records processed, " +
            $"{_group.Commits} commits acknowledged, {_group.CommitFailures} refused, {rewinds.Count} rewinds below an acknowledged commit");
    }

    /// <summary>The pipeline's output under read_committed, transaction by transaction, and against its input.</summary>
    private void VerifyPipeline(Dictionary<int, long> ends)
    {
        var outputEnds = Enumerable.Range(0, _partitions).ToDictionary(p => p, p => -1L);
        var visible = ReadAll(Output, IsolationLevel.ReadCommitted, outputEnds);
        var physical = ReadAll(Output, IsolationLevel.ReadUncommitted, outputEnds).Count;
        var byTransaction = new Dictionary<long, int>();
        var byInput = new Dictionary<(int, long), int>();
        foreach (var record in visible)
        {
            var value = record.Message.Value;
            var bar = value.IndexOf('|', StringComparison.Ordinal);
            var id = long.Parse(value.AsSpan(0, bar), CultureInfo.InvariantCulture);
            var parts = value[(bar + 1)..].Split(':', 3);
            var input = (int.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture));
            byTransaction[id] = byTransaction.GetValueOrDefault(id) + 1;
            byInput[input] = byInput.GetValueOrDefault(input) + 1;
        }
        var transactions = _pipeline.Transactions();
        var lostCommitted = transactions.Where(t => t.Outcome == TransactionOutcome.Committed && byTransaction.GetValueOrDefault(t.Id) != t.Inputs.Count).ToList();
        var visibleAborted = transactions.Where(t => t.Outcome == TransactionOutcome.Aborted && byTransaction.ContainsKey(t.Id)).ToList();
        var partial = transactions.Where(t => t.Outcome == TransactionOutcome.Unknown && byTransaction.TryGetValue(t.Id, out var n) && n != t.Inputs.Count).ToList();
        var unknownCommitted = transactions.Count(t => t.Outcome == TransactionOutcome.Unknown && byTransaction.ContainsKey(t.Id));
        var twice = byInput.Count(i => i.Value > 1);
        var missing = ends.Sum(e => Enumerable.Range(0, (int)e.Value).Count(o => !byInput.ContainsKey((e.Key, o))));
        Console.WriteLine($"  pipeline: {transactions.Count} transactions ({transactions.Count(t => t.Outcome == TransactionOutcome.Committed)} committed, " +
            $"{transactions.Count(t => t.Outcome == TransactionOutcome.Aborted)} aborted, {transactions.Count(t => t.Outcome == TransactionOutcome.Unknown)} unknown of which {unknownCommitted} committed); " +
            $"{visible.Count} output records visible to read_committed of {physical} in the log; {lostCommitted.Count} committed transactions not fully visible, " +
            $"{visibleAborted.Count} aborted ones visible, {partial.Count} partly visible; {twice} input records transformed twice, {missing} never");
        if (lostCommitted.Count > 0) _violations.Add($"pipeline: {lostCommitted.Count} committed transactions lost or incomplete, e.g. {lostCommitted[0].Id}");
        if (visibleAborted.Count > 0) _violations.Add($"pipeline: {visibleAborted.Count} aborted transactions visible to read_committed, e.g. {visibleAborted[0].Id}");
        if (partial.Count > 0) _violations.Add($"pipeline: {partial.Count} transactions partly visible, e.g. {partial[0].Id}");
        if (twice > 0) _violations.Add($"pipeline: {twice} input records have two visible outputs (not exactly once)");
        if (missing > 0) _violations.Add($"pipeline: {missing} input records have no visible output after the pipeline caught up");
    }

    /// <summary>Every record of <paramref name="topic"/> from the start to the end offsets (-1: the current high watermark).</summary>
    private List<ConsumeResult<string, string>> ReadAll(string topic, IsolationLevel isolation, Dictionary<int, long> ends)
    {
        using var consumer = Consumer(isolation);
        var records = new List<ConsumeResult<string, string>>();
        foreach (var partition in Enumerable.Range(0, _partitions))
        {
            var tp = new TopicPartition(topic, partition);
            var end = ends[partition] >= 0 ? ends[partition] : consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(30)).High.Value;
            consumer.Assign(new TopicPartitionOffset(tp, Offset.Beginning));
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (DateTime.UtcNow < deadline)
            {
                var record = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (record is null) continue;
                if (record.IsPartitionEOF)
                {
                    // Without a given end (read_committed output), the end of what is visible is the end.
                    if (ends[partition] < 0 || consumer.Position(tp) >= end) break;
                    continue;
                }
                if (record.Offset >= end) break;
                records.Add(record);
            }
        }
        return records;
    }

    private IConsumer<string, string> Consumer(IsolationLevel isolation, string groupId = "crash-verify") =>
        new ConsumerBuilder<string, string>(ClientSettings.Apply(new ConsumerConfig
        {
            GroupId = groupId,
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            IsolationLevel = isolation,
        }, _server.Bootstrap)).SetLogHandler(ClientSettings.IgnoreLog).Build();

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"waited {timeout.TotalSeconds} s for {what}");
            await Task.Delay(100).ConfigureAwait(false);
        }
    }
}
