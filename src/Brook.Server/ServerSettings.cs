using System.Text.Json;
using Brook.Broker;
using Brook.Broker.Configuration;
using Brook.Broker.Security;

namespace Brook.Server;

/// <summary>
/// Collects the server's settings as Kafka-style keys ("listeners", "log.retention.ms", ...) from, in rising
/// precedence: appsettings.json (section "Brook"), a --config file (Kafka .properties or flat JSON), BROOK_*
/// environment variables (BROOK_LOG_RETENTION_MS → log.retention.ms) and the command line.
/// </summary>
internal static class ServerSettings
{
    public const string Usage = """
        Usage: brook-server [options]

          --listeners LIST             NAME://HOST:PORT[,...] with NAME PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
                                       or one mapped by listener.security.protocol.map (default PLAINTEXT://127.0.0.1:9092)
          --advertised-listeners LIST  what clients of each listener are told to connect to (default: the listeners)
          --data-dir DIR               where logs and metadata live (default ./data)
          --http LIST                  HTTP endpoints for the console, /metrics and /health (default http://127.0.0.1:9080; "none" disables)
          --console true|false         serve the web console at / on the HTTP endpoints (default true); it connects
                                       through a PLAINTEXT listener, or with console.kafka.sasl.mechanism/username/password
                                       through a SASL one (console.listener=NAME picks one); it answers to
                                       localhost, loopback and bound addresses, and console.allowed.hosts=NAME,...
          --in-memory                  keep nothing on disk
          --log-level LEVEL            trace, debug, info (default), warn, error; per category with
                                       --override logging.level.CATEGORY=LEVEL (e.g. logging.level.Brook.Broker.Groups=debug)
          --log-format text|json       plain lines (default) or one JSON object per line
          --config FILE                Kafka-style .properties file or flat JSON of settings
          --override KEY=VALUE         set any broker config (repeatable), e.g. --override num.partitions=3
          --help                       show this text

        Every setting can also come from appsettings.json (section "Brook") or an environment variable
        BROOK_<KEY> with dots as underscores, e.g. BROOK_LISTENERS, BROOK_DATA_DIR, BROOK_LOG_RETENTION_MS.
        Security uses Kafka's names (ssl.keystore.location, sasl.enabled.mechanisms, authorizer.class.name,
        super.users, ...; see the README's Security section), each also as listener.name.<name>.<key>.
        """;

    private const string ConsolePrefix = "console.";

    private const string LoggingPrefix = "logging.";

    private const string ConsoleClientPrefix = "console.kafka.";

    public const string DefaultHttpListener = "http://127.0.0.1:9080";

    /// <summary>Settings that are not broker configs.</summary>
    private static readonly HashSet<string> ServerKeys = new(StringComparer.Ordinal)
    {
        "listeners", "advertised.listeners", "data.dir", "log.dirs", "log.dir", "in.memory", "http.listeners", "console.enabled",
    };

    public static ServerOptions Load(string[] args, IDictionary<string, string?> environment, string workingDirectory, out bool showHelp)
    {
        showHelp = false;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);

        var appsettings = Path.Combine(workingDirectory, "appsettings.json");
        if (File.Exists(appsettings)) MergeJson(values, File.ReadAllText(appsettings), section: "Brook");

        var cli = new Dictionary<string, string>(StringComparer.Ordinal);
        string? configFile = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value.");
            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    showHelp = true;
                    break;
                case "--listeners":
                    cli["listeners"] = Next();
                    break;
                case "--advertised-listeners":
                    cli["advertised.listeners"] = Next();
                    break;
                case "--data-dir":
                    cli["data.dir"] = Next();
                    break;
                case "--http":
                    cli["http.listeners"] = Next();
                    break;
                case "--console":
                    cli["console.enabled"] = Next();
                    break;
                case "--in-memory":
                    cli["in.memory"] = "true";
                    break;
                case "--log-level":
                    cli[LoggingPrefix + "level"] = Next();
                    break;
                case "--log-format":
                    cli[LoggingPrefix + "format"] = Next();
                    break;
                case "--config":
                    configFile = Next();
                    break;
                case "--override":
                    var pair = Next();
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0) throw new ArgumentException($"--override expects KEY=VALUE, got '{pair}'.");
                    cli[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{arg}'. Run with --help for the options.");
            }
        }

        if (configFile is not null)
        {
            if (!File.Exists(configFile)) throw new ArgumentException($"Config file '{configFile}' does not exist.");
            var text = File.ReadAllText(configFile);
            if (configFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) MergeJson(values, text, section: null);
            else MergeProperties(values, text);
        }

        var fromEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in environment)
        {
            if (value is null || !name.StartsWith("BROOK_", StringComparison.Ordinal) || name.Length == 6) continue;
            var key = name[6..].ToLowerInvariant().Replace('_', '.');
            values[key] = value;
            fromEnvironment[key] = name;
        }
        foreach (var (k, v) in cli)
        {
            values[k] = v;
            fromEnvironment.Remove(k);
        }
        CheckBrokerConfigs(values, fromEnvironment, cli);

        var options = new BrokerOptions();
        if (values.TryGetValue("listeners", out var listeners)) options.Listeners = SplitList(listeners);
        if (values.TryGetValue("advertised.listeners", out var advertised)) options.AdvertisedListeners = SplitList(advertised);
        var dataDir = values.GetValueOrDefault("data.dir") ?? values.GetValueOrDefault("log.dirs")?.Split(',')[0] ?? values.GetValueOrDefault("log.dir");
        options.DataDirectory = Path.GetFullPath(dataDir ?? "data", workingDirectory);
        var http = values.GetValueOrDefault("http.listeners") ?? DefaultHttpListener;
        options.HttpListeners = http == "none" ? [] : SplitList(http);
        options.InMemory = values.TryGetValue("in.memory", out var mem) && bool.TryParse(mem, out var inMemory) && inMemory;
        foreach (var (k, v) in values)
            if (!ServerKeys.Contains(k) && !k.StartsWith(ConsolePrefix, StringComparison.Ordinal) && !k.StartsWith(LoggingPrefix, StringComparison.Ordinal)) options.Configs[k] = v;
        foreach (var l in options.Listeners.Concat(options.AdvertisedListeners)) _ = ListenerEndpoint.Parse(l); // fail early on typos
        _ = SecuritySettings.Parse(options); // listener protocols, SASL and authorizer settings (files are read at start)
        var console = values.GetValueOrDefault("console.enabled") ?? "true";
        if (!bool.TryParse(console, out var consoleEnabled)) throw new ArgumentException($"console.enabled must be true or false, not '{console}'.");
        return new ServerOptions(options, consoleEnabled)
        {
            ConsoleListener = values.GetValueOrDefault("console.listener"),
            ConsoleAllowedHosts = values.TryGetValue("console.allowed.hosts", out var hosts) ? SplitList(hosts) : [],
            ConsoleClient = ConsoleClientProperties(values),
            Logging = LoggingSettingsFrom(values),
        };
    }

    /// <summary>
    /// Refuses unknown broker config names (suggesting the nearest known one) and invalid values, naming where each came
    /// from. The environment is shared with other tools, so a BROOK_ variable that resembles no setting is ignored with a
    /// warning; one that is a near miss of a setting (BROOK_LOG_RETENTION_HOUR) is refused like any typo.
    /// </summary>
    private static void CheckBrokerConfigs(Dictionary<string, string> values, Dictionary<string, string> fromEnvironment, Dictionary<string, string> cli)
    {
        foreach (var (key, value) in values.OrderBy(v => v.Key, StringComparer.Ordinal).ToList())
        {
            if (ServerKeys.Contains(key) || key.StartsWith(ConsolePrefix, StringComparison.Ordinal) || key.StartsWith(LoggingPrefix, StringComparison.Ordinal)) continue;
            var error = BrokerConfigDefinitions.Validate(key, value);
            if (error is null) continue;
            if (fromEnvironment.TryGetValue(key, out var variable))
            {
                if (BrokerConfigDefinitions.Find(key) is null && BrokerConfigDefinitions.Suggest(key) is null)
                {
                    Console.Error.WriteLine($"warning: ignoring environment variable {variable}: it names no Brook setting");
                    values.Remove(key);
                    continue;
                }
                throw new ArgumentException($"{error.TrimEnd('.')} (from environment variable {variable})");
            }
            var source = cli.ContainsKey(key) ? "--override" : "the configuration";
            throw new ArgumentException($"{error.TrimEnd('.')} (from {source})");
        }
    }

    /// <summary>logging.level, logging.level.CATEGORY and logging.format.</summary>
    private static LoggingSettings LoggingSettingsFrom(Dictionary<string, string> values)
    {
        var settings = new LoggingSettings();
        var categories = new Dictionary<string, Microsoft.Extensions.Logging.LogLevel>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            if (!key.StartsWith(LoggingPrefix, StringComparison.Ordinal)) continue;
            if (key == LoggingPrefix + "level") settings = settings with { Level = ServerLogging.ParseLevel(value, key) };
            else if (key == LoggingPrefix + "format") settings = settings with { Json = ServerLogging.ParseJson(value) };
            else if (key.StartsWith(LoggingPrefix + "level.", StringComparison.Ordinal) && key.Length > LoggingPrefix.Length + 6)
                categories[key[(LoggingPrefix.Length + 6)..]] = ServerLogging.ParseLevel(value, key);
            else throw new ArgumentException($"Unknown logging setting '{key}' (logging.level, logging.level.CATEGORY, logging.format).");
        }
        return settings with { Categories = categories };
    }

    /// <summary>console.kafka.KEY settings: the console's client properties (librdkafka names). Other console.* keys are typos.</summary>
    private static Dictionary<string, string> ConsoleClientProperties(Dictionary<string, string> values)
    {
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            if (!key.StartsWith(ConsolePrefix, StringComparison.Ordinal) || key is "console.enabled" or "console.listener" or "console.allowed.hosts") continue;
            if (!key.StartsWith(ConsoleClientPrefix, StringComparison.Ordinal) || key.Length == ConsoleClientPrefix.Length)
                throw new ArgumentException($"Unknown console setting '{key}' (console.enabled, console.listener, console.allowed.hosts, console.kafka.<client property>).");
            properties[key[ConsoleClientPrefix.Length..]] = value;
        }
        return properties;
    }

    private static List<string> SplitList(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>Java properties subset: key=value or key: value lines, '#' and '!' comments.</summary>
    internal static void MergeProperties(Dictionary<string, string> values, string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            var sep = line.IndexOfAny(['=', ':']);
            if (sep <= 0) throw new ArgumentException($"Config line '{line}' is not KEY=VALUE.");
            values[line[..sep].Trim()] = line[(sep + 1)..].Trim();
        }
    }

    private static void MergeJson(Dictionary<string, string> values, string text, string? section)
    {
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var root = doc.RootElement;
        if (section is not null && !root.TryGetProperty(section, out root)) return;
        if (root.ValueKind != JsonValueKind.Object) return;
        foreach (var p in root.EnumerateObject())
        {
            var key = NormalizeJsonKey(p.Name);
            values[key] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString()!,
                JsonValueKind.Array => string.Join(",", p.Value.EnumerateArray().Select(e => e.ToString())),
                _ => p.Value.ToString(),
            };
        }
    }

    // "Listeners", "DataDir" and "data.dir" all name the same setting.
    private static string NormalizeJsonKey(string name) => name switch
    {
        "Listeners" => "listeners",
        "AdvertisedListeners" => "advertised.listeners",
        "HttpListeners" => "http.listeners",
        "DataDir" or "DataDirectory" => "data.dir",
        "InMemory" => "in.memory",
        "Console" or "ConsoleEnabled" => "console.enabled",
        _ => name,
    };
}
