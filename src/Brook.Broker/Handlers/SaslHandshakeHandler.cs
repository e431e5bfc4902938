using Brook.Broker.Security;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// SaslHandshake (key 17), v0-1: picks the SASL mechanism of a connection on a SASL listener and lists the enabled
/// ones. v0: the tokens that follow are bare frames; v1: they come in SaslAuthenticate requests. Out of turn (or on a
/// listener without SASL) it answers ILLEGAL_SASL_STATE; an unknown mechanism gets UNSUPPORTED_SASL_MECHANISM and the
/// connection is closed, as Kafka does.
/// </summary>
public sealed class SaslHandshakeHandler(SaslAuthenticator authenticator) : RequestHandler<SaslHandshakeRequest, SaslHandshakeResponse>
{
    protected override ValueTask<SaslHandshakeResponse?> HandleAsync(RequestContext context, SaslHandshakeRequest request, CancellationToken cancellationToken)
    {
        var (error, mechanisms) = authenticator.Handshake(context.Session, request.Mechanism, context.ApiVersion, context.RemoteEndPoint);
        return ValueTask.FromResult<SaslHandshakeResponse?>(new SaslHandshakeResponse { ErrorCode = (short)error, Mechanisms = mechanisms.ToList() });
    }
}
