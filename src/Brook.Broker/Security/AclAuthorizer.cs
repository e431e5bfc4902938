using System.Net;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Security;

/// <summary>
/// Kafka's ACL authorizer semantics. Super users may do anything. Otherwise the ACLs that apply to the resource are
/// its LITERAL ACLs, the LITERAL "*" ACLs of its type and the PREFIXED ACLs whose name starts the resource name; among
/// those whose principal (or User:*) and host (or *) match: any DENY for the operation (or ALL) denies; else an ALLOW
/// for the operation, for ALL, or for an operation that implies it (READ, WRITE, DELETE, ALTER imply DESCRIBE;
/// ALTER_CONFIGS implies DESCRIBE_CONFIGS) allows. With no matching ALLOW the answer is no, unless the resource has
/// no ACLs at all and allow.everyone.if.no.acl.found is set. Thread-safe: reads one immutable index snapshot per call.
/// </summary>
public sealed partial class AclAuthorizer(AclStore store, AuthorizerSettings settings, ILogger<AclAuthorizer> logger) : IAuthorizer
{
    // A name no ACL can name exactly: what is allowed for it is allowed for "some resource nobody wrote an ACL for".
    private const string UnnamedResource = "\0";

    public bool IsEnabled => true;

    public bool Authorize(KafkaPrincipal principal, IPAddress? host, AclOperation operation, ResourceType type, string name, bool logIfDenied = true)
    {
        var who = principal.ToString();
        if (settings.SuperUsers.Contains(who)) return true;
        var from = HostString(host);
        var index = store.Current;
        var hasAcls = false;
        var allowed = false;
        if (Evaluate(index.Literal(type, name), who, from, operation, ref hasAcls, ref allowed)
            || (name != Acl.WildcardResource && Evaluate(index.Literal(type, Acl.WildcardResource), who, from, operation, ref hasAcls, ref allowed))
            || EvaluatePrefixed(index.Prefixed(type), name, who, from, operation, ref hasAcls, ref allowed))
        {
            if (logIfDenied) LogDenied(who, operation, from, type, name, "a DENY ACL");
            return false;
        }
        if (allowed || (!hasAcls && settings.AllowEveryoneIfNoAclFound)) return true;
        if (logIfDenied) LogDenied(who, operation, from, type, name, hasAcls ? "no matching ALLOW ACL" : "no ACL on the resource");
        return false;
    }

    public bool AuthorizeAny(KafkaPrincipal principal, IPAddress? host, AclOperation operation, ResourceType type)
    {
        // Super users, wildcard ALLOWs and allow.everyone.if.no.acl.found all show on a resource no ACL names.
        if (Authorize(principal, host, operation, type, UnnamedResource, logIfDenied: false)) return true;
        var who = principal.ToString();
        var from = HostString(host);
        var deniedLiterals = new HashSet<string>(StringComparer.Ordinal);
        var deniedPrefixes = new HashSet<string>(StringComparer.Ordinal);
        var allows = new List<ResourcePattern>();
        foreach (var acl in store.Current.OfType(type))
        {
            var entry = acl.Entry;
            if (!MatchesWho(entry, who, from) || (entry.Operation != operation && entry.Operation != AclOperation.All)) continue;
            if (entry.Permission == AclPermissionType.Deny)
            {
                if (acl.Pattern.PatternType == PatternType.Literal && acl.Pattern.Name == Acl.WildcardResource) return false;
                (acl.Pattern.PatternType == PatternType.Literal ? deniedLiterals : deniedPrefixes).Add(acl.Pattern.Name);
            }
            else if (entry.Permission == AclPermissionType.Allow)
            {
                allows.Add(acl.Pattern);
            }
        }
        foreach (var allow in allows)
        {
            if (allow.PatternType == PatternType.Literal && allow.Name == Acl.WildcardResource) return true;
            if (allow.PatternType == PatternType.Literal && deniedLiterals.Contains(allow.Name)) continue;
            var coveredByDeny = false;
            for (var length = 1; length <= allow.Name.Length && !coveredByDeny; length++)
                coveredByDeny = deniedPrefixes.Contains(allow.Name[..length]);
            if (!coveredByDeny) return true;
        }
        return false;
    }

    /// <summary>Applies ACLs; true as soon as one denies.</summary>
    private static bool Evaluate(ReadOnlySpan<AclBinding> acls, string who, string host, AclOperation operation, ref bool hasAcls, ref bool allowed)
    {
        foreach (var acl in acls)
            if (Apply(acl, who, host, operation, ref hasAcls, ref allowed)) return true;
        return false;
    }

    private static bool EvaluatePrefixed(ReadOnlySpan<AclBinding> acls, string name, string who, string host, AclOperation operation, ref bool hasAcls, ref bool allowed)
    {
        foreach (var acl in acls)
            if (name.StartsWith(acl.Pattern.Name, StringComparison.Ordinal) && Apply(acl, who, host, operation, ref hasAcls, ref allowed)) return true;
        return false;
    }

    private static bool Apply(in AclBinding acl, string who, string host, AclOperation operation, ref bool hasAcls, ref bool allowed)
    {
        hasAcls = true;
        var decision = Decide(acl.Entry, who, host, operation);
        if (decision == AclPermissionType.Allow) allowed = true;
        return decision == AclPermissionType.Deny;
    }

    /// <summary>ALLOW or DENY when the entry applies to this principal, host and operation; Unknown when it does not.</summary>
    private static AclPermissionType Decide(AccessControlEntry entry, string who, string host, AclOperation operation)
    {
        if (!MatchesWho(entry, who, host)) return AclPermissionType.Unknown;
        if (entry.Operation == AclOperation.All || entry.Operation == operation) return entry.Permission;
        // Implied operations widen ALLOWs only: a DENY of READ does not deny DESCRIBE.
        if (entry.Permission != AclPermissionType.Allow) return AclPermissionType.Unknown;
        var implied = operation switch
        {
            AclOperation.Describe => entry.Operation is AclOperation.Read or AclOperation.Write or AclOperation.Delete or AclOperation.Alter,
            AclOperation.DescribeConfigs => entry.Operation == AclOperation.AlterConfigs,
            _ => false,
        };
        return implied ? AclPermissionType.Allow : AclPermissionType.Unknown;
    }

    private static bool MatchesWho(AccessControlEntry entry, string who, string host) =>
        (entry.Principal == who || entry.Principal == Acl.WildcardPrincipal) && (entry.Host == Acl.WildcardHost || entry.Host == host);

    internal static string HostString(IPAddress? address) =>
        address is null ? "" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    [LoggerMessage(Level = LogLevel.Information, Message = "Principal = {Principal} is Denied operation = {Operation} from host = {Host} on resource = {Type}:{Name} ({Reason})")]
    private partial void LogDenied(string principal, AclOperation operation, string host, ResourceType type, string name, string reason);
}

/// <summary>The authorizer's settings: super.users (semicolon-separated principals) and allow.everyone.if.no.acl.found.</summary>
public sealed record AuthorizerSettings(IReadOnlySet<string> SuperUsers, bool AllowEveryoneIfNoAclFound)
{
    public static AuthorizerSettings Parse(IReadOnlyDictionary<string, string> configs)
    {
        var superUsers = (configs.GetValueOrDefault("super.users") ?? "")
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        foreach (var user in superUsers)
            if (!KafkaPrincipal.TryParse(user, out _)) throw new ArgumentException($"super.users: '{user}' is not a principal (TYPE:NAME, e.g. User:admin).");
        var allowEveryone = configs.GetValueOrDefault("allow.everyone.if.no.acl.found") is { } text && bool.TryParse(text, out var value) && value;
        return new AuthorizerSettings(superUsers, allowEveryone);
    }
}
