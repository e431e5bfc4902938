using System.CommandLine;
using System.CommandLine.Invocation;
using Brook.Admin;
using Brook.Cli.Commands;

namespace Brook.Cli;

/// <summary>
/// The <c>brook</c> command line. <see cref="RunAsync(string[], TextWriter, TextWriter, TextReader, CancellationToken)"/>
/// runs it in-process against given streams (tests do); the executable runs it against its own console.
/// </summary>
public static class CliApp
{
    public const string DefaultBootstrapServer = "127.0.0.1:9092";
    public const string BootstrapEnvironmentVariable = "BROOK_BOOTSTRAP_SERVER";

    /// <summary>Runs with plain (redirected) output: what a script or a test sees.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin, CancellationToken cancellationToken = default) =>
        RunAsync(args, new CliConsole(stdout, stderr, stdin), cancellationToken);

    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken = default)
    {
        var root = BuildRoot(console);
        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var error in parsed.Errors) WriteError(console, error.Message);
            console.Error.WriteLine($"Run '{CommandPath(parsed)} --help' for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = console.Out,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,
                // Ctrl-C cancels the action; a consumer in a group then commits and leaves, which needs a moment.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(10),
            };
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (AdminException ex)
        {
            WriteError(console, ex.Message);
            return ExitCodes.For(ex.Kind);
        }
        catch (UsageException ex)
        {
            WriteError(console, ex.Message);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            WriteError(console, "interrupted");
            return ExitCodes.Interrupted;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            WriteError(console, ex.Message);
            return ExitCodes.Error;
        }
    }

    /// <summary>The command tree. Each area adds its own subtree; a later <c>bench</c> command joins the same way.</summary>
    internal static RootCommand BuildRoot(CliConsole console)
    {
        var globals = new GlobalOptions(console);
        var root = new RootCommand(
            "Administer Brook or any Kafka cluster: topics, consumer groups, configs, ACLs and SCRAM users; produce and consume messages; measure throughput and latency.\n" +
            "Output is a table on a terminal and tab-separated text when redirected.\n" + ExitCodes.Help);
        globals.AddTo(root);
        var commands = new CommandFactory(console, globals);
        root.Subcommands.Add(ClusterCommands.Create(commands));
        root.Subcommands.Add(TopicCommands.Create(commands));
        root.Subcommands.Add(GroupCommands.Create(commands));
        root.Subcommands.Add(MessageCommands.CreateProduce(commands));
        root.Subcommands.Add(MessageCommands.CreateConsume(commands));
        root.Subcommands.Add(ConfigCommands.Create(commands));
        root.Subcommands.Add(AclCommands.Create(commands));
        root.Subcommands.Add(UserCommands.Create(commands));
        root.Subcommands.Add(BenchCommands.Create(commands));
        return root;
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(result.Command is RootCommand ? "brook" : result.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    private static void WriteError(CliConsole console, string message)
    {
        var line = "error: " + message.ReplaceLineEndings(" ");
        console.Error.WriteLine(console.ErrorInteractive ? $"\u001b[31m{line}\u001b[0m" : line);
    }
}

/// <summary>Bad arguments found after parsing (a value that does not parse, options that conflict).</summary>
public sealed class UsageException(string message) : Exception(message);
