using System.Diagnostics;
using System.Diagnostics.Metrics;
using Brook.Broker.Groups;
using Brook.Protocol;
using Brook.Protocol.Records;
using Brook.Storage;

namespace Brook.Broker.Telemetry;

/// <summary>
/// The broker's instruments on the "Brook" meter (System.Diagnostics.Metrics); any exporter can read them,
/// the server publishes them at /metrics in Prometheus text format. Instruments are thread-safe.
/// </summary>
public sealed class BrokerMetrics : IDisposable
{
    public const string MeterName = "Brook";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestSeconds;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _bytesIn;
    private readonly Counter<long> _messagesIn;
    private readonly Counter<long> _bytesOut;
    private readonly Counter<long> _messagesOut;
    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _connectionsOpened;
    private readonly GroupLagService _groups;
    private readonly Lock _groupsLock = new();
    private (long Timestamp, IReadOnlyList<GroupOverview> Groups) _groupsSnapshot = (0, []);

    public BrokerMetrics(ILogStore store, BrokerOptions options, GroupLagService groups)
    {
        _groups = groups;
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("requests", "{request}", "Requests handled, by API and version.");
        _requestSeconds = _meter.CreateHistogram<double>("request.duration", "s", "Time from a request's arrival to its response being written.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _errors = _meter.CreateCounter<long>("errors", "{error}", "Error codes returned, by API and code.");
        _bytesIn = _meter.CreateCounter<long>("topic.bytes_in", "By", "Record bytes appended, by topic.");
        _messagesIn = _meter.CreateCounter<long>("topic.messages_in", "{message}", "Records appended, by topic.");
        _bytesOut = _meter.CreateCounter<long>("topic.bytes_out", "By", "Record bytes returned by fetches, by topic.");
        _messagesOut = _meter.CreateCounter<long>("topic.messages_out", "{message}", "Records returned by fetches (control records excluded), by topic.");
        _connections = _meter.CreateUpDownCounter<long>("connections", "{connection}", "Client connections open now.");
        _connectionsOpened = _meter.CreateCounter<long>("connections.opened", "{connection}", "Client connections accepted.");
        _meter.CreateObservableGauge("partition.log_end_offset", () => PerPartition(store, p => p.LogEndOffset), "{offset}", "Next offset of each partition.");
        _meter.CreateObservableGauge("partition.log_start_offset", () => PerPartition(store, p => p.LogStartOffset), "{offset}", "First readable offset of each partition.");
        _meter.CreateObservableGauge("partition.size", () => PerPartition(store, p => p.SizeInBytes), "By", "Bytes of log data of each partition.");
        _meter.CreateObservableGauge("topics", () => (long)store.ListTopics().Count, "{topic}", "Topics, internal ones included.");
        _meter.CreateObservableGauge("group.lag", () => PerGroupPartition(p => p.Lag), "{message}", "Messages from each group's committed offset to the log end, by partition.");
        _meter.CreateObservableGauge("group.lag_seconds", () => PerGroupPartition(p => p.LagSeconds), "s",
            "Age of the first record each group has not consumed (from its timestamp), by partition; 0 when caught up.");
        _meter.CreateObservableGauge("group.members", PerGroup, "{member}", "Members of each group, with the group's state and protocol type.");
        _meter.CreateObservableGauge("groups", GroupsByState, "{group}", "Groups by state.");
        if (store is DiskLogStore disk)
        {
            // Counted once at start; exported as counters so alerts can use increase() across restarts of the scrape.
            _meter.CreateObservableCounter("recovery.truncated_bytes", () => disk.Recovery.TruncatedBytes, "By",
                "Bytes of log data cut off or dropped by recovery at start (torn writes, CRC mismatches, segments after corrupt ones).");
            _meter.CreateObservableCounter("recovery.repairs", () => (long)disk.Recovery.Repairs.Count, "{repair}",
                "Repairs made by recovery at start: segments truncated or dropped, indexes rebuilt.");
        }
        if (!options.InMemory)
        {
            _meter.CreateObservableGauge("disk.free", () => FreeBytes(options.DataDirectory), "By", "Free bytes on the data directory's file system.");
            var directory = Path.GetFullPath(options.DataDirectory);
            _meter.CreateObservableGauge("disk.used", () => new Measurement<long>(UsedBytes(directory), new KeyValuePair<string, object?>("directory", directory)),
                "By", "Bytes of the files under the data directory.");
        }
    }

    public void RequestCompleted(string api, short version, long startTimestamp)
    {
        var tags = new TagList { { "api", api }, { "version", version } };
        _requests.Add(1, tags);
        _requestSeconds.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new TagList { { "api", api } });
    }

    public void ErrorReturned(string api, ErrorCode code) =>
        _errors.Add(1, new TagList { { "api", api }, { "error", ErrorCodes.Name(code) } });

    public void Appended(string topic, int bytes, int messages)
    {
        var tags = new TagList { { "topic", topic } };
        _bytesIn.Add(bytes, tags);
        _messagesIn.Add(messages, tags);
    }

    /// <summary>The meter of these instruments, for in-process readers such as the web console.</summary>
    public Meter Meter => _meter;

    /// <summary>Counts the bytes and the records of what one fetch returns for one partition.</summary>
    public void Fetched(string topic, ReadOnlySpan<byte> records)
    {
        if (records.IsEmpty) return;
        var tags = new TagList { { "topic", topic } };
        _bytesOut.Add(records.Length, tags);
        var messages = CountRecords(records);
        if (messages > 0) _messagesOut.Add(messages, tags);
    }

    /// <summary>Records in the whole data batches of <paramref name="records"/>, read from batch headers; a cut-off last batch is not counted.</summary>
    internal static long CountRecords(ReadOnlySpan<byte> records)
    {
        long count = 0;
        while (records.Length >= RecordBatchHeader.Size)
        {
            var header = new RecordBatchHeader(records);
            var size = header.TotalSize;
            if (size < RecordBatchHeader.Size || size > records.Length) break;
            if (!header.IsControl) count += header.RecordCount;
            records = records[size..];
        }
        return count;
    }

    public void ConnectionOpened()
    {
        _connections.Add(1);
        _connectionsOpened.Add(1);
    }

    public void ConnectionClosed() => _connections.Add(-1);

    private static IEnumerable<Measurement<long>> PerPartition(ILogStore store, Func<IPartitionLog, long> value)
    {
        foreach (var topic in store.ListTopics())
        {
            for (var p = 0; p < topic.PartitionCount; p++)
            {
                if (store.GetPartition(topic.Name, p) is { } log)
                    yield return new Measurement<long>(value(log), new KeyValuePair<string, object?>("topic", topic.Name), new KeyValuePair<string, object?>("partition", p));
            }
        }
    }

    /// <summary>
    /// The groups with their lag, computed once per scrape: observable instruments are read one after another within a
    /// collection, so a snapshot younger than a second is reused. Instruments are read synchronously, so this waits for the
    /// computation: a few group locks (each held at most for one append) and one batch read per lagging partition, on the
    /// scraping thread, never on a request path.
    /// </summary>
    private IReadOnlyList<GroupOverview> Groups()
    {
        lock (_groupsLock)
        {
            if (_groupsSnapshot.Timestamp != 0 && Stopwatch.GetElapsedTime(_groupsSnapshot.Timestamp) < TimeSpan.FromSeconds(1)) return _groupsSnapshot.Groups;
            var groups = _groups.GetAllAsync().GetAwaiter().GetResult();
            _groupsSnapshot = (Stopwatch.GetTimestamp(), groups);
            return groups;
        }
    }

    private IEnumerable<Measurement<T>> PerGroupPartition<T>(Func<PartitionLag, T> value)
        where T : struct
    {
        foreach (var group in Groups())
        {
            foreach (var p in group.Lag.Partitions)
                yield return new Measurement<T>(value(p), new KeyValuePair<string, object?>("group", group.GroupId),
                    new KeyValuePair<string, object?>("topic", p.Topic), new KeyValuePair<string, object?>("partition", p.Partition));
        }
    }

    private IEnumerable<Measurement<int>> PerGroup() =>
        Groups().Select(g => new Measurement<int>(g.Members, new KeyValuePair<string, object?>("group", g.GroupId),
            new KeyValuePair<string, object?>("state", g.State), new KeyValuePair<string, object?>("type", g.Type)));

    private IEnumerable<Measurement<int>> GroupsByState() =>
        Groups().GroupBy(g => g.State, StringComparer.Ordinal).Select(s => new Measurement<int>(s.Count(), new KeyValuePair<string, object?>("state", s.Key)));

    private static long UsedBytes(string path)
    {
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            // Lengths come with the directory listing: files deleted meanwhile (retention, compaction) cannot fail the sum.
            return new DirectoryInfo(path).EnumerateFiles("*", options).Sum(f => f.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    private static long FreeBytes(string path)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    public void Dispose() => _meter.Dispose();
}
