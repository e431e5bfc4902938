using System.Collections.Immutable;
using System.Text.Json;
using Brook.Storage;

namespace Brook.Broker.Configuration;

/// <summary>
/// Broker configs changed at run time (AlterConfigs / IncrementalAlterConfigs on BROKER resources): the cluster-wide
/// defaults (empty resource name) and this broker's own (its node id). On disk (unless in memory):
/// <c>config/dynamic-broker-configs.json</c> under the data directory, replaced atomically on every change (temp file,
/// fsync, rename, directory fsync), so a change acknowledged to the client survives a crash:
/// <c>{"version":1,"clusterDefaults":{"log.retention.ms":"3600000"},"broker":{"max.connections":"500"}}</c>.
/// </summary>
public sealed class DynamicBrokerConfigStore
{
    private const int FormatVersion = 1;
    private readonly Lock _changes = new();
    private readonly string? _path;
    private volatile Snapshot _current;

    private DynamicBrokerConfigStore(string? path, Snapshot current)
    {
        _path = path;
        _current = current;
    }

    /// <summary>The dynamic configs in force: cluster-wide defaults and this broker's.</summary>
    public sealed record Snapshot(ImmutableDictionary<string, string> ClusterDefaults, ImmutableDictionary<string, string> Broker)
    {
        public static readonly Snapshot Empty = new(ImmutableDictionary.Create<string, string>(StringComparer.Ordinal), ImmutableDictionary.Create<string, string>(StringComparer.Ordinal));
    }

    public static DynamicBrokerConfigStore InMemory() => new(null, Snapshot.Empty);

    /// <summary>Loads the file under <paramref name="dataDirectory"/>; a damaged file stops the broker rather than dropping configs.</summary>
    public static DynamicBrokerConfigStore Open(string dataDirectory)
    {
        var directory = Path.Combine(dataDirectory, "config");
        var path = Path.Combine(directory, "dynamic-broker-configs.json");
        if (!File.Exists(path)) return new DynamicBrokerConfigStore(path, Snapshot.Empty);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            return new DynamicBrokerConfigStore(path, new Snapshot(Read(root, "clusterDefaults"), Read(root, "broker")));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FatalStartException(StartExitCode.DataDirectoryUnusable, $"{path} is damaged ({e.Message}); fix or remove it to start", e);
        }
    }

    public Snapshot Current => _current;

    /// <summary>Replaces one scope's dynamic configs, durably before they take effect; returns the new snapshot.</summary>
    public Snapshot Replace(bool clusterDefault, IReadOnlyDictionary<string, string> configs)
    {
        lock (_changes)
        {
            var values = configs.ToImmutableDictionary(StringComparer.Ordinal);
            var next = clusterDefault ? _current with { ClusterDefaults = values } : _current with { Broker = values };
            if (_path is not null)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
                DurableFiles.WriteAtomically(_path, Serialize(next));
            }
            _current = next;
            return next;
        }
    }

    private static ImmutableDictionary<string, string> Read(JsonElement root, string property)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty(property, out var scope))
        {
            foreach (var entry in scope.EnumerateObject()) builder[entry.Name] = entry.Value.GetString() ?? "";
        }
        return builder.ToImmutable();
    }

    private static byte[] Serialize(Snapshot snapshot)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            Write(json, "clusterDefaults", snapshot.ClusterDefaults);
            Write(json, "broker", snapshot.Broker);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void Write(Utf8JsonWriter json, string name, ImmutableDictionary<string, string> values)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in values.OrderBy(v => v.Key, StringComparer.Ordinal)) json.WriteString(key, value);
        json.WriteEndObject();
    }
}
