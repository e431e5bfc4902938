using System.Globalization;
using System.Text;
using System.Text.Json;
using Brook.Admin;

namespace Brook.Cli;

/// <summary>Renders consumed messages as text: a template with % fields, or one JSON object a line.</summary>
internal static class MessageFormat
{
    /// <summary>
    /// Compiles a template: %k key, %v (or %s) value, %p partition, %o offset, %t timestamp in ms, %T topic, %h headers as
    /// k=v,k=v, %% a percent sign; \n, \t and \\ escapes. Missing keys and values print as nothing.
    /// </summary>
    public static Func<ConsumedMessage, string> Compile(string template)
    {
        var parts = new List<Func<ConsumedMessage, string>>();
        var literal = new StringBuilder();
        void Flush()
        {
            if (literal.Length == 0) return;
            var text = literal.ToString();
            parts.Add(_ => text);
            literal.Clear();
        }
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '\\' && i + 1 < template.Length)
            {
                literal.Append(template[++i] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', var other => other });
                continue;
            }
            if (c != '%')
            {
                literal.Append(c);
                continue;
            }
            if (i + 1 >= template.Length) throw new FormatException("format ends with a lone '%'");
            var field = template[++i];
            if (field == '%')
            {
                literal.Append('%');
                continue;
            }
            Flush();
            parts.Add(field switch
            {
                'k' => m => Text(m.Key),
                'v' or 's' => m => Text(m.Value),
                'p' => m => m.Partition.ToString(CultureInfo.InvariantCulture),
                'o' => m => m.Offset.ToString(CultureInfo.InvariantCulture),
                't' => m => m.Timestamp.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                'T' => m => m.Topic,
                'h' => m => string.Join(',', m.Headers.Select(h => $"{h.Key}={Text(h.Value)}")),
                _ => throw new FormatException($"format has an unknown field '%{field}' (%k %v %p %o %t %T %h %%)"),
            });
        }
        Flush();
        return m => string.Concat(parts.Select(p => p(m)));
    }

    public static string Json(ConsumedMessage message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("topic", message.Topic);
            json.WriteNumber("partition", message.Partition);
            json.WriteNumber("offset", message.Offset);
            json.WriteNumber("timestamp", message.Timestamp.ToUnixTimeMilliseconds());
            json.WriteString("timestampType", message.TimestampType);
            WriteText(json, "key", message.Key);
            WriteText(json, "value", message.Value);
            json.WriteStartArray("headers");
            foreach (var (key, value) in message.Headers)
            {
                json.WriteStartObject();
                json.WriteString("key", key);
                WriteText(json, "value", value);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteText(Utf8JsonWriter json, string name, byte[]? bytes)
    {
        if (bytes is null) json.WriteNull(name);
        else json.WriteString(name, Encoding.UTF8.GetString(bytes));
    }

    private static string Text(byte[]? bytes) => bytes is null ? "" : Encoding.UTF8.GetString(bytes);
}
