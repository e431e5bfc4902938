using System.Net;
using Brook.Broker.Groups;
using Brook.Broker.Security;

namespace Brook.Broker.Handlers;

internal static class GroupHandlerContext
{
    /// <summary>Client id and host ("/address", as Kafka reports it) of the connection that sent the request.</summary>
    public static ClientInfo Client(RequestContext context)
    {
        var host = context.RemoteEndPoint is IPEndPoint ip ? "/" + ip.Address : "";
        if (!context.Authorizer.IsEnabled) return new(context.ClientId ?? "", host);
        // The request context ends with the request; the check keeps only what it needs.
        var (authorizer, principal, address) = (context.Authorizer, context.Principal, context.ClientAddress);
        return new(context.ClientId ?? "", host,
            topic => authorizer.Authorize(principal, address, AclOperation.Describe, ResourceType.Topic, topic, logIfDenied: false));
    }
}
