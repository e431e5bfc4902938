using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Brook.Broker.Telemetry;

/// <summary>
/// Publishes System.Diagnostics.Metrics instruments in Prometheus text format (version 0.0.4). Written for Brook because
/// prometheus-net's meter adapter exports counters as gauges and drops series not updated for ten minutes (so an idle
/// topic's counters restarted from zero), and OpenTelemetry's exporter is a pre-release. Here counters are cumulative for
/// the exporter's life and typed <c>counter</c> with <c>_total</c>; names carry base units (<c>_seconds</c>,
/// <c>_bytes</c>); help texts are the instruments' descriptions; observable gauges are read at each scrape, so series of
/// deleted topics or groups disappear with them.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    /// <summary>Used for histograms without advised boundaries (Prometheus clients' usual defaults, in seconds).</summary>
    private static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly MeterListener _listener = new();
    private readonly Func<Instrument, bool> _include;
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private readonly SemaphoreSlim _scrape = new(1, 1);

    /// <param name="include">Which published instruments to export.</param>
    public PrometheusExporter(Func<Instrument, bool> include)
    {
        _include = include;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!_include(instrument) || Family.Create(instrument) is not { } family) return;
            _families[instrument] = family;
            listener.EnableMeasurementEvents(instrument, family);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>((_, value, tags, state) => ((Family)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>((_, value, tags, state) => ((Family)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Reads the observable instruments and returns every series as Prometheus text.</summary>
    public async Task<string> ScrapeAsync(CancellationToken cancellationToken = default)
    {
        await _scrape.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var family in _families.Values) family.BeginScrape();
            _listener.RecordObservableInstruments();
            var text = new StringBuilder();
            // One family per name: instruments of equal names (two meters of one name) would make invalid text.
            var written = new HashSet<string>(StringComparer.Ordinal);
            foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
                if (written.Add(family.Name)) family.Write(text);
            return text.ToString();
        }
        finally
        {
            _scrape.Release();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _scrape.Dispose();
    }

    /// <summary>A Prometheus metric name: meter "Brook" instruments get the prefix brook_, dots become underscores, the unit is appended when the name lacks it.</summary>
    internal static string MetricName(Instrument instrument, bool counter)
    {
        var name = new StringBuilder();
        if (instrument.Meter.Name is BrokerMetrics.MeterName) name.Append("brook_");
        foreach (var c in instrument.Name) name.Append(char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '_');
        var unit = instrument.Unit switch
        {
            "s" => "seconds",
            "By" => "bytes",
            "ms" => "milliseconds",
            "%" => "percent",
            _ => null,
        };
        var text = name.ToString();
        if (unit is not null && !text.Split('_').Contains(unit, StringComparer.Ordinal)) text += "_" + unit;
        if (counter && !text.EndsWith("_total", StringComparison.Ordinal)) text += "_total";
        // _count, _sum and _bucket belong to histograms; .NET's runtime has gauges named so (dotnet.timer.count).
        else if (!counter && instrument is not Histogram<double> and not Histogram<long> and not Histogram<int>
            && (text.EndsWith("_count", StringComparison.Ordinal) || text.EndsWith("_sum", StringComparison.Ordinal) || text.EndsWith("_bucket", StringComparison.Ordinal)))
            text += "_current";
        return text;
    }

    private static string LabelName(string key)
    {
        var name = new StringBuilder(key.Length);
        foreach (var c in key) name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        if (name.Length == 0 || char.IsAsciiDigit(name[0])) name.Insert(0, '_');
        return name.ToString();
    }

    /// <summary>The label set as it is written between braces; also the key of its series.</summary>
    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty) return "";
        var text = new StringBuilder();
        foreach (var (key, value) in tags)
        {
            if (text.Length > 0) text.Append(',');
            text.Append(LabelName(key)).Append("=\"");
            var valueText = value switch
            {
                null => "",
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
            foreach (var c in valueText)
            {
                switch (c)
                {
                    case '\\': text.Append(@"\\"); break;
                    case '"': text.Append("\\\""); break;
                    case '\n': text.Append(@"\n"); break;
                    default: text.Append(c); break;
                }
            }
            text.Append('"');
        }
        return text.ToString();
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : double.IsNegativeInfinity(value) ? "-Inf" : double.IsNaN(value) ? "NaN" : value.ToString("R", CultureInfo.InvariantCulture);

    private enum Kind
    {
        Counter,          // Counter: adds up
        ObservedCounter,  // ObservableCounter: reports its running total
        Gauge,            // UpDownCounter: adds up, may go down
        ObservedGauge,    // ObservableGauge, ObservableUpDownCounter, Gauge: the last value; observable ones are re-read at each scrape
        Histogram,
    }

    private sealed class Family
    {
        private readonly Kind _kind;
        private readonly bool _clearedEachScrape;
        private readonly double[] _buckets;
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);

        private Family(string name, string help, Kind kind, bool clearedEachScrape, double[] buckets)
        {
            Name = name;
            Help = help;
            _kind = kind;
            _clearedEachScrape = clearedEachScrape;
            _buckets = buckets;
        }

        public string Name { get; }

        public string Help { get; }

        public static Family? Create(Instrument instrument)
        {
            var definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : null;
            var (kind, observable) = definition switch
            {
                _ when definition == typeof(Counter<>) => (Kind.Counter, false),
                _ when definition == typeof(ObservableCounter<>) => (Kind.ObservedCounter, true),
                _ when definition == typeof(UpDownCounter<>) => (Kind.Gauge, false),
                _ when definition == typeof(ObservableUpDownCounter<>) || definition == typeof(ObservableGauge<>) => (Kind.ObservedGauge, true),
                _ when definition == typeof(Gauge<>) => (Kind.ObservedGauge, false),
                _ when definition == typeof(Histogram<>) => (Kind.Histogram, false),
                _ => ((Kind?)null, false),
            };
            if (kind is null) return null;
            var buckets = instrument switch
            {
                Histogram<double> { Advice.HistogramBucketBoundaries: { Count: > 0 } advised } => [.. advised],
                Histogram<long> { Advice.HistogramBucketBoundaries: { Count: > 0 } advised } => [.. advised.Select(b => (double)b)],
                Histogram<int> { Advice.HistogramBucketBoundaries: { Count: > 0 } advised } => [.. advised.Select(b => (double)b)],
                _ => DefaultBuckets,
            };
            var counter = kind is Kind.Counter or Kind.ObservedCounter;
            var help = string.IsNullOrWhiteSpace(instrument.Description) ? instrument.Name : instrument.Description.ReplaceLineEndings(" ");
            return new Family(MetricName(instrument, counter), help, kind.Value, observable, buckets);
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            var series = _series.GetOrAdd(labels, static (_, family) => new Series(family._kind == Kind.Histogram ? family._buckets.Length : 0), this);
            lock (series)
            {
                series.Observed = true;
                switch (_kind)
                {
                    case Kind.Counter or Kind.Gauge:
                        series.Value += value;
                        break;
                    case Kind.ObservedCounter or Kind.ObservedGauge:
                        series.Value = value;
                        break;
                    case Kind.Histogram:
                        series.Value += value;
                        series.Count++;
                        var bucket = Array.BinarySearch(_buckets, value);
                        // Prometheus buckets are upper-inclusive (le); a miss gives the complement of the next larger boundary.
                        series.Buckets![bucket >= 0 ? bucket : ~bucket]++;
                        break;
                }
            }
        }

        /// <summary>Observable instruments report all their series again at each read; the ones not reported are gone.</summary>
        public void BeginScrape()
        {
            if (!_clearedEachScrape) return;
            foreach (var series in _series.Values)
            {
                lock (series) series.Observed = false;
            }
        }

        public void Write(StringBuilder text)
        {
            var type = _kind switch
            {
                Kind.Counter or Kind.ObservedCounter => "counter",
                Kind.Histogram => "histogram",
                _ => "gauge",
            };
            var lines = new List<(string Labels, Series Series)>();
            foreach (var (labels, series) in _series)
            {
                if (_clearedEachScrape && !series.Observed)
                {
                    _series.TryRemove(new KeyValuePair<string, Series>(labels, series));
                    continue;
                }
                lines.Add((labels, series));
            }
            if (lines.Count == 0) return;
            text.Append("# HELP ").Append(Name).Append(' ').Append(Help.Replace(@"\", @"\\", StringComparison.Ordinal)).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
            foreach (var (labels, series) in lines.OrderBy(l => l.Labels, StringComparer.Ordinal))
            {
                lock (series)
                {
                    if (_kind != Kind.Histogram)
                    {
                        Sample(text, Name, labels, series.Value);
                        continue;
                    }
                    long cumulative = 0;
                    var separator = labels.Length > 0 ? "," : "";
                    for (var i = 0; i < _buckets.Length; i++)
                    {
                        cumulative += series.Buckets![i];
                        Sample(text, Name + "_bucket", $"{labels}{separator}le=\"{Number(_buckets[i])}\"", cumulative);
                    }
                    Sample(text, Name + "_bucket", $"{labels}{separator}le=\"+Inf\"", series.Count);
                    Sample(text, Name + "_sum", labels, series.Value);
                    Sample(text, Name + "_count", labels, series.Count);
                }
            }
        }

        private static void Sample(StringBuilder text, string name, string labels, double value)
        {
            text.Append(name);
            if (labels.Length > 0) text.Append('{').Append(labels).Append('}');
            text.Append(' ').Append(Number(value)).Append('\n');
        }
    }

    /// <summary>One label set's value (a sum, a last value, or a histogram's sum with its count and bucket counts).</summary>
    private sealed class Series(int buckets)
    {
        public double Value;
        public long Count;
        public bool Observed;
        public readonly long[]? Buckets = buckets > 0 ? new long[buckets + 1] : null;
    }
}
