using System.Globalization;

namespace Brook.Broker.Security;

/// <summary>Kafka's security protocols of a listener.</summary>
public enum SecurityProtocol
{
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

/// <summary>A listener with its security: protocol, SASL mechanisms and PLAIN users, TLS settings.</summary>
public sealed class BrokerListener
{
    public required ListenerEndpoint Endpoint { get; init; }

    public required SecurityProtocol Protocol { get; init; }

    /// <summary>Mechanisms offered in SaslHandshake (SASL listeners only).</summary>
    public IReadOnlyList<string> SaslMechanisms { get; init; } = [];

    /// <summary>PLAIN users and passwords (sasl.plain.users).</summary>
    public IReadOnlyDictionary<string, string> PlainUsers { get; init; } = new Dictionary<string, string>();

    /// <summary>Certificates and client authentication (SSL and SASL_SSL listeners only).</summary>
    public TlsSettings? Tls { get; init; }

    public string Name => Endpoint.Name;

    public bool UsesSasl => Protocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl;

    public bool UsesTls => Protocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl;

    /// <summary>A PLAINTEXT listener for connections that came through no known listener (in-process tests).</summary>
    public static BrokerListener Plaintext(string name = "PLAINTEXT") =>
        new() { Endpoint = new ListenerEndpoint(name, "", 0), Protocol = SecurityProtocol.Plaintext };
}

/// <summary>ssl.client.auth</summary>
public enum ClientAuth
{
    None,
    Requested,
    Required,
}

/// <summary>The TLS settings of one listener, by Kafka's names, before any file is read.</summary>
public sealed record TlsSettings(
    string Listener,
    string? KeystoreType,
    string? KeystoreLocation,
    string? KeystorePassword,
    string? KeyLocation,
    string? KeyPassword,
    string? KeystoreCertificateChain,
    string? KeystoreKey,
    string? TruststoreType,
    string? TruststoreLocation,
    string? TruststorePassword,
    string? TruststoreCertificates,
    ClientAuth ClientAuth);

/// <summary>
/// The broker's security configuration, read from its Kafka-named configs: listener.security.protocol.map,
/// per-listener ssl.*, sasl.enabled.mechanisms and sasl.plain.users (each also as listener.name.&lt;name&gt;.KEY),
/// authorizer.class.name, super.users, allow.everyone.if.no.acl.found, connection.failed.authentication.delay.ms,
/// sasl.server.max.receive.size. Parsing reads no file, so it can check a configuration before the broker starts.
/// </summary>
public sealed class SecuritySettings
{
    private static readonly string[] SupportedMechanisms = [PlainSaslServer.Name, Scram.Sha256Name, Scram.Sha512Name];

    public required IReadOnlyList<BrokerListener> Listeners { get; init; }

    /// <summary>Whether ACLs are enforced (authorizer.class.name is set to anything).</summary>
    public bool AuthorizerEnabled { get; init; }

    public required AuthorizerSettings Authorizer { get; init; }

    /// <summary>How long a failed login waits before its answer and the close (connection.failed.authentication.delay.ms).</summary>
    public TimeSpan FailedAuthenticationDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest frame accepted before a SASL client has authenticated (sasl.server.max.receive.size).</summary>
    public int MaxUnauthenticatedFrameBytes { get; init; } = 524_288;

    public BrokerListener? Find(string name) => Listeners.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <exception cref="ArgumentException">The configuration is inconsistent; the message says what to fix.</exception>
    public static SecuritySettings Parse(BrokerOptions options)
    {
        var configs = options.Configs;
        var protocols = ParseProtocolMap(configs.GetValueOrDefault("listener.security.protocol.map"));
        var listeners = new List<BrokerListener>();
        foreach (var text in options.Listeners)
        {
            var endpoint = ListenerEndpoint.Parse(text);
            var name = endpoint.Name.ToUpperInvariant();
            if (listeners.Any(l => l.Name == name)) throw new ArgumentException($"Listener name {name} is used twice in listeners.");
            if (!protocols.TryGetValue(name, out var protocol))
                throw new ArgumentException($"Listener {name} has no security protocol: add it to listener.security.protocol.map (e.g. {name}:SASL_SSL).");
            string? Setting(string key) => configs.GetValueOrDefault($"listener.name.{name.ToLowerInvariant()}.{key}") ?? configs.GetValueOrDefault(key);
            var listener = new BrokerListener
            {
                Endpoint = endpoint with { Name = name },
                Protocol = protocol,
                SaslMechanisms = protocol is SecurityProtocol.SaslPlaintext or SecurityProtocol.SaslSsl ? ParseMechanisms(name, Setting) : [],
                PlainUsers = ParsePlainUsers(name, Setting("sasl.plain.users")),
                Tls = protocol is SecurityProtocol.Ssl or SecurityProtocol.SaslSsl ? ParseTls(name, Setting) : null,
            };
            listeners.Add(listener);
        }
        foreach (var advertised in options.AdvertisedListeners.Select(ListenerEndpoint.Parse))
        {
            if (listeners.All(l => !string.Equals(l.Name, advertised.Name, StringComparison.OrdinalIgnoreCase)))
                throw new ArgumentException($"Advertised listener {advertised} names no listener (listeners: {string.Join(", ", listeners.Select(l => l.Name))}).");
        }
        var mapping = configs.GetValueOrDefault("ssl.principal.mapping.rules");
        if (mapping is not null && mapping.Trim() != "DEFAULT")
            throw new ArgumentException("ssl.principal.mapping.rules: only DEFAULT is supported (the principal is User:<certificate subject>).");
        return new SecuritySettings
        {
            Listeners = listeners,
            AuthorizerEnabled = !string.IsNullOrWhiteSpace(configs.GetValueOrDefault("authorizer.class.name")),
            Authorizer = AuthorizerSettings.Parse(configs),
            FailedAuthenticationDelay = TimeSpan.FromMilliseconds(Number(configs, "connection.failed.authentication.delay.ms", 100, min: 0)),
            MaxUnauthenticatedFrameBytes = Number(configs, "sasl.server.max.receive.size", 524_288, min: 64),
        };
    }

    /// <summary>Kafka's map "NAME:PROTOCOL,..."; the four protocol names always map to themselves unless overridden.</summary>
    private static Dictionary<string, SecurityProtocol> ParseProtocolMap(string? text)
    {
        var map = new Dictionary<string, SecurityProtocol>(StringComparer.Ordinal)
        {
            ["PLAINTEXT"] = SecurityProtocol.Plaintext,
            ["SSL"] = SecurityProtocol.Ssl,
            ["SASL_PLAINTEXT"] = SecurityProtocol.SaslPlaintext,
            ["SASL_SSL"] = SecurityProtocol.SaslSsl,
        };
        foreach (var entry in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var protocol = colon > 0 ? ProtocolFromName(entry[(colon + 1)..].Trim()) : null;
            if (protocol is null) throw new ArgumentException($"listener.security.protocol.map: '{entry}' is not NAME:PROTOCOL with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL.");
            map[entry[..colon].Trim().ToUpperInvariant()] = protocol.Value;
        }
        return map;
    }

    private static SecurityProtocol? ProtocolFromName(string name) => name.ToUpperInvariant() switch
    {
        "PLAINTEXT" => SecurityProtocol.Plaintext,
        "SSL" => SecurityProtocol.Ssl,
        "SASL_PLAINTEXT" => SecurityProtocol.SaslPlaintext,
        "SASL_SSL" => SecurityProtocol.SaslSsl,
        _ => null,
    };

    /// <summary>sasl.enabled.mechanisms; by default SCRAM-SHA-256 and SCRAM-SHA-512, plus PLAIN when PLAIN users are configured.</summary>
    private static List<string> ParseMechanisms(string listener, Func<string, string?> setting)
    {
        var configured = setting("sasl.enabled.mechanisms");
        if (configured is null)
            return setting("sasl.plain.users") is null ? [Scram.Sha256Name, Scram.Sha512Name] : [Scram.Sha256Name, Scram.Sha512Name, PlainSaslServer.Name];
        var mechanisms = configured.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(m => m.ToUpperInvariant()).Distinct().ToList();
        foreach (var m in mechanisms)
            if (!SupportedMechanisms.Contains(m)) throw new ArgumentException($"Listener {listener}: SASL mechanism {m} is not supported (use {string.Join(", ", SupportedMechanisms)}).");
        if (mechanisms.Count == 0) throw new ArgumentException($"Listener {listener}: sasl.enabled.mechanisms is empty.");
        return mechanisms;
    }

    /// <summary>sasl.plain.users=alice:secret,bob:pw — the user name ends at the first ':'; passwords cannot contain ','.</summary>
    private static Dictionary<string, string> ParsePlainUsers(string listener, string? text)
    {
        var users = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || colon == entry.Length - 1) throw new ArgumentException($"Listener {listener}: sasl.plain.users entry '{entry[..Math.Max(colon, 0)]}…' is not USER:PASSWORD.");
            users[entry[..colon]] = entry[(colon + 1)..];
        }
        return users;
    }

    private static TlsSettings ParseTls(string listener, Func<string, string?> setting)
    {
        var clientAuth = (setting("ssl.client.auth") ?? "none").Trim().ToLowerInvariant() switch
        {
            "none" => ClientAuth.None,
            "requested" => ClientAuth.Requested,
            "required" => ClientAuth.Required,
            var other => throw new ArgumentException($"Listener {listener}: ssl.client.auth must be none, requested or required, not '{other}'."),
        };
        var tls = new TlsSettings(listener,
            setting("ssl.keystore.type"), setting("ssl.keystore.location"), setting("ssl.keystore.password"),
            setting("ssl.key.location"), setting("ssl.key.password"),
            setting("ssl.keystore.certificate.chain"), setting("ssl.keystore.key"),
            setting("ssl.truststore.type"), setting("ssl.truststore.location"), setting("ssl.truststore.password"),
            setting("ssl.truststore.certificates"), clientAuth);
        if (tls.KeystoreLocation is null && tls.KeystoreCertificateChain is null)
            throw new ArgumentException($"Listener {listener} uses TLS but has no certificate: set ssl.keystore.location (PKCS12 or PEM) or ssl.keystore.certificate.chain and ssl.keystore.key.");
        return tls;
    }

    private static int Number(IReadOnlyDictionary<string, string> configs, string key, int fallback, int min)
    {
        if (configs.GetValueOrDefault(key) is not { } text) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new ArgumentException($"{key} must be an integer of at least {min}, not '{text}'.");
        return value;
    }
}
