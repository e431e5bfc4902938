using System.Globalization;
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
        var producerIdExpiration = ProducerIdExpiration(options);
        // Retention and compaction run as often as the disk store's background loop does by default.
        if (options.InMemory) return new InMemoryLogStore(time, EffectiveBrokerConfigs(options), producerIdExpiration, backgroundInterval: TimeSpan.FromSeconds(30));
        return await DiskLogStore.OpenAsync(new DiskLogStoreOptions(Path.GetFullPath(Path.Combine(options.DataDirectory, "logs")))
        {
            BrokerConfigs = EffectiveBrokerConfigs(options),
            TimeProvider = time,
            ProducerIdExpiration = producerIdExpiration,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>producer.id.expiration.ms (Kafka's default: one day).</summary>
    public static TimeSpan ProducerIdExpiration(BrokerOptions options) =>
        options.Configs.TryGetValue("producer.id.expiration.ms", out var value) && long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? TimeSpan.FromMilliseconds(ms)
            : TimeSpan.FromDays(1);
}
