using System.Net;
using Brook.Protocol;

namespace Brook.Broker.Handlers;

/// <summary>What a handler knows about the request beyond its body.</summary>
public sealed partial class RequestContext : IDisposable
{
    private List<IDisposable>? _releaseAfterResponse;

    public required RequestHeader Header { get; init; }

    public required EndPoint? RemoteEndPoint { get; init; }

    public required string ConnectionId { get; init; }

    public short ApiVersion => Header.ApiVersion;

    public string? ClientId => Header.ClientId;

    /// <summary>Called by <see cref="SignalApplied"/>: the connection's cue that it may read its next request.</summary>
    public Action? OnApplied { get; init; }

    /// <summary>
    /// Says that this request's effects are in place, in order, and only waiting for durability remains (a produce whose
    /// records are written, before their fsync). A connection may then start on its next produce request.
    /// </summary>
    public void SignalApplied() => OnApplied?.Invoke();

    /// <summary>Keeps buffers (read records) alive until the response has been written.</summary>
    public void ReleaseAfterResponse(IDisposable resource) => (_releaseAfterResponse ??= []).Add(resource);

    /// <summary>Hands the buffers kept for the response to <paramref name="owner"/>, which releases them once the response is sent.</summary>
    public void MoveResourcesTo(ICollection<IDisposable> owner)
    {
        if (_releaseAfterResponse is null) return;
        foreach (var r in _releaseAfterResponse) owner.Add(r);
        _releaseAfterResponse = null;
    }

    public void Dispose()
    {
        if (_releaseAfterResponse is null) return;
        foreach (var r in _releaseAfterResponse) r.Dispose();
        _releaseAfterResponse = null;
    }
}

/// <summary>Serves one API. Handlers are thin: read the request, call services, map outcomes to error codes.</summary>
public interface IRequestHandler
{
    short ApiKey { get; }

    short MinVersion { get; }

    short MaxVersion { get; }

    IApiMessage CreateRequest();

    /// <summary>Returns the response, or null when the request gets none (Produce with acks=0).</summary>
    ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken);
}

/// <summary>Typed base for handlers; versions default to everything the codec supports for the API.</summary>
public abstract class RequestHandler<TRequest, TResponse> : IRequestHandler
    where TRequest : class, IApiMessage, new()
    where TResponse : class, IApiMessage
{
    private static readonly ApiDescriptor Descriptor = CreateDescriptor();

    private static ApiDescriptor CreateDescriptor()
    {
        var key = new TRequest().ApiKey;
        return Protocol.Messages.ApiCatalog.All.Single(a => a.Key == key);
    }

    public short ApiKey => Descriptor.Key;

    public virtual short MinVersion => Descriptor.LowestVersion;

    public virtual short MaxVersion => Descriptor.HighestVersion;

    public IApiMessage CreateRequest() => new TRequest();

    public async ValueTask<IApiMessage?> HandleAsync(RequestContext context, IApiMessage request, CancellationToken cancellationToken) =>
        await HandleAsync(context, (TRequest)request, cancellationToken).ConfigureAwait(false);

    protected abstract ValueTask<TResponse?> HandleAsync(RequestContext context, TRequest request, CancellationToken cancellationToken);
}
