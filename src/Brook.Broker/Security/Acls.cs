namespace Brook.Broker.Security;

/// <summary>Kafka's resource types, with their wire codes.</summary>
public enum ResourceType : sbyte
{
    Unknown = 0,
    Any = 1,
    Topic = 2,
    Group = 3,
    Cluster = 4,
    TransactionalId = 5,
    DelegationToken = 6,
    User = 7,
}

/// <summary>How an ACL's resource name applies: exactly (LITERAL, where "*" means every name) or as a prefix. ANY and MATCH only filter.</summary>
public enum PatternType : sbyte
{
    Unknown = 0,
    Any = 1,
    Match = 2,
    Literal = 3,
    Prefixed = 4,
}

/// <summary>Kafka's ACL operations, with their wire codes (also the bit positions of authorized-operations fields).</summary>
public enum AclOperation : sbyte
{
    Unknown = 0,
    Any = 1,
    All = 2,
    Read = 3,
    Write = 4,
    Create = 5,
    Delete = 6,
    Alter = 7,
    Describe = 8,
    ClusterAction = 9,
    DescribeConfigs = 10,
    AlterConfigs = 11,
    IdempotentWrite = 12,
    CreateTokens = 13,
    DescribeTokens = 14,
}

public enum AclPermissionType : sbyte
{
    Unknown = 0,
    Any = 1,
    Deny = 2,
    Allow = 3,
}

/// <summary>A resource an ACL applies to.</summary>
public readonly record struct ResourcePattern(ResourceType Type, string Name, PatternType PatternType);

/// <summary>Who may (or may not) do what, from where.</summary>
public readonly record struct AccessControlEntry(string Principal, string Host, AclOperation Operation, AclPermissionType Permission);

/// <summary>One ACL: an access control entry bound to a resource pattern.</summary>
public readonly record struct AclBinding(ResourcePattern Pattern, AccessControlEntry Entry)
{
    public override string ToString() =>
        $"(pattern=({Pattern.Type}, {Pattern.Name}, {Pattern.PatternType}), principal={Entry.Principal}, host={Entry.Host}, operation={Entry.Operation}, permission={Entry.Permission})";
}

/// <summary>
/// Selects ACLs, as DescribeAcls and DeleteAcls do. Null strings and ANY match everything. A MATCH pattern type with
/// a name selects every ACL that applies to a resource of that name (exact literal, the "*" wildcard, prefixes).
/// </summary>
public sealed record AclBindingFilter(
    ResourceType ResourceType, string? Name, PatternType PatternType,
    string? Principal, string? Host, AclOperation Operation, AclPermissionType Permission)
{
    /// <summary>Kafka's validation of a filter; null when it is usable.</summary>
    public string? Validate()
    {
        if (ResourceType == ResourceType.Unknown || !Enum.IsDefined(ResourceType)) return "Unknown resource type in the filter.";
        if (PatternType == PatternType.Unknown || !Enum.IsDefined(PatternType)) return "Unknown pattern type in the filter.";
        if (Operation == AclOperation.Unknown || !Enum.IsDefined(Operation)) return "Unknown operation in the filter.";
        if (Permission == AclPermissionType.Unknown || !Enum.IsDefined(Permission)) return "Unknown permission type in the filter.";
        return null;
    }

    public bool Matches(AclBinding binding) => MatchesPattern(binding.Pattern) && MatchesEntry(binding.Entry);

    private bool MatchesPattern(ResourcePattern pattern)
    {
        if (ResourceType != ResourceType.Any && ResourceType != pattern.Type) return false;
        if (PatternType is not (PatternType.Any or PatternType.Match) && PatternType != pattern.PatternType) return false;
        if (Name is null) return true;
        if (PatternType != PatternType.Match) return Name == pattern.Name;
        return pattern.PatternType switch
        {
            PatternType.Literal => Name == pattern.Name || pattern.Name == Acl.WildcardResource,
            PatternType.Prefixed => Name.StartsWith(pattern.Name, StringComparison.Ordinal),
            _ => false,
        };
    }

    private bool MatchesEntry(AccessControlEntry entry) =>
        (Principal is null || Principal == entry.Principal)
        && (Host is null || Host == entry.Host)
        && (Operation == AclOperation.Any || Operation == entry.Operation)
        && (Permission == AclPermissionType.Any || Permission == entry.Permission);
}

/// <summary>Kafka's constants and rules about ACLs.</summary>
public static class Acl
{
    /// <summary>The name of the one CLUSTER resource.</summary>
    public const string ClusterResourceName = "kafka-cluster";

    /// <summary>A LITERAL resource name (and an ACL host) that matches everything.</summary>
    public const string WildcardResource = "*";

    public const string WildcardHost = "*";

    public const string WildcardPrincipal = "User:*";

    private static readonly AclOperation[] TopicOperations =
        [AclOperation.Read, AclOperation.Write, AclOperation.Create, AclOperation.Describe, AclOperation.Delete, AclOperation.Alter, AclOperation.DescribeConfigs, AclOperation.AlterConfigs];

    private static readonly AclOperation[] GroupOperations =
        [AclOperation.Read, AclOperation.Describe, AclOperation.Delete, AclOperation.DescribeConfigs, AclOperation.AlterConfigs];

    private static readonly AclOperation[] ClusterOperations =
        [AclOperation.Create, AclOperation.ClusterAction, AclOperation.DescribeConfigs, AclOperation.AlterConfigs, AclOperation.IdempotentWrite, AclOperation.Alter, AclOperation.Describe];

    private static readonly AclOperation[] TransactionalIdOperations = [AclOperation.Describe, AclOperation.Write];

    private static readonly AclOperation[] DelegationTokenOperations = [AclOperation.Describe];

    private static readonly AclOperation[] UserOperations = [AclOperation.CreateTokens, AclOperation.DescribeTokens];

    /// <summary>The operations that mean something for a resource type (what authorized-operations fields report on).</summary>
    public static IReadOnlyList<AclOperation> SupportedOperations(ResourceType type) => type switch
    {
        ResourceType.Topic => TopicOperations,
        ResourceType.Group => GroupOperations,
        ResourceType.Cluster => ClusterOperations,
        ResourceType.TransactionalId => TransactionalIdOperations,
        ResourceType.DelegationToken => DelegationTokenOperations,
        ResourceType.User => UserOperations,
        _ => [],
    };

    /// <summary>Kafka's validation of an ACL to create; null when it may be stored.</summary>
    public static string? ValidateNew(AclBinding binding)
    {
        var (pattern, entry) = (binding.Pattern, binding.Entry);
        if (pattern.Type is ResourceType.Unknown or ResourceType.Any || !Enum.IsDefined(pattern.Type)) return $"Invalid resourceType {pattern.Type}.";
        if (pattern.PatternType is not (PatternType.Literal or PatternType.Prefixed)) return $"Invalid patternType {pattern.PatternType}.";
        if (entry.Operation is AclOperation.Unknown or AclOperation.Any || !Enum.IsDefined(entry.Operation)) return $"Invalid operation {entry.Operation}.";
        if (entry.Permission is not (AclPermissionType.Allow or AclPermissionType.Deny)) return $"Invalid permissionType {entry.Permission}.";
        if (string.IsNullOrEmpty(pattern.Name)) return "Invalid empty resource name.";
        if (pattern.Type == ResourceType.Cluster && pattern.Name != ClusterResourceName) return $"The only valid name for the CLUSTER resource is {ClusterResourceName}.";
        if (!KafkaPrincipal.TryParse(entry.Principal, out _)) return $"Could not parse principal from '{entry.Principal}' (expected TYPE:NAME, e.g. User:alice).";
        if (string.IsNullOrEmpty(entry.Host)) return "Invalid empty host.";
        return null;
    }

    /// <summary>Kafka's upper-case names, as ACL tools print and the ACL file stores them.</summary>
    public static string Name(ResourceType type) => type switch
    {
        ResourceType.TransactionalId => "TRANSACTIONAL_ID",
        ResourceType.DelegationToken => "DELEGATION_TOKEN",
        _ => type.ToString().ToUpperInvariant(),
    };

    public static string Name(AclOperation operation) => operation switch
    {
        AclOperation.ClusterAction => "CLUSTER_ACTION",
        AclOperation.DescribeConfigs => "DESCRIBE_CONFIGS",
        AclOperation.AlterConfigs => "ALTER_CONFIGS",
        AclOperation.IdempotentWrite => "IDEMPOTENT_WRITE",
        AclOperation.CreateTokens => "CREATE_TOKENS",
        AclOperation.DescribeTokens => "DESCRIBE_TOKENS",
        _ => operation.ToString().ToUpperInvariant(),
    };

    public static string Name(PatternType type) => type.ToString().ToUpperInvariant();

    public static string Name(AclPermissionType type) => type.ToString().ToUpperInvariant();

    public static T Parse<T>(string name)
        where T : struct, Enum =>
        Enum.GetValues<T>().FirstOrDefault(v => NameOf(v) == name);

    private static string NameOf<T>(T value)
        where T : struct, Enum => value switch
        {
            ResourceType r => Name(r),
            AclOperation o => Name(o),
            PatternType p => Name(p),
            AclPermissionType a => Name(a),
            _ => value.ToString(),
        };
}
