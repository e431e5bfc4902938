using System.Text.Json;
using Brook.Storage;

namespace Brook.Broker.Security;

/// <summary>
/// The broker's ACLs. Lookups read an immutable <see cref="AclIndex"/> snapshot without locking; changes are
/// serialized, written durably and then published as a new snapshot, so an ACL is never in force before it is stored.
/// On disk (when not in memory): <c>security/acls.json</c> under the data directory, replaced atomically on every
/// change (temp file, fsync, rename, directory fsync):
/// <c>{"version":1,"acls":[{"resourceType":"TOPIC","name":"orders","patternType":"LITERAL","principal":"User:alice","host":"*","operation":"READ","permissionType":"ALLOW"}]}</c>.
/// </summary>
public sealed class AclStore
{
    private const int FormatVersion = 1;
    private readonly Lock _changes = new();
    private readonly string? _path;
    private volatile AclIndex _index;

    private AclStore(string? path, IEnumerable<AclBinding> acls)
    {
        _path = path;
        _index = new AclIndex(acls);
    }

    /// <summary>ACLs kept in memory only.</summary>
    public static AclStore InMemory() => new(null, []);

    /// <summary>Loads <c>acls.json</c> from <paramref name="directory"/> (created when missing). A damaged file stops the broker rather than dropping ACLs.</summary>
    public static AclStore Open(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "acls.json");
        return new AclStore(path, File.Exists(path) ? Read(path) : []);
    }

    public AclIndex Current => _index;

    public IReadOnlyList<AclBinding> Describe(AclBindingFilter filter) => _index.All.Where(filter.Matches).ToList();

    /// <summary>Adds ACLs (already validated); ones that exist already are left as they are.</summary>
    public void Create(IReadOnlyCollection<AclBinding> bindings)
    {
        lock (_changes)
        {
            var all = _index.All.ToHashSet();
            var added = 0;
            foreach (var binding in bindings)
                if (all.Add(binding)) added++;
            if (added > 0) Publish(all);
        }
    }

    /// <summary>Removes every ACL matching any of the filters; returns, per filter, the ACLs it matched.</summary>
    public IReadOnlyList<IReadOnlyList<AclBinding>> Delete(IReadOnlyList<AclBindingFilter> filters)
    {
        lock (_changes)
        {
            var current = _index.All;
            var matched = filters.Select(f => (IReadOnlyList<AclBinding>)current.Where(f.Matches).ToList()).ToList();
            var removed = matched.SelectMany(m => m).ToHashSet();
            if (removed.Count > 0) Publish(current.Where(b => !removed.Contains(b)).ToList());
            return matched;
        }
    }

    private void Publish(IReadOnlyCollection<AclBinding> acls)
    {
        if (_path is not null) DurableFiles.WriteAtomically(_path, Serialize(acls));
        _index = new AclIndex(acls);
    }

    private static byte[] Serialize(IEnumerable<AclBinding> acls)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            json.WriteStartArray("acls");
            foreach (var acl in acls)
            {
                json.WriteStartObject();
                json.WriteString("resourceType", Acl.Name(acl.Pattern.Type));
                json.WriteString("name", acl.Pattern.Name);
                json.WriteString("patternType", Acl.Name(acl.Pattern.PatternType));
                json.WriteString("principal", acl.Entry.Principal);
                json.WriteString("host", acl.Entry.Host);
                json.WriteString("operation", Acl.Name(acl.Entry.Operation));
                json.WriteString("permissionType", Acl.Name(acl.Entry.Permission));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static List<AclBinding> Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.GetProperty("version").GetInt32() != FormatVersion) throw new InvalidDataException($"{path} has an unknown version.");
            var result = new List<AclBinding>();
            foreach (var item in root.GetProperty("acls").EnumerateArray())
            {
                string Text(string property) => item.GetProperty(property).GetString() ?? throw new InvalidDataException($"{path}: '{property}' is null.");
                var binding = new AclBinding(
                    new ResourcePattern(Acl.Parse<ResourceType>(Text("resourceType")), Text("name"), Acl.Parse<PatternType>(Text("patternType"))),
                    new AccessControlEntry(Text("principal"), Text("host"), Acl.Parse<AclOperation>(Text("operation")), Acl.Parse<AclPermissionType>(Text("permissionType"))));
                if (Acl.ValidateNew(binding) is { } error) throw new InvalidDataException($"{path}: {error}");
                result.Add(binding);
            }
            return result;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidDataException($"The ACL file {path} is damaged: {ex.Message}", ex);
        }
    }
}

/// <summary>An immutable lookup structure over a set of ACLs: literal ACLs by (type, name), prefixed ACLs by type.</summary>
public sealed class AclIndex
{
    private readonly Dictionary<(ResourceType Type, string Name), AclBinding[]> _literal;
    private readonly Dictionary<ResourceType, AclBinding[]> _prefixed;
    private readonly Dictionary<ResourceType, AclBinding[]> _byType;

    public AclIndex(IEnumerable<AclBinding> acls)
    {
        All = acls.ToList();
        _literal = All.Where(a => a.Pattern.PatternType == PatternType.Literal)
            .GroupBy(a => (a.Pattern.Type, a.Pattern.Name)).ToDictionary(g => g.Key, g => g.ToArray());
        _prefixed = All.Where(a => a.Pattern.PatternType == PatternType.Prefixed)
            .GroupBy(a => a.Pattern.Type).ToDictionary(g => g.Key, g => g.ToArray());
        _byType = All.GroupBy(a => a.Pattern.Type).ToDictionary(g => g.Key, g => g.ToArray());
    }

    public IReadOnlyList<AclBinding> All { get; }

    /// <summary>LITERAL ACLs naming exactly this resource (pass "*" for the wildcard ones).</summary>
    public ReadOnlySpan<AclBinding> Literal(ResourceType type, string name) => _literal.TryGetValue((type, name), out var acls) ? acls : [];

    /// <summary>Every PREFIXED ACL of a resource type (few in practice; the caller checks the prefix).</summary>
    public ReadOnlySpan<AclBinding> Prefixed(ResourceType type) => _prefixed.TryGetValue(type, out var acls) ? acls : [];

    public ReadOnlySpan<AclBinding> OfType(ResourceType type) => _byType.TryGetValue(type, out var acls) ? acls : [];
}
