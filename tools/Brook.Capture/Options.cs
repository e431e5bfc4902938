using System.Net;

namespace Brook.Capture;

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

    public int GetInt(string name) => int.Parse(Get(name), System.Globalization.CultureInfo.InvariantCulture);

    public IPEndPoint GetEndPoint(string name) => IPEndPoint.Parse(Get(name));
}
