namespace Brook.Storage;

/// <summary>
/// One unit of a log the cleaner takes whole: a closed segment on disk, a batch in memory. <see cref="NextOffset"/> is
/// where the next unit starts (the unit covers every offset below it).
/// </summary>
internal readonly record struct CleaningUnit(long BaseOffset, long NextOffset, long Size, long MaxTimestamp, long CreatedMs);

/// <summary>
/// When a compacted log is due for cleaning and how far the cleaning reaches, in Kafka's terms: cleanable units are
/// the leading closed units that are already clean (below the first dirty offset) or whose newest record is older
/// than min.compaction.lag.ms, and that end at or below the stable limit (the first open transaction). A cleaning is
/// due when the dirty share of the cleanable bytes reaches min.cleanable.dirty.ratio, when a dirty unit is older than
/// max.compaction.lag.ms, or when a delete horizon set by an earlier pass has passed.
/// </summary>
internal static class CleaningSchedule
{
    /// <summary>How many leading <paramref name="closed"/> units a cleaning should cover now; 0 when it is not due.</summary>
    public static int CleanableCount(IReadOnlyList<CleaningUnit> closed, long firstDirtyOffset, long pendingDeleteHorizon, long stableLimit,
        LogConfig config, long nowMs, bool force)
    {
        var count = 0;
        while (count < closed.Count)
        {
            var unit = closed[count];
            // Without a lag, timestamps play no part (a producer clock running ahead must not hold cleaning back).
            var settled = unit.BaseOffset < firstDirtyOffset || unit.Size == 0 || config.MinCompactionLagMs <= 0 || nowMs - unit.MaxTimestamp >= config.MinCompactionLagMs;
            if (!settled || unit.NextOffset > stableLimit) break;
            count++;
        }
        if (count == 0) return 0;
        long dirtyBytes = 0, totalBytes = 0;
        var anyDirty = false;
        var overdue = false;
        for (var i = 0; i < count; i++)
        {
            var unit = closed[i];
            totalBytes += unit.Size;
            if (unit.NextOffset <= firstDirtyOffset) continue;
            anyDirty = true;
            dirtyBytes += unit.Size;
            overdue |= unit.Size > 0 && nowMs - unit.CreatedMs > config.MaxCompactionLagMs;
        }
        var horizonPassed = pendingDeleteHorizon <= nowMs;
        if (force || overdue || horizonPassed) return count;
        if (!anyDirty) return 0;
        var ratio = totalBytes == 0 ? 0 : (double)dirtyBytes / totalBytes;
        return ratio >= config.MinCleanableDirtyRatio ? count : 0;
    }
}
