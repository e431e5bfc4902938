using System.Net;
using Brook.Broker.Network;
using Brook.Protocol;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Security;

/// <summary>The outcome of one SASL token: the bytes to answer with, or an error (after which the connection closes).</summary>
public readonly record struct SaslTokenResult(ErrorCode Error, string? Message, byte[] Response);

/// <summary>
/// Runs SASL for connections on SASL listeners, following Kafka's server: SaslHandshake picks a mechanism the listener
/// enables (v0: tokens follow as bare frames; v1: inside SaslAuthenticate), then tokens go to that mechanism until it
/// succeeds (the connection's principal becomes User:name) or fails. A failure is logged, answered after a fixed delay
/// (connection.failed.authentication.delay.ms, awaited on the broker's clock, no thread blocked) and ends the connection.
/// </summary>
public sealed partial class SaslAuthenticator(ScramCredentialStore scram, SecuritySettings settings, TimeProvider time, ILogger<SaslAuthenticator> logger)
{
    /// <summary>SaslHandshake: ILLEGAL_SASL_STATE out of turn, UNSUPPORTED_SASL_MECHANISM (and close) for a mechanism not offered.</summary>
    public (ErrorCode Error, IReadOnlyList<string> Mechanisms) Handshake(ConnectionSession? session, string mechanism, short version, EndPoint? remote)
    {
        if (session is null || !session.Listener.UsesSasl || session.IsAuthenticated) return (ErrorCode.IllegalSaslState, session?.Listener.SaslMechanisms ?? []);
        var offered = session.Listener.SaslMechanisms;
        if (session.Stage != SaslStage.Handshake)
        {
            session.Fail();
            return (ErrorCode.IllegalSaslState, offered);
        }
        if (!offered.Contains(mechanism, StringComparer.Ordinal))
        {
            LogUnsupportedMechanism(remote, session.Listener.Name, mechanism);
            session.Fail();
            return (ErrorCode.UnsupportedSaslMechanism, offered);
        }
        session.BeginAuthentication(CreateServer(session.Listener, mechanism), rawTokens: version == 0);
        return (ErrorCode.None, offered);
    }

    /// <summary>One token (from SaslAuthenticate, or a bare frame after SaslHandshake v0).</summary>
    public async ValueTask<SaslTokenResult> AuthenticateAsync(ConnectionSession? session, ReadOnlyMemory<byte> token, EndPoint? remote, CancellationToken cancellationToken)
    {
        if (session is null || !session.Listener.UsesSasl || session.IsAuthenticated)
            return new(ErrorCode.IllegalSaslState, "SaslAuthenticate request received after successful authentication", []);
        if (session.Mechanism is not { } mechanism)
        {
            session.Fail();
            return new(ErrorCode.IllegalSaslState, "SaslAuthenticate request received before SaslHandshake", []);
        }
        var step = mechanism.Evaluate(token.Span);
        if (step.IsFailure)
        {
            LogFailed(remote, session.Listener.Name, mechanism.Mechanism, step.LogReason ?? step.ClientError!);
            session.Fail();
            await Task.Delay(settings.FailedAuthenticationDelay, time, cancellationToken).ConfigureAwait(false);
            return new(ErrorCode.SaslAuthenticationFailed, step.ClientError, []);
        }
        if (step.IsComplete)
        {
            session.Authenticated(KafkaPrincipal.User(step.AuthenticatedUser!));
            LogAuthenticated(remote, session.Listener.Name, mechanism.Mechanism, step.AuthenticatedUser!);
        }
        return new(ErrorCode.None, null, step.Response);
    }

    private SaslServer CreateServer(BrokerListener listener, string mechanism) => mechanism switch
    {
        PlainSaslServer.Name => new PlainSaslServer(listener.PlainUsers),
        _ => new ScramSaslServer(Scram.FromName(mechanism), user => scram.Get(user, Scram.FromName(mechanism))),
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Failed authentication from {RemoteEndPoint} on listener {Listener} with {Mechanism}: {Reason}")]
    private partial void LogFailed(EndPoint? remoteEndPoint, string listener, string mechanism, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client {RemoteEndPoint} on listener {Listener} asked for SASL mechanism '{Mechanism}', which is not enabled")]
    private partial void LogUnsupportedMechanism(EndPoint? remoteEndPoint, string listener, string mechanism);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client {RemoteEndPoint} on listener {Listener} authenticated with {Mechanism} as User:{User}")]
    private partial void LogAuthenticated(EndPoint? remoteEndPoint, string listener, string mechanism, string user);
}
