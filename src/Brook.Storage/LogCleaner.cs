namespace Brook.Storage;

/// <summary>Compaction of partitions with cleanup.policy compact.</summary>
internal static class LogCleaner
{
    public static Task<bool> CleanAsync(DiskPartitionLog partition, TimeProvider timeProvider, bool force, CancellationToken cancellationToken) =>
        Task.FromResult(false);
}
