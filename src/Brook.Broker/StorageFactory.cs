using Brook.Storage;

namespace Brook.Broker;

/// <summary>Creates the log store the options ask for: on disk under the data directory, or in memory.</summary>
internal static class StorageFactory
{
    public static ILogStore Create(BrokerOptions options, IServiceProvider services)
    {
        if (options.InMemory) return new InMemoryLogStore(services.GetService(typeof(TimeProvider)) as TimeProvider);
        throw new NotSupportedException("Disk storage is wired in once Brook.Storage provides it.");
    }
}
