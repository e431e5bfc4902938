namespace Brook.Cli;

/// <summary>
/// The streams and environment a run of the CLI uses. <see cref="Interactive"/> means stdout is a terminal: tables,
/// colour and progress; otherwise plain tab-separated text for scripts.
/// </summary>
public sealed record CliConsole(TextWriter Out, TextWriter Error, TextReader In)
{
    public bool Interactive { get; init; }

    /// <summary>stderr is a terminal: errors may be coloured.</summary>
    public bool ErrorInteractive { get; init; }

    /// <summary>Terminal width in columns for tables; detected when null.</summary>
    public int? Width { get; init; }

    public Func<string, string?> Environment { get; init; } = global::System.Environment.GetEnvironmentVariable;

    /// <summary>The process's own console.</summary>
    public static CliConsole System() => new(Console.Out, Console.Error, Console.In)
    {
        Interactive = !Console.IsOutputRedirected,
        ErrorInteractive = !Console.IsErrorRedirected,
    };
}
