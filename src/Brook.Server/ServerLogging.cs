using Microsoft.Extensions.Logging;

namespace Brook.Server;

/// <summary>How the server logs: a minimum level, levels per category, and plain single lines or JSON lines on the console.</summary>
public sealed record LoggingSettings
{
    /// <summary>The level of every category without its own (logging.level, --log-level).</summary>
    public LogLevel Level { get; init; } = LogLevel.Information;

    /// <summary>Levels by category prefix (logging.level.CATEGORY=LEVEL, e.g. logging.level.Brook.Broker.Groups=Debug).</summary>
    public IReadOnlyDictionary<string, LogLevel> Categories { get; init; } = new Dictionary<string, LogLevel>();

    /// <summary>JSON lines (logging.format=json, --log-format json) instead of plain text lines.</summary>
    public bool Json { get; init; }
}

internal static class ServerLogging
{
    public static void Configure(ILoggingBuilder logging, LoggingSettings settings)
    {
        logging.ClearProviders();
        if (settings.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
            });
        }
        logging.SetMinimumLevel(settings.Level);
        // ASP.NET Core's own messages are noise at Information; the host's start failure is printed by Program as one line.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        foreach (var (category, level) in settings.Categories) logging.AddFilter(category, level);
    }

    /// <summary>A level by its .NET name or its usual abbreviations, any case (debug, info, warn, ...).</summary>
    public static LogLevel ParseLevel(string text, string key) => text.Trim().ToLowerInvariant() switch
    {
        "trace" => LogLevel.Trace,
        "debug" => LogLevel.Debug,
        "information" or "info" => LogLevel.Information,
        "warning" or "warn" => LogLevel.Warning,
        "error" => LogLevel.Error,
        "critical" or "fatal" => LogLevel.Critical,
        "none" or "off" => LogLevel.None,
        _ => throw new ArgumentException($"{key} must be one of trace, debug, info, warn, error, critical, off; not '{text}'."),
    };

    /// <summary>So that "logging.format" accepts what its help says.</summary>
    public static bool ParseJson(string text) => text.Trim().ToLowerInvariant() switch
    {
        "json" => true,
        "text" or "plain" => false,
        _ => throw new ArgumentException($"logging.format must be text or json, not '{text}'."),
    };
}
