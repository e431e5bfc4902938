using System.Globalization;

namespace Brook.CrashHarness;

/// <summary>Command-line options given as <c>--name value</c> pairs.</summary>
internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(string[] args)
    {
        var options = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
                throw new ArgumentException($"Expected '--name value' pairs, got '{args[i]}'.");
            options._values[args[i][2..]] = args[++i];
        }
        return options;
    }

    public string Get(string name) =>
        _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"Missing --{name}.");

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public int GetInt(string name, int fallback) =>
        _values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
