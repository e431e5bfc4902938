using System.CommandLine;
using Brook.Admin;

namespace Brook.Cli;

/// <summary>What a command's action gets: the parsed line, the output, the console, and a connected admin.</summary>
internal sealed class CommandContext(ParseResult parsed, CliConsole console, Output output, KafkaAdmin admin)
{
    public ParseResult Parsed { get; } = parsed;

    public CliConsole Console { get; } = console;

    public Output Output { get; } = output;

    public KafkaAdmin Admin { get; } = admin;

    public T? Get<T>(Option<T> option) => Parsed.GetValue(option);

    public T Get<T>(Argument<T> argument) => Parsed.GetValue(argument)!;

    /// <summary>Whether the option was given on the command line (not just defaulted).</summary>
    public bool Has(Option option) => Parsed.GetResult(option) is { Implicit: false };
}

/// <summary>Builds commands whose actions run with a <see cref="CommandContext"/>; keeps command files to parsing and rendering.</summary>
internal sealed class CommandFactory(CliConsole console, GlobalOptions globals)
{
    public CliConsole Console { get; } = console;

    public Command Command(string name, string description, IEnumerable<Symbol> symbols, Func<CommandContext, CancellationToken, Task<int>> action)
    {
        var command = new Command(name, description);
        Add(command, symbols);
        command.SetAction(async (parsed, cancellationToken) =>
        {
            using var admin = new KafkaAdmin(globals.Settings(parsed));
            var output = new Output(Console, headers: !parsed.GetValue(globals.NoHeaders));
            return await action(new CommandContext(parsed, Console, output, admin), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>A command that only groups subcommands.</summary>
    public static Command Group(string name, string description, params Command[] subcommands)
    {
        var command = new Command(name, description);
        foreach (var sub in subcommands) command.Subcommands.Add(sub);
        return command;
    }

    private static void Add(Command command, IEnumerable<Symbol> symbols)
    {
        foreach (var symbol in symbols)
        {
            switch (symbol)
            {
                case Option option: command.Options.Add(option); break;
                case Argument argument: command.Arguments.Add(argument); break;
                default: throw new ArgumentException($"cannot add {symbol.GetType().Name} to a command", nameof(symbols));
            }
        }
    }
}
