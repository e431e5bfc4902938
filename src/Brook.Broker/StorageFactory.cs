using Brook.Storage;

namespace Brook.Broker;

/// <summary>Opens the log store the options ask for: on disk under the data directory (recovering it), or in memory.</summary>
internal static class StorageFactory
{
    /// <summary>Broker settings with Brook's own defaults underneath (fsync per append with group commit).</summary>
    public static Dictionary<string, string> EffectiveBrokerConfigs(BrokerOptions options)
    {
        var merged = new Dictionary<string, string>(DiskLogStore.BrookBrokerDefaults, StringComparer.Ordinal);
        foreach (var (name, value) in options.Configs) merged[name] = value;
        return merged;
    }

    public static async Task<ILogStore> OpenAsync(BrokerOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (options.InMemory) return new InMemoryLogStore(time);
        return await DiskLogStore.OpenAsync(new DiskLogStoreOptions(Path.GetFullPath(Path.Combine(options.DataDirectory, "logs")))
        {
            BrokerConfigs = EffectiveBrokerConfigs(options),
            TimeProvider = time,
        }, cancellationToken).ConfigureAwait(false);
    }
}
