using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace Brook.WebConsole;

/// <summary>One second of traffic, as rates per second.</summary>
public sealed record RateSample(DateTimeOffset Time, double MessagesIn, double BytesIn, double MessagesOut, double BytesOut);

/// <summary>Current rates over the last few seconds, with the per-second history behind them.</summary>
public sealed record Rates(string Source, double WindowSeconds, double MessagesInPerSec, double BytesInPerSec, double MessagesOutPerSec,
    double BytesOutPerSec, IReadOnlyList<RateSample> History);

/// <summary>
/// Live messages/s and bytes/s in and out, read in-process from the broker's own counters (topic.messages_in,
/// topic.bytes_in, topic.messages_out, topic.bytes_out on the meter it is given) with a <see cref="MeterListener"/>:
/// these are the broker's own rates, which the Kafka protocol does not carry. Totals are summed as measurements arrive
/// and sampled once a second; rates are the difference over the last <see cref="Window"/> samples. Thread-safe.
/// </summary>
internal sealed class ThroughputMonitor : BackgroundService
{
    private const int HistorySeconds = 120;
    private const int Window = 5;
    private static readonly string[] Instruments = ["topic.messages_in", "topic.bytes_in", "topic.messages_out", "topic.bytes_out"];

    private readonly MeterListener? _listener;
    private readonly long[] _totals = new long[Instruments.Length];
    private readonly Lock _lock = new();
    private readonly Queue<(long Timestamp, DateTimeOffset Time, long[] Totals)> _samples = new();

    public ThroughputMonitor(Meter? meter)
    {
        if (meter is null) return;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                var index = Array.IndexOf(Instruments, instrument.Name);
                if (ReferenceEquals(instrument.Meter, meter) && index >= 0) listener.EnableMeasurementEvents(instrument, index);
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, state) => Interlocked.Add(ref _totals[(int)state!], value));
        _listener.Start();
    }

    public bool IsAvailable => _listener is not null;

    public Rates Current()
    {
        if (_listener is null) return new Rates("unavailable", 0, 0, 0, 0, 0, []);
        lock (_lock)
        {
            var samples = _samples.ToArray();
            var history = new List<RateSample>(samples.Length);
            for (var i = 1; i < samples.Length; i++) history.Add(Rate(samples[i - 1], samples[i]));
            if (samples.Length < 2) return new Rates("broker-metrics", 0, 0, 0, 0, 0, history);
            var last = samples[^1];
            var first = samples[Math.Max(0, samples.Length - 1 - Window)];
            var rate = Rate(first, last);
            return new Rates("broker-metrics", Stopwatch.GetElapsedTime(first.Timestamp, last.Timestamp).TotalSeconds,
                rate.MessagesIn, rate.BytesIn, rate.MessagesOut, rate.BytesOut, history);
        }
    }

    /// <summary>Takes one sample now; the background loop calls it every second.</summary>
    internal void Sample()
    {
        var totals = new long[_totals.Length];
        for (var i = 0; i < totals.Length; i++) totals[i] = Interlocked.Read(ref _totals[i]);
        lock (_lock)
        {
            _samples.Enqueue((Stopwatch.GetTimestamp(), DateTimeOffset.UtcNow, totals));
            while (_samples.Count > HistorySeconds + 1) _samples.Dequeue();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_listener is null) return;
        Sample();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false)) Sample();
        }
        catch (OperationCanceledException)
        {
            // Host stopping.
        }
    }

    public override void Dispose()
    {
        _listener?.Dispose();
        base.Dispose();
    }

    private static RateSample Rate((long Timestamp, DateTimeOffset Time, long[] Totals) from, (long Timestamp, DateTimeOffset Time, long[] Totals) to)
    {
        var seconds = Math.Max(1e-3, Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds);
        double PerSecond(int i) => Math.Max(0, to.Totals[i] - from.Totals[i]) / seconds;
        return new RateSample(to.Time, PerSecond(0), PerSecond(1), PerSecond(2), PerSecond(3));
    }
}
