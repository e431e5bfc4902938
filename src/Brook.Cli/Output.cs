using Spectre.Console;
using Spectre.Console.Rendering;

namespace Brook.Cli;

/// <summary>
/// Renders results: Spectre tables with colour on a terminal; tab-separated lines with a header row (unless
/// <c>--no-headers</c>) when stdout is redirected, so scripts can cut and grep. Missing values print as "-".
/// </summary>
internal sealed class Output
{
    private readonly CliConsole _console;
    private readonly bool _headers;
    private IAnsiConsole? _ansi;

    public Output(CliConsole console, bool headers)
    {
        _console = console;
        _headers = headers;
    }

    public bool Interactive => _console.Interactive;

    public TextWriter Out => _console.Out;

    /// <summary>The terminal renderer; only meaningful when <see cref="Interactive"/>.</summary>
    public IAnsiConsole Ansi => _ansi ??= CreateAnsi();

    private IAnsiConsole CreateAnsi()
    {
        var ansi = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(_console.Out),
            Ansi = AnsiSupport.Detect,
            ColorSystem = ColorSystemSupport.Detect,
            // The caller decided stdout is a terminal (CliConsole.Interactive), so live displays such as progress may run.
            Interactive = InteractionSupport.Yes,
        });
        if (_console.Width is { } width) ansi.Profile.Width = width;
        return ansi;
    }

    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<object?>> rows, string? title = null)
    {
        if (!Interactive)
        {
            if (_headers) Out.WriteLine(string.Join('\t', headers));
            foreach (var row in rows) Out.WriteLine(string.Join('\t', row.Select(Plain)));
            return;
        }
        var table = new Table().Border(TableBorder.Rounded).BorderColor(Color.Grey);
        if (title is not null) table.Title($"[bold]{Markup.Escape(title)}[/]");
        foreach (var header in headers) table.AddColumn(new TableColumn($"[bold]{Markup.Escape(header)}[/]"));
        var count = 0;
        foreach (var row in rows)
        {
            table.AddRow(row.Select(Cell).ToArray());
            count++;
        }
        if (count == 0)
        {
            Ansi.MarkupLine("[grey](none)[/]");
            return;
        }
        Ansi.Write(table);
    }

    /// <summary>Name/value pairs: a two-column grid on a terminal, "name\tvalue" lines otherwise.</summary>
    public void Properties(IEnumerable<(string Name, object? Value)> properties)
    {
        if (!Interactive)
        {
            foreach (var (name, value) in properties) Out.WriteLine($"{name}\t{Plain(value)}");
            return;
        }
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        foreach (var (name, value) in properties) grid.AddRow(new Markup($"[bold]{Markup.Escape(name)}[/]"), Cell(value));
        Ansi.Write(grid);
    }

    /// <summary>A confirmation of something done ("created topic 'x'"); green on a terminal.</summary>
    public void Done(string message)
    {
        if (Interactive) Ansi.MarkupLine($"[green]{Markup.Escape(message)}[/]");
        else Out.WriteLine(message);
    }

    /// <summary>A remark about the output, kept off stdout so piped data stays clean.</summary>
    public void Note(string message)
    {
        if (_console.ErrorInteractive) _console.Error.WriteLine($"\u001b[33m{message}\u001b[0m");
        else _console.Error.WriteLine(message);
    }

    internal static string Plain(object? value) => value switch
    {
        null => "-",
        string s => s.Length == 0 ? "-" : s.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' '),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "-",
    };

    private static IRenderable Cell(object? value) => value switch
    {
        null => new Markup("[grey]-[/]"),
        IRenderable r => r,
        _ => new Text(Plain(value)),
    };
}
