using System.Collections.Concurrent;
using Brook.Admin;

namespace Brook.WebConsole;

/// <summary>A group's lag at one moment: the total and each partition's ("topic/partition" → messages).</summary>
public sealed record LagSample(DateTimeOffset Time, long Total, IReadOnlyDictionary<string, long> Partitions);

/// <summary>
/// Lag over time per group, recorded whenever the console describes a group (the group page refreshes every few
/// seconds), so the chart has history while anyone watches. Bounded: <see cref="MaxSamples"/> per group, at most
/// <see cref="MaxGroups"/> groups (the least recently recorded is forgotten). Thread-safe.
/// </summary>
internal sealed class LagHistory(TimeProvider time)
{
    public const int MaxSamples = 720;
    public const int MaxGroups = 500;
    private const int MaxPartitionsPerSample = 64;
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentDictionary<string, Series> _groups = new(StringComparer.Ordinal);

    public IReadOnlyList<LagSample> Record(GroupDescription group)
    {
        var now = time.GetUtcNow();
        var partitions = group.Partitions.Where(p => p.Lag is not null)
            .OrderByDescending(p => p.Lag).Take(MaxPartitionsPerSample)
            .ToDictionary(p => $"{p.Topic}/{p.Partition}", p => p.Lag!.Value, StringComparer.Ordinal);
        var series = _groups.GetOrAdd(group.GroupId, _ => new Series());
        IReadOnlyList<LagSample> snapshot;
        lock (series)
        {
            series.LastRecorded = now;
            var sample = new LagSample(now, group.TotalLag, partitions);
            // Several viewers polling at once would crowd the chart: within MinInterval of the last sample, its values are
            // refreshed but its time is kept, so a steady stream of requests still yields a sample per interval.
            if (series.Samples.Count > 0 && now - series.Samples[^1].Time < MinInterval) series.Samples[^1] = sample with { Time = series.Samples[^1].Time };
            else series.Samples.Add(sample);
            if (series.Samples.Count > MaxSamples) series.Samples.RemoveRange(0, series.Samples.Count - MaxSamples);
            snapshot = series.Samples.ToList();
        }
        if (_groups.Count > MaxGroups)
        {
            var oldest = _groups.MinBy(g => g.Value.LastRecorded);
            _groups.TryRemove(oldest.Key, out _);
        }
        return snapshot;
    }

    public void Forget(string groupId) => _groups.TryRemove(groupId, out _);

    private sealed class Series
    {
        public List<LagSample> Samples { get; } = [];

        public DateTimeOffset LastRecorded { get; set; }
    }
}
