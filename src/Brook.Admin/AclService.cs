using Brook.Protocol.Messages;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Admin;

/// <summary>One ACL: who (principal, host) may or may not do what (operation) on which resources (type, name, pattern).</summary>
public sealed record AclRule(ResourceType ResourceType, string ResourceName, ResourcePatternType PatternType,
    string Principal, string Host, AclOperation Operation, AclPermissionType Permission);

/// <summary>Matches ACLs; unset parts match anything.</summary>
public sealed record AclQuery
{
    public ResourceType ResourceType { get; init; } = ResourceType.Any;

    public string? ResourceName { get; init; }

    public ResourcePatternType PatternType { get; init; } = ResourcePatternType.Any;

    public string? Principal { get; init; }

    public string? Host { get; init; }

    public AclOperation Operation { get; init; } = AclOperation.Any;

    public AclPermissionType Permission { get; init; } = AclPermissionType.Any;
}

/// <summary>ACLs: list, create, delete (DescribeAcls, CreateAcls, DeleteAcls).</summary>
public sealed class AclService
{
    private readonly KafkaAdmin _admin;

    internal AclService(KafkaAdmin admin) => _admin = admin;

    /// <summary>
    /// ACLs the query matches. Sent on a connection of its own because librdkafka reads DescribeAcls' SECURITY_DISABLED
    /// (no authorizer) as an empty list; here it is an <see cref="AdminErrorKind.Unsupported"/> failure that says so.
    /// </summary>
    public async Task<IReadOnlyList<AclRule>> ListAsync(AclQuery query, CancellationToken cancellationToken = default)
    {
        var response = await _admin.OnAnyBrokerAsync(async (connection, ct) =>
        {
            var version = connection.NegotiatedVersion(ApiKeys.DescribeAcls)
                ?? throw new AdminException(AdminErrorKind.Unsupported, "list ACLs: the cluster does not support DescribeAcls") { Code = ErrorCode.UnsupportedVersion };
            if (version == 0 && query.PatternType is not (ResourcePatternType.Any or ResourcePatternType.Literal))
                throw new AdminException(AdminErrorKind.Unsupported, "list ACLs: the cluster knows only literal resource names");
            var request = new DescribeAclsRequest
            {
                ResourceTypeFilter = (sbyte)query.ResourceType,
                ResourceNameFilter = query.ResourceName,
                PatternTypeFilter = (sbyte)(version == 0 ? ResourcePatternType.Literal : query.PatternType),
                PrincipalFilter = query.Principal,
                HostFilter = query.Host,
                Operation = (sbyte)query.Operation,
                PermissionType = (sbyte)query.Permission,
            };
            return await connection.SendAsync<DescribeAclsResponse>(request, version, ct).ConfigureAwait(false);
        }, "list ACLs", cancellationToken).ConfigureAwait(false);
        if (response.ErrorCode != 0) throw AdminException.From(new Error((ErrorCode)response.ErrorCode, response.ErrorMessage), "list ACLs");
        // Kafka's numbering of resource types, pattern types, operations and permissions is Confluent.Kafka's too.
        return response.Resources
            .SelectMany(r => r.Acls.Select(a => new AclRule((ResourceType)r.ResourceType, r.ResourceName, (ResourcePatternType)r.PatternType,
                a.Principal, a.Host, (AclOperation)a.Operation, (AclPermissionType)a.PermissionType)))
            .ToList();
    }

    public Task CreateAsync(IReadOnlyList<AclRule> rules, CancellationToken cancellationToken = default)
    {
        var bindings = rules.Select(r => new AclBinding
        {
            Pattern = new ResourcePattern { Type = r.ResourceType, Name = r.ResourceName, ResourcePatternType = r.PatternType },
            Entry = new AccessControlEntry { Principal = r.Principal, Host = r.Host, Operation = r.Operation, PermissionType = r.Permission },
        }).ToList();
        return _admin.CallAsync(
            c => c.CreateAclsAsync(bindings, new CreateAclsOptions { RequestTimeout = _admin.Timeout }),
            "create ACLs", cancellationToken,
            ex => ex is CreateAclsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, _ => "create ACLs") : null);
    }

    /// <summary>Deletes every ACL the query matches and returns them.</summary>
    public async Task<IReadOnlyList<AclRule>> DeleteAsync(AclQuery query, CancellationToken cancellationToken = default)
    {
        var results = await _admin.CallAsync(
            c => c.DeleteAclsAsync([Filter(query)], new DeleteAclsOptions { RequestTimeout = _admin.Timeout }),
            "delete ACLs", cancellationToken,
            ex => ex is DeleteAclsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, _ => "delete ACLs") : null).ConfigureAwait(false);
        return results.SelectMany(r => r.AclBindings).Select(ToRule).ToList();
    }

    private static AclBindingFilter Filter(AclQuery query) => new()
    {
        PatternFilter = new ResourcePatternFilter { Type = query.ResourceType, Name = query.ResourceName, ResourcePatternType = query.PatternType },
        EntryFilter = new AccessControlEntryFilter { Principal = query.Principal, Host = query.Host, Operation = query.Operation, PermissionType = query.Permission },
    };

    private static AclRule ToRule(AclBinding b) => new(b.Pattern.Type, b.Pattern.Name, b.Pattern.ResourcePatternType,
        b.Entry.Principal, b.Entry.Host, b.Entry.Operation, b.Entry.PermissionType);
}

/// <summary>Kafka's command-line spellings of ACL parts ("topic", "cluster", "describe-configs", "allow"), both ways.</summary>
public static class AclNames
{
    public static ResourceType ParseResourceType(string text) => Normalize(text) switch
    {
        "topic" => ResourceType.Topic,
        "group" => ResourceType.Group,
        "cluster" or "broker" => ResourceType.Broker,
        "any" => ResourceType.Any,
        _ => throw AdminException.Invalid($"unknown resource type '{text}' (topic, group, cluster, any)"),
    };

    public static ResourcePatternType ParsePatternType(string text) => Normalize(text) switch
    {
        "literal" => ResourcePatternType.Literal,
        "prefixed" => ResourcePatternType.Prefixed,
        "match" => ResourcePatternType.Match,
        "any" => ResourcePatternType.Any,
        _ => throw AdminException.Invalid($"unknown pattern type '{text}' (literal, prefixed, match, any)"),
    };

    public static AclOperation ParseOperation(string text)
    {
        foreach (var operation in Enum.GetValues<AclOperation>())
        {
            if (operation != AclOperation.Unknown && Normalize(operation.ToString()) == Normalize(text)) return operation;
        }
        var known = Enum.GetValues<AclOperation>().Where(o => o != AclOperation.Unknown).Select(Format);
        throw AdminException.Invalid($"unknown operation '{text}' ({string.Join(", ", known)})");
    }

    public static AclPermissionType ParsePermission(string text) => Normalize(text) switch
    {
        "allow" => AclPermissionType.Allow,
        "deny" => AclPermissionType.Deny,
        "any" => AclPermissionType.Any,
        _ => throw AdminException.Invalid($"unknown permission '{text}' (allow, deny, any)"),
    };

    public static string Format(ResourceType type) => type == ResourceType.Broker ? "cluster" : type.ToString().ToLowerInvariant();

    public static string Format(ResourcePatternType type) => type.ToString().ToLowerInvariant();

    public static string Format(AclPermissionType type) => type.ToString().ToLowerInvariant();

    /// <summary>DescribeConfigs becomes describe-configs.</summary>
    public static string Format(AclOperation operation)
    {
        var name = operation.ToString();
        var result = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i])) result.Append('-');
            result.Append(char.ToLowerInvariant(name[i]));
        }
        return result.ToString();
    }

    private static string Normalize(string text) => text.Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
}
