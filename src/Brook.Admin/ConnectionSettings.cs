using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Brook.Admin;

/// <summary>
/// Where a cluster is and how to talk to it: bootstrap servers plus extra client properties (SASL, TLS, ...) in
/// librdkafka's names, and a deadline for each admin request.
/// </summary>
public sealed record ConnectionSettings
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public ConnectionSettings(string bootstrapServers, IReadOnlyDictionary<string, string>? properties = null, TimeSpan? timeout = null)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers)) throw new ArgumentException("Bootstrap servers are required.", nameof(bootstrapServers));
        BootstrapServers = bootstrapServers;
        Properties = properties ?? new Dictionary<string, string>();
        Timeout = timeout ?? DefaultTimeout;
    }

    public string BootstrapServers { get; }

    /// <summary>Extra client properties; they win over the defaults this library sets, never over the bootstrap servers.</summary>
    public IReadOnlyDictionary<string, string> Properties { get; }

    /// <summary>Deadline of one admin request (and of connecting for it).</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Client id the connections announce.</summary>
    public string ClientId { get; init; } = "brook-admin";

    internal AdminClientConfig AdminConfig() => Apply(new AdminClientConfig());

    internal ProducerConfig ProducerConfig() => Apply(new ProducerConfig());

    internal ConsumerConfig ConsumerConfig() => Apply(new ConsumerConfig());

    private T Apply<T>(T config) where T : ClientConfig
    {
        config.ClientId = ClientId;
        config.SocketConnectionSetupTimeoutMs = (int)Math.Min(int.MaxValue, Timeout.TotalMilliseconds);
        foreach (var (key, value) in Properties) config.Set(key, value);
        config.BootstrapServers = BootstrapServers;
        return config;
    }

    /// <summary>
    /// Reads a Kafka-style client properties file (<c>key=value</c>, <c>key: value</c>, <c>#</c> and <c>!</c> comments,
    /// backslash line continuations). Java-only settings are translated where librdkafka has an equivalent:
    /// <c>sasl.jaas.config</c> with a username and password becomes <c>sasl.username</c>/<c>sasl.password</c>.
    /// </summary>
    public static Dictionary<string, string> ParseProperties(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var logical = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (logical.Length == 0)
            {
                line = line.TrimStart();
                if (line.Length == 0 || line[0] is '#' or '!') continue;
            }
            else
            {
                line = line.TrimStart();
            }
            if (EndsWithContinuation(line))
            {
                logical.Append(line, 0, line.Length - 1);
                continue;
            }
            logical.Append(line);
            AddProperty(result, logical.ToString());
            logical.Clear();
        }
        if (logical.Length > 0) AddProperty(result, logical.ToString());
        TranslateJaasConfig(result);
        return result;
    }

    private static bool EndsWithContinuation(string line)
    {
        var backslashes = 0;
        for (var i = line.Length - 1; i >= 0 && line[i] == '\\'; i--) backslashes++;
        return backslashes % 2 == 1;
    }

    private static void AddProperty(Dictionary<string, string> result, string line)
    {
        var separator = line.IndexOfAny(['=', ':']);
        var (key, value) = separator < 0 ? (line.Trim(), "") : (line[..separator].Trim(), line[(separator + 1)..].Trim());
        if (key.Length > 0) result[key] = value;
    }

    private static void TranslateJaasConfig(Dictionary<string, string> properties)
    {
        if (!properties.Remove("sasl.jaas.config", out var jaas)) return;
        var username = Regex.Match(jaas, "username\\s*=\\s*\"([^\"]*)\"");
        var password = Regex.Match(jaas, "password\\s*=\\s*\"([^\"]*)\"");
        if (username.Success) properties.TryAdd("sasl.username", username.Groups[1].Value);
        if (password.Success) properties.TryAdd("sasl.password", password.Groups[1].Value);
    }
}
