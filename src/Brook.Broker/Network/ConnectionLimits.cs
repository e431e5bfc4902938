using System.Collections.Concurrent;
using System.Globalization;
using System.Net;

namespace Brook.Broker.Network;

/// <summary>
/// The network resource bounds, by Kafka's config names, read from the broker configs with <see cref="BrokerOptions"/>
/// supplying the defaults: max.connections, max.connections.per.ip (and max.connections.per.ip.overrides, e.g.
/// "127.0.0.1:200,10.0.0.7:5"), socket.request.max.bytes, queued.max.request.bytes and connections.max.idle.ms.
/// Also counts the open Kafka connections, in total and per address. Thread-safe.
/// </summary>
public sealed class ConnectionLimits
{
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private volatile Dictionary<IPAddress, int> _overrides;
    private volatile int _maxConnections;
    private volatile int _maxConnectionsPerIp;
    private int _open;

    public ConnectionLimits(BrokerOptions options)
    {
        var configs = options.Configs;
        _maxConnections = Int(configs, "max.connections", options.MaxConnections, min: 1);
        _maxConnectionsPerIp = Int(configs, "max.connections.per.ip", options.MaxConnectionsPerIp, min: 1);
        MaxRequestBytes = Int(configs, "socket.request.max.bytes", options.MaxRequestBytes, min: 8);
        QueuedMaxRequestBytes = configs.TryGetValue("queued.max.request.bytes", out var queued)
            ? long.Parse(queued, NumberStyles.Integer, CultureInfo.InvariantCulture) is var q && q > 0 ? q : long.MaxValue
            : options.QueuedMaxRequestBytes;
        IdleTimeout = configs.TryGetValue("connections.max.idle.ms", out var idle)
            ? TimeSpan.FromMilliseconds(long.Parse(idle, NumberStyles.Integer, CultureInfo.InvariantCulture))
            : options.IdleConnectionTimeout;
        if (IdleTimeout <= TimeSpan.Zero) throw new ArgumentException("connections.max.idle.ms must be positive.");
        _overrides = ParseOverrides(configs.GetValueOrDefault("max.connections.per.ip.overrides") ?? "");
    }

    /// <summary>Most Kafka connections open at once (max.connections).</summary>
    public int MaxConnections => _maxConnections;

    /// <summary>Most Kafka connections from one address (max.connections.per.ip), unless overridden for that address.</summary>
    public int MaxConnectionsPerIp => _maxConnectionsPerIp;

    /// <summary>
    /// Puts new values of the dynamic connection quotas in force (max.connections, max.connections.per.ip and its
    /// overrides), as Kafka applies them: for new connections; open ones are kept.
    /// </summary>
    public void Reconfigure(IReadOnlyDictionary<string, string> configs, BrokerOptions options)
    {
        var copy = new Dictionary<string, string>(configs, StringComparer.Ordinal);
        var overrides = ParseOverrides(copy.GetValueOrDefault("max.connections.per.ip.overrides") ?? "");
        _maxConnections = Int(copy, "max.connections", options.MaxConnections, min: 1);
        _maxConnectionsPerIp = Int(copy, "max.connections.per.ip", options.MaxConnectionsPerIp, min: 1);
        _overrides = overrides;
    }

    /// <summary>Largest request frame accepted (socket.request.max.bytes).</summary>
    public int MaxRequestBytes { get; }

    /// <summary>Bytes of requests held in memory at once across connections (queued.max.request.bytes).</summary>
    public long QueuedMaxRequestBytes { get; }

    /// <summary>A connection with no progress this long is closed (connections.max.idle.ms).</summary>
    public TimeSpan IdleTimeout { get; }

    public int OpenConnections => Volatile.Read(ref _open);

    /// <summary>The limit for <paramref name="address"/>: its override, else max.connections.per.ip.</summary>
    public int LimitFor(IPAddress address) => _overrides.TryGetValue(Normalize(address), out var limit) ? limit : MaxConnectionsPerIp;

    /// <summary>Counts a new connection, or returns why it must be refused (and counts nothing).</summary>
    public string? TryOpen(IPAddress? address)
    {
        if (Interlocked.Increment(ref _open) > MaxConnections)
        {
            Interlocked.Decrement(ref _open);
            return $"the broker has {MaxConnections} connections open (max.connections)";
        }
        if (address is null) return null;
        var key = Normalize(address);
        var limit = LimitFor(key);
        if (_perAddress.AddOrUpdate(key, 1, (_, n) => n + 1) > limit)
        {
            Release(key);
            Interlocked.Decrement(ref _open);
            return $"{key} has {limit} connections open (max.connections.per.ip)";
        }
        return null;
    }

    public void Close(IPAddress? address)
    {
        Interlocked.Decrement(ref _open);
        if (address is not null) Release(Normalize(address));
    }

    private void Release(IPAddress key)
    {
        while (true)
        {
            var current = _perAddress.GetValueOrDefault(key);
            if (current <= 1)
            {
                if (current == 0 || _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(key, current))) return;
            }
            else if (_perAddress.TryUpdate(key, current - 1, current))
            {
                return;
            }
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static int Int(Dictionary<string, string> configs, string name, int fallback, int min)
    {
        if (!configs.TryGetValue(name, out var text)) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new ArgumentException($"{name} must be an integer of at least {min}, not '{text}'.");
        return value;
    }

    /// <summary>Kafka's syntax: comma-separated host:count; hosts given by name are resolved once, at start.</summary>
    private static Dictionary<IPAddress, int> ParseOverrides(string text)
    {
        var overrides = new Dictionary<IPAddress, int>();
        foreach (var entry in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(entry[(colon + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) || limit < 0)
                throw new ArgumentException($"max.connections.per.ip.overrides entry '{entry}' must look like HOST:COUNT.");
            var host = entry[..colon].Trim('[', ']');
            var addresses = IPAddress.TryParse(host, out var ip) ? [ip] : Dns.GetHostAddresses(host);
            foreach (var address in addresses) overrides[Normalize(address)] = limit;
        }
        return overrides;
    }
}
