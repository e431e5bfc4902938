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
catch (Exception ex) when (ex is ArgumentException or FormatException or FatalStartException)
{
    Console.Error.WriteLine($"brook-server: {ex.Message}");
    return (int)((ex as FatalStartException)?.ExitCode ?? StartExitCode.InvalidConfiguration);
}

BrookBroker started;
try
{
    started = await ServerHost.StartAsync(options, builder => ServerLogging.Configure(builder.Logging, options.Logging));
}
catch (Exception ex)
{
    // One line an operator can act on; the stack trace only in the debug log (--log-level debug).
    var (code, message) = ex switch
    {
        FatalStartException fatal => (fatal.ExitCode, fatal.Message),
        // Settings that only show their problem at start, e.g. a certificate file that cannot be read.
        ArgumentException or FormatException => (StartExitCode.InvalidConfiguration, ex.Message),
        _ => (StartExitCode.Failed, $"could not start: {ex.Message}"),
    };
    Console.Error.WriteLine($"brook-server: {message}");
    using (var startLog = LoggerFactory.Create(logging => ServerLogging.Configure(logging, options.Logging)))
        startLog.CreateLogger("Brook.Server").LogDebug(ex, "Start failed with exit code {ExitCode}", (int)code);
    return (int)code;
}
await using var broker = started;
var logger = broker.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Brook.Server");
logger.LogInformation("Brook started in {Ms:F0} ms: node {NodeId}, cluster {ClusterId}, listening on {Listeners}, data in {Data}",
    broker.StartTime.TotalMilliseconds, broker.Node.NodeId, broker.Node.ClusterId, string.Join(", ", broker.Node.AdvertisedListeners),
    options.Broker.InMemory ? "memory" : options.Broker.DataDirectory);
if (broker.HttpAddresses.Count > 0)
{
    if (options.ConsoleEnabled) logger.LogInformation("Console at {Console}/", broker.HttpAddresses[0]);
    logger.LogInformation("Metrics at {Metrics}/metrics, health at /health, /health/live and /health/ready", broker.HttpAddresses[0]);
}
await broker.WaitForShutdownAsync();
logger.LogInformation("Brook stopped");
return 0;
