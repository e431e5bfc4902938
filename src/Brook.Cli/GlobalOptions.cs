using System.CommandLine;
using Brook.Admin;

namespace Brook.Cli;

/// <summary>Options every command takes: where the cluster is and how to reach it.</summary>
internal sealed class GlobalOptions
{
    public GlobalOptions(CliConsole console)
    {
        BootstrapServer = new Option<string>("--bootstrap-server", "-b")
        {
            Description = $"Kafka bootstrap servers, host:port[,host:port] (env {CliApp.BootstrapEnvironmentVariable})",
            DefaultValueFactory = _ => console.Environment(CliApp.BootstrapEnvironmentVariable) is { Length: > 0 } env ? env : CliApp.DefaultBootstrapServer,
            Recursive = true,
        };
        CommandConfig = new Option<FileInfo?>("--command-config")
        {
            Description = "Client properties file (security.protocol, sasl.*, ssl.* ...) for SASL and TLS",
            Recursive = true,
        };
        Timeout = new Option<TimeSpan?>("--timeout")
        {
            Description = $"Deadline of each request to the cluster, like 10s (default {ConnectionSettings.DefaultTimeout.TotalSeconds:0}s)",
            CustomParser = r => Parse<TimeSpan?>(r, t => Values.Duration(t)),
            Recursive = true,
        };
        NoHeaders = new Option<bool>("--no-headers")
        {
            Description = "Leave out the header row of plain (redirected) output",
            Recursive = true,
        };
    }

    public Option<string> BootstrapServer { get; }

    public Option<FileInfo?> CommandConfig { get; }

    public Option<TimeSpan?> Timeout { get; }

    public Option<bool> NoHeaders { get; }

    public void AddTo(Command root)
    {
        root.Options.Add(BootstrapServer);
        root.Options.Add(CommandConfig);
        root.Options.Add(Timeout);
        root.Options.Add(NoHeaders);
    }

    public ConnectionSettings Settings(ParseResult parsed)
    {
        var properties = new Dictionary<string, string>();
        if (parsed.GetValue(CommandConfig) is { } file)
        {
            if (!file.Exists) throw new UsageException($"command config file '{file.FullName}' does not exist");
            properties = ConnectionSettings.ParseProperties(File.ReadAllText(file.FullName));
        }
        var timeout = parsed.GetValue(Timeout) ?? ConnectionSettings.DefaultTimeout;
        if (timeout <= TimeSpan.Zero) throw new UsageException("--timeout must be above zero");
        return new ConnectionSettings(parsed.GetValue(BootstrapServer)!, properties, timeout) { ClientId = "brook-cli" };
    }

    /// <summary>Runs a value parser inside System.CommandLine so a bad value is a usage error with the option's name.</summary>
    public static T Parse<T>(System.CommandLine.Parsing.ArgumentResult result, Func<string, T> parse)
    {
        var token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        try
        {
            return parse(token);
        }
        catch (FormatException ex)
        {
            result.AddError(ex.Message);
            return default!;
        }
    }
}
