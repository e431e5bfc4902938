using System.Globalization;
using System.Text;
using Brook.Admin;

namespace Brook.Cli;

/// <summary>Parsers for option values. They throw <see cref="FormatException"/> with a message fit for a usage error.</summary>
internal static class Values
{
    /// <summary>"500ms", "5s", "2m", "1h", "1d"; a bare number is milliseconds.</summary>
    public static TimeSpan Duration(string text)
    {
        var t = text.Trim();
        var split = t.Length;
        while (split > 0 && char.IsLetter(t[split - 1])) split--;
        if (!double.TryParse(t[..split], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0)
            throw new FormatException($"'{text}' is not a duration (like 500ms, 5s, 2m)");
        return t[split..].ToLowerInvariant() switch
        {
            "" or "ms" => TimeSpan.FromMilliseconds(amount),
            "s" => TimeSpan.FromSeconds(amount),
            "m" => TimeSpan.FromMinutes(amount),
            "h" => TimeSpan.FromHours(amount),
            "d" => TimeSpan.FromDays(amount),
            _ => throw new FormatException($"'{text}' has an unknown unit (ms, s, m, h, d)"),
        };
    }

    /// <summary>
    /// An ISO 8601 date-time ("2024-05-01T12:00:00Z"; without an offset it is UTC), milliseconds since the epoch, or a
    /// time before now ("-15m", "-2h").
    /// </summary>
    public static DateTimeOffset DateTime(string text, TimeProvider? clock = null)
    {
        var t = text.Trim();
        if (t.StartsWith('-') && t.Length > 1 && char.IsDigit(t[1]) && t.Any(char.IsLetter))
            return (clock ?? TimeProvider.System).GetUtcNow() - Duration(t[1..]);
        if (t.Length > 0 && t.All(char.IsDigit) && long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
            return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            return parsed;
        throw new FormatException($"'{text}' is not a time (ISO 8601 like 2024-05-01T12:00:00Z, epoch milliseconds, or -15m)");
    }

    /// <summary>"name=value"; the value may be empty and may contain '='.</summary>
    public static KeyValuePair<string, string> Pair(string text)
    {
        var at = text.IndexOf('=', StringComparison.Ordinal);
        if (at <= 0) throw new FormatException($"'{text}' is not name=value");
        return new(text[..at], text[(at + 1)..]);
    }

    public static Dictionary<string, string> Pairs(IEnumerable<string>? texts)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var text in texts ?? [])
        {
            var (key, value) = Pair(text);
            result[key] = value;
        }
        return result;
    }

    /// <summary>Headers from "key=value" ("key" alone is a header with a null value); repeats are kept, as Kafka allows.</summary>
    public static List<KeyValuePair<string, byte[]?>> Headers(IEnumerable<string>? texts) =>
        (texts ?? []).Select(text =>
        {
            var at = text.IndexOf('=', StringComparison.Ordinal);
            if (at == 0 || text.Length == 0) throw new FormatException($"header '{text}' has no name");
            return at < 0
                ? new KeyValuePair<string, byte[]?>(text, null)
                : new KeyValuePair<string, byte[]?>(text[..at], Encoding.UTF8.GetBytes(text[(at + 1)..]));
        }).ToList();

    /// <summary>"topic" (every partition) or "topic:0,2,5".</summary>
    public static TopicSelection TopicSelection(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon < 0) return new TopicSelection(text);
        if (colon == 0) throw new FormatException($"'{text}' has no topic name");
        var partitions = text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new FormatException($"'{p}' in '{text}' is not a partition number"))
            .ToList();
        if (partitions.Count == 0) throw new FormatException($"'{text}' names no partitions after ':'");
        return new TopicSelection(text[..colon], partitions);
    }
}
