using System.Net;

namespace Brook.Broker;

/// <summary>Settings of one broker process. Defaults match a newcomer's expectations: 127.0.0.1:9092, data under ./data.</summary>
public sealed class BrokerOptions
{
    /// <summary>Where to accept connections, e.g. "PLAINTEXT://127.0.0.1:9092". Port 0 picks a free port.</summary>
    public List<string> Listeners { get; set; } = ["PLAINTEXT://127.0.0.1:9092"];

    /// <summary>What clients are told to connect to; defaults to the listeners (with the bound port when it was 0).</summary>
    public List<string> AdvertisedListeners { get; set; } = [];

    public string DataDirectory { get; set; } = "data";

    /// <summary>HTTP endpoints for /metrics and /health (e.g. "http://127.0.0.1:9080"); none by default for an embedded broker.</summary>
    public List<string> HttpListeners { get; set; } = [];

    /// <summary>Keep everything in memory (tests, demos): nothing survives a restart.</summary>
    public bool InMemory { get; set; }

    /// <summary>Broker-level configs by Kafka name (e.g. "auto.create.topics.enable", "log.retention.ms").</summary>
    public Dictionary<string, string> Configs { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Largest request frame accepted (socket.request.max.bytes). The broker configs' Kafka names, when set, win over these properties.</summary>
    public int MaxRequestBytes { get; set; } = 100 * 1024 * 1024;

    /// <summary>Connections idle this long are closed (connections.max.idle.ms).</summary>
    public TimeSpan IdleConnectionTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Most connections open at once (max.connections).</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Most connections from one address (max.connections.per.ip; Kafka's default is no limit).</summary>
    public int MaxConnectionsPerIp { get; set; } = int.MaxValue;

    /// <summary>Bytes of requests held in memory at once, over all connections (queued.max.request.bytes).</summary>
    public long QueuedMaxRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>A parsed listener: name, security protocol and endpoint.</summary>
public sealed record ListenerEndpoint(string Name, string Host, int Port)
{
    public static ListenerEndpoint Parse(string text)
    {
        var sep = text.IndexOf("://", StringComparison.Ordinal);
        if (sep <= 0) throw new FormatException($"Listener '{text}' must look like NAME://HOST:PORT, e.g. PLAINTEXT://{text}.");
        var name = text[..sep];
        var rest = text[(sep + 3)..];
        var colon = rest.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(rest[(colon + 1)..], out var port) || port is < 0 or > 65535)
            throw new FormatException($"Listener '{text}' has no valid port.");
        var host = rest[..colon].Trim('[', ']');
        return new ListenerEndpoint(name, host, port);
    }

    public IPAddress BindAddress => Host.Length == 0 || Host == "0.0.0.0" ? IPAddress.Any
        : Host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(Host, out var ip) ? ip : IPAddress.Any;

    public override string ToString() => $"{Name}://{Host}:{Port}";
}
