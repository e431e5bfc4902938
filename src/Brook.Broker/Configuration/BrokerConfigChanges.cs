using System.Globalization;
using Brook.Broker.Network;
using Brook.Protocol;
using Brook.Storage;

namespace Brook.Broker.Configuration;

/// <summary>
/// Applies AlterConfigs (replace the scope's set) and IncrementalAlterConfigs (set/delete/append/subtract) to BROKER
/// resources: the empty name is the cluster-wide default, this broker's node id its own. A change is validated whole,
/// stored durably, then put in force at once where Kafka applies it live: topic defaults (retention, segment and flush
/// settings, message.max.bytes, ...) for every topic without an override, and the connection quotas for new connections.
/// </summary>
public sealed class BrokerConfigChanges(BrokerConfig config, ILogStore store, ConnectionLimits limits, BrokerOptions options, BrokerNode node,
    IReadOnlyList<Security.TlsListenerState> tlsListeners)
{
    private const string ListenerPrefix = "listener.name.";

    /// <summary>
    /// Builds the TLS options every TLS listener would have under <paramref name="effective"/> settings, loading their key
    /// and trust stores; throws ArgumentException when one cannot be used, so a bad change is refused before it is stored.
    /// </summary>
    private List<(Security.TlsListenerState State, System.Net.Security.SslServerAuthenticationOptions Options)> TlsCandidates(IReadOnlyDictionary<string, string> effective)
    {
        var parsed = Security.SecuritySettings.Parse(new BrokerOptions { Listeners = options.Listeners, InMemory = true, Configs = new Dictionary<string, string>(effective, StringComparer.Ordinal) });
        return tlsListeners.Select(state => (state, Security.TlsSetup.CreateAuthenticationOptions(parsed.Listeners.First(l => l.Name == state.Listener).Tls!))).ToList();
    }

    /// <summary>Puts TLS settings stored by an earlier run's dynamic changes in force (at start, before connections are served).</summary>
    public void ApplyStoredTls()
    {
        if (!config.Dynamic.Broker.Keys.Any(k => k.StartsWith(ListenerPrefix, StringComparison.Ordinal))) return;
        foreach (var (state, tls) in TlsCandidates(config.Values)) state.Replace(tls);
    }

    private readonly SemaphoreSlim _serial = new(1, 1);

    /// <summary>Whether <paramref name="resourceName"/> names the cluster default (empty) or this broker; null with an error otherwise.</summary>
    public (bool ClusterDefault, string? Error) Scope(string resourceName)
    {
        if (resourceName.Length == 0) return (true, null);
        return resourceName == node.NodeId.ToString(CultureInfo.InvariantCulture)
            ? (false, null)
            : (false, $"Broker {resourceName} is not this broker ({node.NodeId}).");
    }

    /// <summary>AlterConfigs: the scope's dynamic configs become exactly <paramref name="configs"/>.</summary>
    public ValueTask<(ErrorCode Error, string? Message)> ReplaceAsync(string resourceName, IReadOnlyDictionary<string, string?> configs, bool validateOnly, CancellationToken cancellationToken) =>
        ApplyAsync(resourceName, _ => configs.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!, StringComparer.Ordinal), validateOnly, cancellationToken);

    /// <summary>IncrementalAlterConfigs on the scope's current dynamic configs.</summary>
    public ValueTask<(ErrorCode Error, string? Message)> ApplyIncrementalAsync(string resourceName, IReadOnlyList<(string Name, sbyte Operation, string? Value)> changes,
        bool validateOnly, CancellationToken cancellationToken) =>
        ApplyAsync(resourceName, current =>
        {
            var next = new Dictionary<string, string>(current, StringComparer.Ordinal);
            foreach (var (name, op, value) in changes)
            {
                switch (op)
                {
                    case ConfigOperations.Set:
                        if (value is null) throw new ConfigChangeException(ErrorCode.InvalidRequest, $"Null value not supported for {name}.");
                        next[name] = value;
                        break;
                    case ConfigOperations.Delete:
                        next.Remove(name);
                        break;
                    case ConfigOperations.Append or ConfigOperations.Subtract:
                        var definition = BrokerConfigDefinitions.Find(name);
                        if (definition is not { Type: ConfigValueType.List })
                            throw new ConfigChangeException(ErrorCode.InvalidConfig, $"Config '{name}' is not a list; APPEND and SUBTRACT apply to lists only.");
                        next[name] = ConfigOperations.Combine(next.GetValueOrDefault(name) ?? definition.DefaultValue ?? "", value, op);
                        break;
                    default:
                        throw new ConfigChangeException(ErrorCode.InvalidRequest, $"Unknown config operation {op}.");
                }
            }
            return next;
        }, validateOnly, cancellationToken);

    private async ValueTask<(ErrorCode Error, string? Message)> ApplyAsync(string resourceName, Func<IReadOnlyDictionary<string, string>, Dictionary<string, string>> change,
        bool validateOnly, CancellationToken cancellationToken)
    {
        var (clusterDefault, scopeError) = Scope(resourceName);
        if (scopeError is not null) return (ErrorCode.InvalidRequest, scopeError);
        await _serial.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = clusterDefault ? config.Dynamic.ClusterDefaults : config.Dynamic.Broker;
            Dictionary<string, string> next;
            try
            {
                next = change(current);
            }
            catch (ConfigChangeException e)
            {
                return (e.Error, e.Message);
            }
            if (BrokerConfig.ValidateDynamic(clusterDefault, next) is { } invalid)
                // Kafka answers a broker config it cannot take (unknown, read-only, bad value) with INVALID_REQUEST.
                return (ErrorCode.InvalidRequest, $"Invalid config value for resource ConfigResource(type=BROKER, name='{resourceName}'): {invalid}");
            // A changed key or trust store is loaded before the change is stored: a file that cannot be used is refused.
            List<(Security.TlsListenerState State, System.Net.Security.SslServerAuthenticationOptions Options)>? tls = null;
            if (!clusterDefault && TouchesListeners(current, next))
            {
                var effective = new Dictionary<string, string>(config.StaticValues, StringComparer.Ordinal);
                foreach (var (name, value) in config.Dynamic.ClusterDefaults) effective[name] = value;
                foreach (var (name, value) in next) effective[name] = value;
                try
                {
                    tls = TlsCandidates(effective);
                }
                catch (Exception e) when (e is ArgumentException or FormatException)
                {
                    return (ErrorCode.InvalidRequest, $"Invalid config value for resource ConfigResource(type=BROKER, name='{resourceName}'): {e.Message}");
                }
            }
            if (validateOnly) return (ErrorCode.None, null);
            try
            {
                var values = config.ReplaceDynamic(clusterDefault, next);
                foreach (var (state, options) in tls ?? []) state.Replace(options);
                await store.UpdateBrokerConfigsAsync(values, cancellationToken).ConfigureAwait(false);
                limits.Reconfigure(values, options);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return (ErrorCode.KafkaStorageError, $"The dynamic configs could not be stored: {e.Message}");
            }
            return (ErrorCode.None, null);
        }
        finally
        {
            _serial.Release();
        }
    }

    private static bool TouchesListeners(IReadOnlyDictionary<string, string> current, IReadOnlyDictionary<string, string> next) =>
        current.Keys.Concat(next.Keys).Where(k => k.StartsWith(ListenerPrefix, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal)
            .Any(k => current.GetValueOrDefault(k) != next.GetValueOrDefault(k));

    private sealed class ConfigChangeException(ErrorCode error, string message) : Exception(message)
    {
        public ErrorCode Error { get; } = error;
    }
}

/// <summary>IncrementalAlterConfigs operations and Kafka's list arithmetic for APPEND and SUBTRACT.</summary>
public static class ConfigOperations
{
    public const sbyte Set = 0;
    public const sbyte Delete = 1;
    public const sbyte Append = 2;
    public const sbyte Subtract = 3;

    /// <summary>APPEND adds the items not yet in the list, in order; SUBTRACT removes every given item.</summary>
    public static string Combine(string current, string? delta, sbyte operation)
    {
        var items = current.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        var changes = (delta ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (operation == Append)
        {
            foreach (var item in changes)
                if (!items.Contains(item, StringComparer.Ordinal)) items.Add(item);
        }
        else
        {
            items.RemoveAll(changes.Contains);
        }
        return string.Join(",", items);
    }
}
