using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;
using Brook.Protocol;

namespace Brook.Storage;

/// <summary>How to open a <see cref="DiskLogStore"/>.</summary>
public sealed record DiskLogStoreOptions(string DataDirectory)
{
    /// <summary>Broker-level settings of topic defaults by broker name (log.retention.hours, log.flush.interval.messages, ...), over <see cref="DiskLogStore.BrookBrokerDefaults"/>.</summary>
    public IReadOnlyDictionary<string, string> BrokerConfigs { get; init; } = ImmutableDictionary<string, string>.Empty;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>How often the background task applies retention, interval flushes and compaction; null disables it (tests drive it directly).</summary>
    public TimeSpan? BackgroundInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Read handles kept open across all partitions.</summary>
    public int MaxOpenReadHandles { get; init; } = 256;

    /// <summary>How long an idle producer id's state is kept per partition (producer.id.expiration.ms).</summary>
    public TimeSpan ProducerIdExpiration { get; init; } = ProducerStateManager.DefaultExpiration;
}

/// <summary>
/// Log store on local disk. Layout under the data directory: <c>&lt;topic&gt;-&lt;partition&gt;/</c> per partition (see
/// <see cref="DiskPartitionLog"/>), <c>.topics/&lt;topic&gt;.json</c> per topic (name, id, partition count, configs;
/// written atomically), <c>.clean_shutdown</c> while closed cleanly (skips recovery scans on open). Deleted topics'
/// directories are renamed to <c>&lt;dir&gt;.&lt;id&gt;-delete</c> and removed in the background.
/// Thread-safety: topic changes are serialized by one async lock and published as an immutable snapshot; lookups
/// never lock. No thread is held per partition: one background loop serves the store.
/// </summary>
public sealed class DiskLogStore : ILogStore, ILogMaintenance
{
    /// <summary>Brook's broker defaults where they differ from Kafka's: fsync every append, with group commit.</summary>
    public static readonly IReadOnlyDictionary<string, string> BrookBrokerDefaults = new Dictionary<string, string>
    {
        ["log.flush.interval.messages"] = "1",
    }.ToImmutableDictionary();

    private const string TopicsDirectoryName = ".topics";
    private const string CleanShutdownFileName = ".clean_shutdown";

    private readonly SemaphoreSlim _topicsLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _topicsDirectory;
    private ImmutableDictionary<string, TopicEntry> _topics = ImmutableDictionary.Create<string, TopicEntry>(StringComparer.Ordinal);
    private Task _background = Task.CompletedTask;
    private ImmutableDictionary<string, string> _brokerConfigs;
    private int _disposed;

    private DiskLogStore(DiskLogStoreOptions options)
    {
        DataDirectory = Path.GetFullPath(options.DataDirectory);
        TimeProvider = options.TimeProvider;
        var merged = new Dictionary<string, string>(BrookBrokerDefaults, StringComparer.Ordinal);
        foreach (var (name, value) in options.BrokerConfigs) merged[name] = value;
        _brokerConfigs = merged.ToImmutableDictionary(StringComparer.Ordinal);
        var errors = TopicConfigs.ValidateBrokerDefaults(BrokerConfigs);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors.Select(e => e.Message)), nameof(options));
        Handles = new FileHandleCache(options.MaxOpenReadHandles);
        PageCacheRetainBytes = BrokerConfigs.TryGetValue(PageCacheRetainBytesConfig, out var retain)
            && long.TryParse(retain, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var bytes)
            ? Math.Max(-1, bytes) : DefaultPageCacheRetainBytes;
        ProducerIdExpirationMs = (long)options.ProducerIdExpiration.TotalMilliseconds;
        _topicsDirectory = Path.Combine(DataDirectory, TopicsDirectoryName);
    }

    public string DataDirectory { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>Effective broker-level settings (Brook defaults overlaid with the configured ones).</summary>
    public IReadOnlyDictionary<string, string> BrokerConfigs => Volatile.Read(ref _brokerConfigs);

    public async ValueTask UpdateBrokerConfigsAsync(IReadOnlyDictionary<string, string> brokerConfigs, CancellationToken cancellationToken = default)
    {
        var merged = new Dictionary<string, string>(BrookBrokerDefaults, StringComparer.Ordinal);
        foreach (var (name, value) in brokerConfigs) merged[name] = value;
        await _topicsLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Volatile.Write(ref _brokerConfigs, merged.ToImmutableDictionary(StringComparer.Ordinal));
            foreach (var entry in _topics.Values)
            {
                var config = LogConfig.Create(BrokerConfigs, entry.Metadata.Configs);
                foreach (var partition in entry.Partitions) partition.Config = config;
            }
        }
        finally
        {
            _topicsLock.Release();
        }
    }

    internal FileHandleCache Handles { get; }

    /// <summary>
    /// Brook setting: bytes at the end of each partition's active segment kept in the page cache after an fsync; older
    /// flushed pages are given back (-1: leave it all to the kernel). Bounds the cache a log takes, and new appends
    /// reuse warm pages.
    /// </summary>
    public const string PageCacheRetainBytesConfig = "log.page.cache.retain.bytes";

    public const long DefaultPageCacheRetainBytes = 64L << 20;

    internal long PageCacheRetainBytes { get; }

    internal long ProducerIdExpirationMs { get; }

    internal long NowMs => TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Opens the store, recovering every partition; a missing directory is created.</summary>
    public static async Task<DiskLogStore> OpenAsync(DiskLogStoreOptions options, CancellationToken cancellationToken = default)
    {
        var store = new DiskLogStore(options);
        await Task.Run(store.Load, cancellationToken).ConfigureAwait(false);
        if (options.BackgroundInterval is { } interval) store._background = store.RunBackgroundAsync(interval);
        return store;
    }

    /// <summary>Effective config of a topic for DescribeConfigs: every entry with value and source.</summary>
    public IReadOnlyList<ConfigEntry> DescribeTopicConfigs(string topic) =>
        GetTopic(topic) is { } metadata ? TopicConfigs.Describe(BrokerConfigs, metadata.Configs) : [];

    public IReadOnlyList<TopicMetadata> ListTopics() =>
        Volatile.Read(ref _topics).Values.Select(t => t.Metadata).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();

    public TopicMetadata? GetTopic(string name) => Volatile.Read(ref _topics).TryGetValue(name, out var entry) ? entry.Metadata : null;

    public TopicMetadata? GetTopic(KafkaUuid topicId) =>
        Volatile.Read(ref _topics).Values.FirstOrDefault(t => t.Metadata.TopicId == topicId)?.Metadata;

    public IPartitionLog? GetPartition(string topic, int partition) => GetDiskPartition(topic, partition);

    internal DiskPartitionLog? GetDiskPartition(string topic, int partition) =>
        Volatile.Read(ref _topics).TryGetValue(topic, out var entry) && partition >= 0 && partition < entry.Partitions.Length
            ? entry.Partitions[partition]
            : null;

    internal IEnumerable<DiskPartitionLog> AllPartitions => Volatile.Read(ref _topics).Values.SelectMany(t => t.Partitions);

    public async ValueTask<StoreResult<TopicMetadata>> CreateTopicAsync(string name, int partitionCount, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken = default)
    {
        if (partitionCount < 1) return StoreResult<TopicMetadata>.Failure(StoreStatus.InvalidPartitions, "Partition count must be at least 1.");
        await _topicsLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_topics.ContainsKey(name)) return StoreResult<TopicMetadata>.Failure(StoreStatus.TopicAlreadyExists, $"Topic '{name}' already exists.");
            var metadata = new TopicMetadata(name, KafkaUuid.NewRandom(), partitionCount, configs.ToImmutableDictionary(StringComparer.Ordinal));
            var config = LogConfig.Create(BrokerConfigs, metadata.Configs);
            var partitions = new List<DiskPartitionLog>();
            try
            {
                for (var p = 0; p < partitionCount; p++) partitions.Add(OpenPartition(name, p, config, cleanShutdown: true));
                WriteTopicFile(metadata);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A topic that could not be saved (a full disk) leaves no directories behind to collide with a retry.
                foreach (var partition in partitions) await DiscardPartitionAsync(partition).ConfigureAwait(false);
                return StoreResult<TopicMetadata>.Failure(StoreStatus.StorageError, e.Message);
            }
            Volatile.Write(ref _topics, _topics.SetItem(name, new TopicEntry(metadata, [.. partitions])));
            return StoreResult<TopicMetadata>.Success(metadata);
        }
        finally
        {
            _topicsLock.Release();
        }
    }

    public async ValueTask<StoreStatus> DeleteTopicAsync(string name, CancellationToken cancellationToken = default)
    {
        TopicEntry? removed;
        await _topicsLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_topics.TryGetValue(name, out removed)) return StoreStatus.UnknownTopic;
            Volatile.Write(ref _topics, _topics.Remove(name));
            File.Delete(TopicFilePath(name));
            DurableFiles.SyncDirectory(_topicsDirectory);
            foreach (var partition in removed.Partitions)
            {
                await partition.CloseAsync(flush: false).ConfigureAwait(false);
                // Renamed first so the name is free at once; the bytes go in the background.
                var doomed = $"{partition.Directory}.{removed.Metadata.TopicId}-delete";
                System.IO.Directory.Move(partition.Directory, doomed);
            }
            DurableFiles.SyncDirectory(DataDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return StoreStatus.StorageError;
        }
        finally
        {
            _topicsLock.Release();
        }
        _ = Task.Run(DeleteDoomedDirectories, CancellationToken.None);
        return StoreStatus.Ok;
    }

    public async ValueTask<StoreResult<TopicMetadata>> AddPartitionsAsync(string name, int newPartitionCount, CancellationToken cancellationToken = default)
    {
        await _topicsLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_topics.TryGetValue(name, out var entry)) return StoreResult<TopicMetadata>.Failure(StoreStatus.UnknownTopic, $"Topic '{name}' does not exist.");
            var current = entry.Metadata.PartitionCount;
            if (newPartitionCount <= current)
            {
                return StoreResult<TopicMetadata>.Failure(StoreStatus.InvalidPartitions,
                    $"Topic currently has {current} partitions, which is higher than or equal to the requested {newPartitionCount}.");
            }
            var config = entry.Partitions[0].Config;
            var added = Enumerable.Range(current, newPartitionCount - current).Select(p => OpenPartition(name, p, config, cleanShutdown: true)).ToList();
            var metadata = entry.Metadata with { PartitionCount = newPartitionCount };
            WriteTopicFile(metadata);
            Volatile.Write(ref _topics, _topics.SetItem(name, new TopicEntry(metadata, entry.Partitions.AddRange(added))));
            return StoreResult<TopicMetadata>.Success(metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return StoreResult<TopicMetadata>.Failure(StoreStatus.StorageError, e.Message);
        }
        finally
        {
            _topicsLock.Release();
        }
    }

    public async ValueTask<StoreResult<TopicMetadata>> SetTopicConfigsAsync(string name, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken = default)
    {
        await _topicsLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_topics.TryGetValue(name, out var entry)) return StoreResult<TopicMetadata>.Failure(StoreStatus.UnknownTopic, $"Topic '{name}' does not exist.");
            var metadata = entry.Metadata with { Configs = configs.ToImmutableDictionary(StringComparer.Ordinal) };
            var config = LogConfig.Create(BrokerConfigs, metadata.Configs);
            WriteTopicFile(metadata);
            foreach (var partition in entry.Partitions) partition.Config = config;
            Volatile.Write(ref _topics, _topics.SetItem(name, entry with { Metadata = metadata }));
            return StoreResult<TopicMetadata>.Success(metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return StoreResult<TopicMetadata>.Failure(StoreStatus.StorageError, e.Message);
        }
        finally
        {
            _topicsLock.Release();
        }
    }

    /// <summary>Applies retention to every partition now; returns the number of segments deleted.</summary>
    public async Task<int> EnforceRetentionAsync(CancellationToken cancellationToken = default)
    {
        var deleted = 0;
        foreach (var partition in AllPartitions)
        {
            try
            {
                deleted += await partition.EnforceRetentionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // Topic deleted meanwhile.
            }
        }
        return deleted;
    }

    /// <summary>Fsyncs partitions whose flush.ms has elapsed with unflushed data.</summary>
    public async Task FlushDueAsync()
    {
        var now = TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        await Task.WhenAll(AllPartitions.Select(p => p.FlushIfDueAsync(now))).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await _topicsLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var clean = true;
            foreach (var partition in AllPartitions) clean &= await partition.CloseAsync(flush: true).ConfigureAwait(false);
            if (clean)
            {
                File.WriteAllBytes(Path.Combine(DataDirectory, CleanShutdownFileName), []);
                DurableFiles.SyncDirectory(DataDirectory);
            }
        }
        finally
        {
            _topicsLock.Release();
            Handles.Dispose();
            _stopping.Dispose();
        }
    }

    /// <summary>Simulates a crash for tests: closes files without flushing, checkpointing or marking a clean shutdown.</summary>
    internal async Task AbandonAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _background.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        foreach (var partition in AllPartitions) await partition.CloseAsync(flush: false).ConfigureAwait(false);
        Handles.Dispose();
    }

    /// <summary>What the last open found and repaired.</summary>
    public RecoveryReport Recovery { get; } = new();

    private void Load()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        System.IO.Directory.CreateDirectory(DataDirectory);
        System.IO.Directory.CreateDirectory(_topicsDirectory);
        var markerPath = Path.Combine(DataDirectory, CleanShutdownFileName);
        var cleanShutdown = File.Exists(markerPath);
        Recovery.CleanShutdown = cleanShutdown;
        if (cleanShutdown)
        {
            // Removed before anything is written so that a crash from now on triggers recovery.
            File.Delete(markerPath);
            DurableFiles.SyncDirectory(DataDirectory);
        }
        DeleteDoomedDirectories();
        var topics = ImmutableDictionary.CreateBuilder<string, TopicEntry>(StringComparer.Ordinal);
        foreach (var file in System.IO.Directory.EnumerateFiles(_topicsDirectory, "*.json"))
        {
            var stored = JsonSerializer.Deserialize(File.ReadAllBytes(file), StoredTopicJson.Default.StoredTopic)
                ?? throw new StorageException($"Topic file {file} is empty.");
            if (!KafkaUuid.TryParse(stored.TopicId, out var topicId)) throw new StorageException($"Topic file {file} has a bad topic id.");
            var metadata = new TopicMetadata(stored.Name, topicId, stored.PartitionCount, stored.Configs.ToImmutableDictionary(StringComparer.Ordinal));
            var config = LogConfig.Create(BrokerConfigs, metadata.Configs);
            var partitions = Enumerable.Range(0, metadata.PartitionCount).Select(p => OpenPartition(metadata.Name, p, config, cleanShutdown)).ToImmutableArray();
            topics[metadata.Name] = new TopicEntry(metadata, partitions);
            Recovery.Partitions += partitions.Length;
        }
        _topics = topics.ToImmutable();
        Recovery.Elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    private DiskPartitionLog OpenPartition(string topic, int partition, LogConfig config, bool cleanShutdown) =>
        DiskPartitionLog.Open(this, topic, partition, Path.Combine(DataDirectory, $"{topic}-{partition}"), config, cleanShutdown);

    private async Task RunBackgroundAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval, TimeProvider);
        while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
        {
            try
            {
                await FlushDueAsync().ConfigureAwait(false);
                await EnforceRetentionAsync(_stopping.Token).ConfigureAwait(false);
                await RunCleanerAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or StorageException or UnauthorizedAccessException)
            {
                // A failing disk must not stop the loop; the next tick retries.
            }
        }
    }

    /// <summary>Compacts partitions of compacted topics that are due; returns how many partitions were cleaned.</summary>
    public async Task<int> RunCleanerAsync(CancellationToken cancellationToken = default)
    {
        var cleaned = 0;
        foreach (var partition in AllPartitions)
        {
            if (!partition.Config.IsCompacted) continue;
            try
            {
                if (await LogCleaner.CleanAsync(partition, TimeProvider, force: false, cancellationToken).ConfigureAwait(false)) cleaned++;
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException or StorageException)
            {
                // Topic deleted or segment removed by retention meanwhile, or a segment unreadable now: this partition
                // is retried on the next run, and the others still get cleaned.
            }
        }
        return cleaned;
    }

    private void DeleteDoomedDirectories()
    {
        foreach (var directory in System.IO.Directory.EnumerateDirectories(DataDirectory, "*-delete"))
        {
            try
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Retried on the next deletion or open.
            }
        }
    }

    private static async Task DiscardPartitionAsync(DiskPartitionLog partition)
    {
        await partition.CloseAsync(flush: false).ConfigureAwait(false);
        try
        {
            System.IO.Directory.Delete(partition.Directory, recursive: true);
        }
        catch (IOException)
        {
            // Harmless leftover: a directory without a topic file is never loaded.
        }
    }

    private string TopicFilePath(string name) => Path.Combine(_topicsDirectory, name + ".json");

    private void WriteTopicFile(TopicMetadata metadata)
    {
        var stored = new StoredTopic(metadata.Name, metadata.TopicId.ToString(), metadata.PartitionCount, new Dictionary<string, string>(metadata.Configs));
        DurableFiles.WriteAtomically(TopicFilePath(metadata.Name), JsonSerializer.SerializeToUtf8Bytes(stored, StoredTopicJson.Default.StoredTopic));
    }

    private sealed record TopicEntry(TopicMetadata Metadata, ImmutableArray<DiskPartitionLog> Partitions);

}

/// <summary>A topic file's content: name, id, partition count and configs.</summary>
internal sealed record StoredTopic(string Name, string TopicId, int PartitionCount, Dictionary<string, string> Configs);

/// <summary>
/// Source-generated JSON for topic files: the reflection-based serializer costs tens of milliseconds of JIT on first
/// use, which every broker start on a new data directory would pay.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(StoredTopic))]
internal sealed partial class StoredTopicJson : JsonSerializerContext;
