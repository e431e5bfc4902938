using Brook.Admin;
using Brook.Broker;
using Brook.Broker.Telemetry;
using Brook.WebConsole;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Server;

/// <summary>What the server runs: the broker's options, and whether the web console is served on its HTTP listeners.</summary>
public sealed record ServerOptions(BrokerOptions Broker, bool ConsoleEnabled = true);

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
                sp => ConnectionTo(sp.GetRequiredService<BrokerNode>()),
                sp => sp.GetRequiredService<BrokerMetrics>().Meter);
            builder.Services.AddSingleton(new HttpEndpoints(endpoints => endpoints.MapBrookConsole()));
        }, cancellationToken);

    private static ConnectionSettings? ConnectionTo(BrokerNode node)
    {
        var listeners = node.AdvertisedListeners;
        if (listeners.Count == 0) return null;
        // The console connects without credentials: a plaintext listener when there is one.
        var listener = listeners.FirstOrDefault(l => l.Name == "PLAINTEXT") ?? listeners[0];
        return new ConnectionSettings($"{listener.Host}:{listener.Port}", timeout: TimeSpan.FromSeconds(15))
        {
            ClientId = "brook-console",
        };
    }
}
