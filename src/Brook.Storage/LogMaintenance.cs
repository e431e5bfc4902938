namespace Brook.Storage;

/// <summary>
/// The periodic upkeep of a log store, which its background loop runs and tests drive directly: retention for topics
/// whose cleanup.policy includes delete, compaction for those whose policy includes compact.
/// </summary>
public interface ILogMaintenance
{
    /// <summary>Applies retention.ms and retention.bytes to every partition now; returns how many segments (in memory: batches) went.</summary>
    Task<int> EnforceRetentionAsync(CancellationToken cancellationToken = default);

    /// <summary>Compacts the partitions of compacted topics that are due; returns how many partitions were cleaned.</summary>
    Task<int> RunCleanerAsync(CancellationToken cancellationToken = default);
}
