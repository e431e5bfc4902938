using Microsoft.AspNetCore.Routing;

namespace Brook.Broker;

/// <summary>
/// Endpoints added to the broker's HTTP listeners next to /metrics and /health: register one as a singleton in the
/// builder passed to <see cref="BrookBroker.StartAsync(BrokerOptions, Action{Microsoft.AspNetCore.Builder.WebApplicationBuilder}?, CancellationToken)"/>.
/// They are mapped only when the broker has HTTP listeners.
/// </summary>
public sealed class HttpEndpoints(Action<IEndpointRouteBuilder> map)
{
    public void Map(IEndpointRouteBuilder endpoints) => map(endpoints);
}
