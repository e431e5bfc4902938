using System.Net;
using Brook.Broker.Network;
using Brook.Broker.Security;

namespace Brook.Broker.Handlers;

/// <summary>Who sent the request, and the one-line authorization checks handlers make.</summary>
public sealed partial class RequestContext
{
    /// <summary>The connection's security state; null for requests not sent over a connection (in-process tests).</summary>
    public ConnectionSession? Session { get; init; }

    public IAuthorizer Authorizer { get; init; } = AllowAllAuthorizer.Instance;

    public KafkaPrincipal Principal => Session?.Principal ?? KafkaPrincipal.Anonymous;

    /// <summary>The listener the client connected through: Metadata and FindCoordinator answer with its advertised address.</summary>
    public string? ListenerName => Session?.Listener.Name;

    public IPAddress? ClientAddress => (RemoteEndPoint as IPEndPoint)?.Address;

    /// <summary>
    /// Whether this request's principal may perform the operation on the named resource. <paramref name="logIfDenied"/>
    /// is false when the check only filters what is shown (a denial is then not an attempt).
    /// </summary>
    public bool IsAllowed(AclOperation operation, ResourceType type, string name, bool logIfDenied = true) =>
        Authorizer.Authorize(Principal, ClientAddress, operation, type, name, logIfDenied);

    /// <summary>The operation on the cluster resource ("kafka-cluster").</summary>
    public bool IsClusterAllowed(AclOperation operation, bool logIfDenied = true) =>
        Authorizer.Authorize(Principal, ClientAddress, operation, ResourceType.Cluster, Acl.ClusterResourceName, logIfDenied);

    /// <summary>The operation on at least one resource of the type (KIP-679's check for idempotent producers).</summary>
    public bool IsAllowedOnAny(AclOperation operation, ResourceType type) =>
        Authorizer.AuthorizeAny(Principal, ClientAddress, operation, type);

    /// <summary>The authorized-operations bit field of a resource: bit n set when operation code n is allowed.</summary>
    public int AuthorizedOperations(ResourceType type, string name)
    {
        var bits = 0;
        foreach (var operation in Acl.SupportedOperations(type))
            if (IsAllowed(operation, type, name, logIfDenied: false)) bits |= 1 << (int)operation;
        return bits;
    }
}
