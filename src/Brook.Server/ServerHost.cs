using Brook.Admin;
using Brook.Broker;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Server;

/// <summary>What the server runs: the broker's options, and whether the web console is served on its HTTP listeners.</summary>
public sealed record ServerOptions(BrokerOptions Broker, bool ConsoleEnabled = true)
{
    /// <summary>The listener the console connects through (console.listener); by default one it can use with its settings.</summary>
    public string? ConsoleListener { get; init; }

    /// <summary>
    /// Client properties of the console's Kafka connection in librdkafka's names (console.kafka.sasl.mechanism,
    /// console.kafka.sasl.username, console.kafka.sasl.password, console.kafka.ssl.ca.location, ...; prefix removed).
    /// </summary>
    public IReadOnlyDictionary<string, string> ConsoleClient { get; init; } = new Dictionary<string, string>();

    /// <summary>Host names the console answers to besides loopback names and the HTTP listeners' addresses (console.allowed.hosts).</summary>
    public IReadOnlyList<string> ConsoleAllowedHosts { get; init; } = [];

    /// <summary>Log levels and format (logging.*, --log-level, --log-format).</summary>
    public LoggingSettings Logging { get; init; } = new();
}

/// <summary>Starts a broker with the server's additions: the web console on the HTTP listeners unless turned off.</summary>
public static class ServerHost
{
    public static Task<BrookBroker> StartAsync(ServerOptions options, Action<WebApplicationBuilder>? configureApp = null, CancellationToken cancellationToken = default) =>
        BrookBroker.StartAsync(options.Broker, builder =>
        {
            configureApp?.Invoke(builder);
            builder.Services.AddHostedService<IdleMemoryTrimmer>();
            if (!options.ConsoleEnabled || options.Broker.HttpListeners.Count == 0) return;
            // The console talks to this broker over the Kafka protocol, through the address the broker advertises once it
            // listens; its live rates come from the broker's own counters in this process.
            builder.Services.AddBrookConsole(
                sp => ConnectionTo(sp.GetRequiredService<BrokerNode>(), sp.GetRequiredService<SecuritySettings>(), options),
                sp => sp.GetRequiredService<BrokerMetrics>().Meter,
                options.ConsoleAllowedHosts);
            builder.Services.AddSingleton(new HttpEndpoints(endpoints => endpoints.MapBrookConsole()));
        }, cancellationToken);

    /// <summary>
    /// Where and how the console connects: the chosen listener's advertised address, with security.protocol set from the
    /// listener's protocol unless given. Without SASL credentials it needs a listener that asks for none.
    /// </summary>
    internal static ConnectionSettings? ConnectionTo(BrokerNode node, SecuritySettings security, ServerOptions options)
    {
        var advertised = node.AdvertisedListeners;
        if (advertised.Count == 0) return null;
        var properties = new Dictionary<string, string>(options.ConsoleClient, StringComparer.Ordinal);
        var listener = ChooseListener(security, options.ConsoleListener, properties.ContainsKey("sasl.username"));
        properties.TryAdd("security.protocol", listener.Protocol switch
        {
            SecurityProtocol.Ssl => "SSL",
            SecurityProtocol.SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol.SaslSsl => "SASL_SSL",
            _ => "PLAINTEXT",
        });
        if (listener.UsesSasl) properties.TryAdd("sasl.mechanism", listener.SaslMechanisms.FirstOrDefault() ?? "SCRAM-SHA-512");
        var endpoint = node.EndpointFor(listener.Name);
        return new ConnectionSettings($"{endpoint.Host}:{endpoint.Port}", properties, TimeSpan.FromSeconds(15))
        {
            ClientId = "brook-console",
        };
    }

    private static BrokerListener ChooseListener(SecuritySettings security, string? name, bool hasCredentials)
    {
        if (name is not null)
        {
            return security.Find(name) ?? throw AdminException.Invalid(
                $"console.listener names no listener '{name}' (listeners: {string.Join(", ", security.Listeners.Select(l => l.Name))})");
        }
        var listener = hasCredentials
            ? security.Listeners.FirstOrDefault(l => l.UsesSasl) ?? security.Listeners.FirstOrDefault(l => l.Protocol == SecurityProtocol.Plaintext)
            : security.Listeners.FirstOrDefault(l => l.Protocol == SecurityProtocol.Plaintext) ?? security.Listeners.FirstOrDefault(l => l.Protocol == SecurityProtocol.Ssl);
        return listener ?? throw new AdminException(AdminErrorKind.NotAuthorized,
            "the broker's listeners all require SASL: give the console credentials with console.kafka.sasl.mechanism, "
            + "console.kafka.sasl.username and console.kafka.sasl.password (see the README's Console section)");
    }
}
