using System.Runtime.CompilerServices;
using System.Text;

namespace Brook.Admin;

/// <summary>How text lines become messages: an optional key separator and headers added to every message.</summary>
public sealed record LineFormat
{
    /// <summary>Splits each line at its first occurrence into key and value; every line must contain it. No key when null.</summary>
    public string? KeySeparator { get; init; }

    public IReadOnlyList<KeyValuePair<string, byte[]?>> Headers { get; init; } = [];
}

/// <summary>Reads messages from text, one a line, as console producers do.</summary>
public static class MessageLines
{
    public static async IAsyncEnumerable<OutgoingMessage> ReadAsync(TextReader reader, LineFormat format,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var lineNumber = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            yield return Parse(line, lineNumber, format);
        }
    }

    public static OutgoingMessage Parse(string line, int lineNumber, LineFormat format)
    {
        if (format.KeySeparator is not { Length: > 0 } separator)
            return new OutgoingMessage(null, Encoding.UTF8.GetBytes(line)) { Headers = format.Headers };
        var at = line.IndexOf(separator, StringComparison.Ordinal);
        if (at < 0) throw AdminException.Invalid($"line {lineNumber} has no key separator '{separator}'");
        return new OutgoingMessage(Encoding.UTF8.GetBytes(line[..at]), Encoding.UTF8.GetBytes(line[(at + separator.Length)..])) { Headers = format.Headers };
    }
}
