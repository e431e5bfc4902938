using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Brook.Broker.Groups;

/// <summary>
/// Regular expressions of KIP-848 subscriptions (SubscribedTopicRegex), matched as Kafka's broker matches them with
/// RE2/J: against the whole topic name, in linear time. .NET's non-backtracking engine gives the same guarantee and,
/// like RE2, refuses backreferences and lookarounds. RE2's <c>(?P&lt;name&gt;…)</c> groups and ASCII classes such
/// as <c>[[:alpha:]]</c> are rewritten to .NET's syntax. Topic names are ASCII, so Unicode-aware <c>\d</c> or <c>\w</c>
/// match the same names as RE2's ASCII ones. Thread-safe.
/// </summary>
internal static class TopicRegex
{
    private const int CacheLimit = 256;
    private static readonly ConcurrentDictionary<string, Regex?> Cache = new(StringComparer.Ordinal);

    private static readonly (string Name, string Range)[] AsciiClasses =
    [
        ("alnum", "0-9A-Za-z"), ("alpha", "A-Za-z"), ("ascii", "\\x00-\\x7F"), ("blank", "\\t "), ("cntrl", "\\x00-\\x1F\\x7F"),
        ("digit", "0-9"), ("graph", "!-~"), ("lower", "a-z"), ("print", " -~"), ("punct", "!-/:-@\\[-`{-~"),
        ("space", "\\t\\n\\v\\f\\r "), ("upper", "A-Z"), ("word", "0-9A-Za-z_"), ("xdigit", "0-9A-Fa-f"),
    ];

    /// <summary>The compiled expression, or null when it is not a valid RE2-style expression.</summary>
    public static Regex? Compile(string pattern)
    {
        if (Cache.TryGetValue(pattern, out var cached)) return cached;
        Regex? regex;
        try
        {
            regex = new Regex(@"\A(?:" + Translate(pattern) + @")\z", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
        {
            regex = null;
        }
        // Expressions come from clients: the cache is dropped rather than allowed to grow without bound.
        if (Cache.Count >= CacheLimit) Cache.Clear();
        Cache[pattern] = regex;
        return regex;
    }

    public static bool IsValid(string pattern) => Compile(pattern) is not null;

    /// <summary>The names of <paramref name="topics"/> that the whole expression matches, sorted ordinally.</summary>
    public static List<string> Resolve(string pattern, IEnumerable<string> topics)
    {
        if (Compile(pattern) is not { } regex) return [];
        var matched = topics.Where(t => regex.IsMatch(t)).ToList();
        matched.Sort(StringComparer.Ordinal);
        return matched;
    }

    private static string Translate(string pattern)
    {
        var text = new StringBuilder(pattern.Replace("(?P<", "(?<", StringComparison.Ordinal));
        foreach (var (name, range) in AsciiClasses) text.Replace("[:" + name + ":]", range);
        return text.ToString();
    }
}
