using System.Diagnostics;
using System.Diagnostics.Metrics;
using Brook.Protocol;
using Brook.Storage;

namespace Brook.Broker.Telemetry;

/// <summary>
/// The broker's instruments on the "Brook.Broker" meter (System.Diagnostics.Metrics); any exporter can read them,
/// the server publishes them at /metrics in Prometheus text format. Instruments are thread-safe.
/// </summary>
public sealed class BrokerMetrics : IDisposable
{
    public const string MeterName = "Brook.Broker";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestSeconds;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _bytesIn;
    private readonly Counter<long> _messagesIn;
    private readonly Counter<long> _bytesOut;
    private readonly UpDownCounter<long> _connections;
    private readonly Counter<long> _connectionsOpened;

    public BrokerMetrics(ILogStore store, BrokerOptions options)
    {
        _meter = new Meter(MeterName);
        _requests = _meter.CreateCounter<long>("brook.requests", "{request}", "Requests handled, by API and version.");
        _requestSeconds = _meter.CreateHistogram<double>("brook.request.duration", "s", "Time from a request's arrival to its response being written.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _errors = _meter.CreateCounter<long>("brook.errors", "{error}", "Error codes returned, by API and code.");
        _bytesIn = _meter.CreateCounter<long>("brook.topic.bytes_in", "By", "Record bytes appended, by topic.");
        _messagesIn = _meter.CreateCounter<long>("brook.topic.messages_in", "{message}", "Records appended, by topic.");
        _bytesOut = _meter.CreateCounter<long>("brook.topic.bytes_out", "By", "Record bytes returned by fetches, by topic.");
        _connections = _meter.CreateUpDownCounter<long>("brook.connections", "{connection}", "Client connections open now.");
        _connectionsOpened = _meter.CreateCounter<long>("brook.connections.opened", "{connection}", "Client connections accepted.");
        _meter.CreateObservableGauge("brook.partition.log_end_offset", () => PerPartition(store, p => p.LogEndOffset), "{offset}", "Next offset of each partition.");
        _meter.CreateObservableGauge("brook.partition.log_start_offset", () => PerPartition(store, p => p.LogStartOffset), "{offset}", "First readable offset of each partition.");
        _meter.CreateObservableGauge("brook.partition.size", () => PerPartition(store, p => p.SizeInBytes), "By", "Bytes of log data of each partition.");
        _meter.CreateObservableGauge("brook.topics", () => (long)store.ListTopics().Count, "{topic}", "Topics, internal ones included.");
        if (!options.InMemory)
            _meter.CreateObservableGauge("brook.disk.free", () => FreeBytes(options.DataDirectory), "By", "Free bytes on the data directory's file system.");
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

    public void Fetched(string topic, int bytes)
    {
        if (bytes > 0) _bytesOut.Add(bytes, new TagList { { "topic", topic } });
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
