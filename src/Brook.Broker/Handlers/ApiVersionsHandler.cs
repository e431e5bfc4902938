using Brook.Broker.Network;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// ApiVersions (key 18). v3 adds client software name/version and the flexible encoding; the response header is
/// always v0 so that a client can read it before it knows which versions the broker speaks.
/// </summary>
public sealed class ApiVersionsHandler(IServiceProvider services) : RequestHandler<ApiVersionsRequest, ApiVersionsResponse>
{
    // Resolved lazily: the dispatcher depends on every handler, this one included.
    private RequestDispatcher Dispatcher => (RequestDispatcher)services.GetService(typeof(RequestDispatcher))!;

    protected override ValueTask<ApiVersionsResponse?> HandleAsync(RequestContext context, ApiVersionsRequest request, CancellationToken cancellationToken)
    {
        var response = BuildResponse(Dispatcher.Handlers);
        if (context.ApiVersion >= 3 && (!IsValidSoftwareLabel(request.ClientSoftwareName) || !IsValidSoftwareLabel(request.ClientSoftwareVersion)))
            response.ErrorCode = (short)ErrorCode.InvalidRequest;
        return ValueTask.FromResult<ApiVersionsResponse?>(response);
    }

    /// <summary>The answer to an ApiVersions request of a version Brook does not speak, encoded at v0.</summary>
    public static ApiVersionsResponse UnsupportedVersionResponse(IEnumerable<IRequestHandler> handlers)
    {
        var response = BuildResponse(handlers);
        response.ErrorCode = (short)ErrorCode.UnsupportedVersion;
        return response;
    }

    private static ApiVersionsResponse BuildResponse(IEnumerable<IRequestHandler> handlers)
    {
        var response = new ApiVersionsResponse();
        foreach (var h in handlers)
            response.ApiKeys.Add(new ApiVersionsResponse.ApiVersion { ApiKey = h.ApiKey, MinVersion = h.MinVersion, MaxVersion = h.MaxVersion });
        return response;
    }

    // Kafka accepts letters, digits, '.', '-' and must start and end with a letter or digit (KIP-511).
    private static bool IsValidSoftwareLabel(string value) =>
        value.Length > 0 && char.IsAsciiLetterOrDigit(value[0]) && char.IsAsciiLetterOrDigit(value[^1])
        && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-');
}
