using System.Net;
using Brook.Broker.Groups;

namespace Brook.Broker.Handlers;

internal static class GroupHandlerContext
{
    /// <summary>Client id and host ("/address", as Kafka reports it) of the connection that sent the request.</summary>
    public static ClientInfo Client(RequestContext context) =>
        new(context.ClientId ?? "", context.RemoteEndPoint is IPEndPoint ip ? "/" + ip.Address : "");
}
