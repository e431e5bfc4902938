using System;
using System.Collections.Generic;
using System.Globalization;

namespace Brook.Protocol.Generator;

/// <summary>An inclusive version range; <see cref="High"/> is short.MaxValue for open ranges.</summary>
internal readonly struct VersionRange
{
    public VersionRange(int low, int high)
    {
        Low = low;
        High = high;
    }

    public int Low { get; }
    public int High { get; }
    public bool IsEmpty => Low > High;

    public static readonly VersionRange None = new(1, 0);

    /// <summary>Parses "3+", "4-14", "5", "all" (the whole of <paramref name="whole"/>) or "" (also whole).</summary>
    public static VersionRange Parse(string text, VersionRange whole)
    {
        if (text.Length == 0 || text == "all") return whole;
        if (text == "none") return None;
        if (text.EndsWith("+", StringComparison.Ordinal))
            return new VersionRange(int.Parse(text.Substring(0, text.Length - 1), CultureInfo.InvariantCulture), whole.High);
        var dash = text.IndexOf('-');
        if (dash > 0)
            return new VersionRange(int.Parse(text.Substring(0, dash), CultureInfo.InvariantCulture), int.Parse(text.Substring(dash + 1), CultureInfo.InvariantCulture));
        var single = int.Parse(text, CultureInfo.InvariantCulture);
        return new VersionRange(single, single);
    }

    public bool Covers(VersionRange other) => Low <= other.Low && High >= other.High;

    public VersionRange Intersect(VersionRange other) => new(Math.Max(Low, other.Low), Math.Min(High, other.High));

    /// <summary>A C# condition on "version" that is true inside this range, given the message's whole range.</summary>
    public string Condition(VersionRange whole)
    {
        var r = Intersect(whole);
        if (r.IsEmpty) return "false";
        var parts = new List<string>();
        if (r.Low > whole.Low) parts.Add("version >= " + r.Low.ToString(CultureInfo.InvariantCulture));
        if (r.High < whole.High) parts.Add("version <= " + r.High.ToString(CultureInfo.InvariantCulture));
        return parts.Count == 0 ? "true" : string.Join(" && ", parts);
    }
}

internal sealed class FieldDef
{
    public string Name = "";
    /// <summary>Element type name for arrays, else the type name (primitive or struct).</summary>
    public string Type = "";
    public bool IsArray;
    public VersionRange Versions;
    public VersionRange Nullable = VersionRange.None;
    public int? Tag;
    public string? Default;
    /// <summary>Inline struct fields when this field declares its struct in place.</summary>
    public List<FieldDef>? Children;
    public int Line;

    public bool IsPrimitive => Primitives.Contains(Type);
    public bool IsStruct => !IsPrimitive;

    public static readonly HashSet<string> Primitives = new(StringComparer.Ordinal)
    {
        "bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "string", "bytes", "records", "uuid",
    };
}

internal sealed class StructDef
{
    public StructDef(string name, List<FieldDef> fields)
    {
        Name = name;
        Fields = fields;
    }

    public string Name { get; }
    public List<FieldDef> Fields { get; }
    /// <summary>The C# class name (may differ from <see cref="Name"/> to avoid member clashes).</summary>
    public string ClassName { get; set; } = "";
}

internal sealed class SectionDef
{
    public List<FieldDef> Fields { get; } = new();
    public List<StructDef> CommonStructs { get; } = new();
}

internal sealed class MessageFileDef
{
    public string Kind = "";
    public string Name = "";
    public int Key = -1;
    public VersionRange Versions;
    public int FirstFlexible = int.MaxValue;
    public SectionDef? Request;
    public SectionDef? Response;
    public SectionDef? Data;
    public string FileName = "";
}

internal sealed class DefinitionException : Exception
{
    public DefinitionException(string message) : base(message)
    {
    }
}

/// <summary>
/// Parses Brook's protocol definition format. One file per API:
/// <code>
/// api Name key N versions A-B flexible F+|none
/// request
///   Field type [vRANGE] [nullRANGE] [tagN] [=default]
///     Child type ...            (two spaces deeper: fields of an inline struct)
///   struct Common [vRANGE]      (a struct shared by several fields)
///     Field type ...
/// response
///   ...
/// </code>
/// or "data Name versions A-B flexible F" followed directly by fields.
/// </summary>
internal static class DefinitionParser
{
    public static MessageFileDef Parse(string fileName, string text)
    {
        var def = new MessageFileDef { FileName = fileName };
        var lines = text.Replace("\r\n", "\n").Split('\n');
        SectionDef? current = null;
        // Stack of field lists by depth: depth 1 = section fields, deeper = inline struct children.
        var stack = new List<List<FieldDef>>();
        var headerSeen = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var raw = lines[i];
            var hash = raw.IndexOf('#');
            if (hash >= 0 && !raw.Contains("\"")) raw = raw.Substring(0, hash);
            if (raw.Trim().Length == 0) continue;
            var indent = 0;
            while (indent < raw.Length && raw[indent] == ' ') indent++;
            var line = raw.Trim();
            var lineNo = i + 1;
            if (!headerSeen)
            {
                ParseHeader(def, line, fileName, lineNo);
                headerSeen = true;
                if (def.Kind == "data")
                {
                    current = def.Data = new SectionDef();
                    stack.Clear();
                    stack.Add(current.Fields);
                }
                continue;
            }
            if (indent == 0)
            {
                if (line == "request") current = def.Request = new SectionDef();
                else if (line == "response") current = def.Response = new SectionDef();
                else throw new DefinitionException($"{fileName}:{lineNo}: expected 'request' or 'response'");
                stack.Clear();
                stack.Add(current.Fields);
                continue;
            }
            if (current is null) throw new DefinitionException($"{fileName}:{lineNo}: field outside a section");
            if (indent % 2 != 0) throw new DefinitionException($"{fileName}:{lineNo}: indentation must be a multiple of two spaces");
            var depth = indent / 2;
            if (depth > stack.Count) throw new DefinitionException($"{fileName}:{lineNo}: unexpected indentation");
            stack.RemoveRange(depth, stack.Count - depth);
            if (line.StartsWith("struct ", StringComparison.Ordinal))
            {
                if (depth != 1) throw new DefinitionException($"{fileName}:{lineNo}: 'struct' is only allowed at section level");
                var tokens = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                var fields = new List<FieldDef>();
                current.CommonStructs.Add(new StructDef(tokens[1], fields));
                stack.Add(fields);
                continue;
            }
            var field = ParseField(line, def.Versions, fileName, lineNo);
            stack[depth - 1].Add(field);
            field.Children = new List<FieldDef>();
            stack.Add(field.Children);
        }
        if (!headerSeen) throw new DefinitionException($"{fileName}: empty definition");
        if (def.Kind == "api" && (def.Request is null || def.Response is null))
            throw new DefinitionException($"{fileName}: an api needs both a request and a response section");
        return def;
    }

    private static void ParseHeader(MessageFileDef def, string line, string fileName, int lineNo)
    {
        var t = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 2 || (t[0] != "api" && t[0] != "data"))
            throw new DefinitionException($"{fileName}:{lineNo}: header must start with 'api' or 'data'");
        def.Kind = t[0];
        def.Name = t[1];
        string? versions = null, flexible = null;
        for (var k = 2; k + 1 < t.Length; k += 2)
        {
            switch (t[k])
            {
                case "key": def.Key = int.Parse(t[k + 1], CultureInfo.InvariantCulture); break;
                case "versions": versions = t[k + 1]; break;
                case "flexible": flexible = t[k + 1]; break;
                default: throw new DefinitionException($"{fileName}:{lineNo}: unknown header attribute '{t[k]}'");
            }
        }
        if (versions is null || flexible is null) throw new DefinitionException($"{fileName}:{lineNo}: header needs versions and flexible");
        if (def.Kind == "api" && def.Key < 0) throw new DefinitionException($"{fileName}:{lineNo}: api needs a key");
        def.Versions = VersionRange.Parse(versions, new VersionRange(0, short.MaxValue));
        def.FirstFlexible = flexible == "none" ? int.MaxValue : VersionRange.Parse(flexible, def.Versions).Low;
    }

    private static FieldDef ParseField(string line, VersionRange whole, string fileName, int lineNo)
    {
        var f = new FieldDef { Line = lineNo, Versions = whole };
        var eq = line.IndexOf(" =", StringComparison.Ordinal);
        if (eq >= 0)
        {
            f.Default = line.Substring(eq + 2).Trim();
            line = line.Substring(0, eq);
        }
        var t = line.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        if (t.Length < 2) throw new DefinitionException($"{fileName}:{lineNo}: a field needs a name and a type");
        f.Name = t[0];
        var type = t[1];
        if (type.StartsWith("[", StringComparison.Ordinal) && type.EndsWith("]", StringComparison.Ordinal))
        {
            f.IsArray = true;
            type = type.Substring(1, type.Length - 2);
        }
        f.Type = type;
        for (var k = 2; k < t.Length; k++)
        {
            var tok = t[k];
            if (tok.StartsWith("null", StringComparison.Ordinal)) f.Nullable = VersionRange.Parse(tok.Substring(4), whole).Intersect(whole);
            else if (tok.StartsWith("tag", StringComparison.Ordinal)) f.Tag = int.Parse(tok.Substring(3), CultureInfo.InvariantCulture);
            else if (tok.StartsWith("v", StringComparison.Ordinal)) f.Versions = VersionRange.Parse(tok.Substring(1), whole).Intersect(whole);
            else throw new DefinitionException($"{fileName}:{lineNo}: unknown field attribute '{tok}'");
        }
        return f;
    }
}
