using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// SaslAuthenticate (key 36), v0-2: carries SASL tokens after SaslHandshake v1. v1: session lifetime (always 0: no
/// re-authentication is required); v2: flexible. A failure answers SASL_AUTHENTICATION_FAILED with a message after the
/// configured delay and closes the connection.
/// </summary>
public sealed class SaslAuthenticateHandler(SaslAuthenticator authenticator) : RequestHandler<SaslAuthenticateRequest, SaslAuthenticateResponse>
{
    protected override async ValueTask<SaslAuthenticateResponse?> HandleAsync(RequestContext context, SaslAuthenticateRequest request, CancellationToken cancellationToken)
    {
        var outcome = await authenticator.AuthenticateAsync(context.Session, request.AuthBytes, context.RemoteEndPoint, cancellationToken).ConfigureAwait(false);
        return new SaslAuthenticateResponse
        {
            ErrorCode = (short)outcome.Error,
            ErrorMessage = outcome.Error == ErrorCode.None ? null : outcome.Message,
            AuthBytes = outcome.Response,
            SessionLifetimeMs = 0,
        };
    }
}
