using Brook.Broker;
using Brook.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

ServerOptions options;
try
{
    options = ServerSettings.Load(args, Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .ToDictionary(e => (string)e.Key, e => (string?)e.Value), Directory.GetCurrentDirectory(), out var showHelp);
    if (showHelp)
    {
        Console.WriteLine(ServerSettings.Usage);
        return 0;
    }
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"brook-server: {ex.Message}");
    return 2;
}

BrookBroker started;
try
{
    started = await ServerHost.StartAsync(options, ConfigureLogging);
}
catch (ArgumentException ex)
{
    // Settings that only show their problem at start, e.g. a certificate file that cannot be read.
    Console.Error.WriteLine($"brook-server: {ex.Message}");
    return 2;
}
await using var broker = started;
var logger = broker.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Brook.Server");
logger.LogInformation("Brook started in {Ms:F0} ms: node {NodeId}, cluster {ClusterId}, listening on {Listeners}, data in {Data}",
    broker.StartTime.TotalMilliseconds, broker.Node.NodeId, broker.Node.ClusterId, string.Join(", ", broker.Node.AdvertisedListeners),
    options.Broker.InMemory ? "memory" : options.Broker.DataDirectory);
if (broker.HttpAddresses.Count > 0)
{
    if (options.ConsoleEnabled) logger.LogInformation("Console at {Console}/", broker.HttpAddresses[0]);
    logger.LogInformation("Metrics at {Metrics}/metrics, health at /health/live and /health/ready", broker.HttpAddresses[0]);
}
await broker.WaitForShutdownAsync();
logger.LogInformation("Brook stopped");
return 0;

static void ConfigureLogging(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
{
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
    });
    builder.Logging.SetMinimumLevel(LogLevel.Information);
    builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
}
