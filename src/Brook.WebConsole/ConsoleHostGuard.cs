using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace Brook.WebConsole;

/// <summary>
/// The console answers only to Host names it can be reached by on purpose, so a page whose name was rebound to this
/// machine's address (DNS rebinding) cannot read or change anything through it: the browser would send that page's
/// name as Host. Allowed: localhost and loopback addresses, the addresses the HTTP listeners are bound to (any address
/// literal, and this machine's host name, when bound to all interfaces), and the names in console.allowed.hosts
/// ("*.example.com" for a domain's names, "*" for any).
/// </summary>
public sealed class ConsoleHostGuard(IServer server, IEnumerable<string> allowedHosts)
{
    private readonly string[] _configured = allowedHosts.Select(h => h.Trim()).Where(h => h.Length > 0).ToArray();
    private (HashSet<IPAddress> Addresses, bool AnyAddress)? _bound;

    public bool Allows(HostString host)
    {
        if (!host.HasValue) return false;
        var name = host.Host.Trim('[', ']');
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var allowed in _configured)
        {
            if (allowed == "*" || string.Equals(allowed, name, StringComparison.OrdinalIgnoreCase)) return true;
            if (allowed.StartsWith("*.", StringComparison.Ordinal) && name.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase)) return true;
        }
        var (addresses, anyAddress) = _bound ??= BoundAddresses();
        if (IPAddress.TryParse(name, out var ip)) return IPAddress.IsLoopback(ip) || anyAddress || addresses.Contains(ip);
        return anyAddress && string.Equals(name, Dns.GetHostName(), StringComparison.OrdinalIgnoreCase);
    }

    private (HashSet<IPAddress>, bool) BoundAddresses()
    {
        var addresses = new HashSet<IPAddress>();
        var any = false;
        foreach (var address in server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || !IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip)) continue;
            if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)) any = true;
            else addresses.Add(ip);
        }
        return (addresses, any);
    }

    internal async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var host = context.HttpContext.Request.Host;
        if (Allows(host)) return await next(context).ConfigureAwait(false);
        return Results.Json(new ApiError($"this console does not answer to the host name '{host.Host}'; "
            + "if it is meant to be reached by that name, add it to console.allowed.hosts", "forbidden-host"), statusCode: StatusCodes.Status403Forbidden);
    }
}
