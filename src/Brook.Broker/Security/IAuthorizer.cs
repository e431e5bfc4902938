using System.Net;

namespace Brook.Broker.Security;

/// <summary>
/// Decides whether a principal connected from a host may perform an operation on a resource. Handlers reach it
/// through <see cref="Handlers.RequestContext"/> (one call per check); implementations must be cheap and thread-safe,
/// because Produce and Fetch ask on every request.
/// </summary>
public interface IAuthorizer
{
    /// <summary>False when no authorizer is configured: everything is allowed and the ACL APIs answer SECURITY_DISABLED.</summary>
    bool IsEnabled { get; }

    /// <summary>
    /// Whether the operation on the named resource (a LITERAL name) is allowed. <paramref name="logIfDenied"/> is false
    /// for filtering (listing what a principal may see), where a denial is not an attempt.
    /// </summary>
    bool Authorize(KafkaPrincipal principal, IPAddress? host, AclOperation operation, ResourceType type, string name, bool logIfDenied = true);

    /// <summary>
    /// Whether the operation is allowed on at least one resource of the type (Kafka's authorizeByResourceType, used
    /// for idempotent producers since KIP-679): some ALLOW applies that no DENY of the same or a wider pattern covers.
    /// </summary>
    bool AuthorizeAny(KafkaPrincipal principal, IPAddress? host, AclOperation operation, ResourceType type);
}

/// <summary>The authorizer when none is configured: everything is allowed.</summary>
public sealed class AllowAllAuthorizer : IAuthorizer
{
    public static readonly AllowAllAuthorizer Instance = new();

    public bool IsEnabled => false;

    public bool Authorize(KafkaPrincipal principal, IPAddress? host, AclOperation operation, ResourceType type, string name, bool logIfDenied = true) => true;

    public bool AuthorizeAny(KafkaPrincipal principal, IPAddress? host, AclOperation operation, ResourceType type) => true;
}
