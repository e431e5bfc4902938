using System.Security.Cryptography.X509Certificates;
using Brook.Broker.Security;
using Brook.Protocol.Messages;

namespace Brook.Broker.Network;

/// <summary>Where a connection is in SASL authentication.</summary>
public enum SaslStage
{
    /// <summary>The listener does not use SASL.</summary>
    NotRequired,

    /// <summary>Waiting for SaslHandshake (ApiVersions may come first).</summary>
    Handshake,

    /// <summary>Mechanism chosen with SaslHandshake v1+: tokens come in SaslAuthenticate requests.</summary>
    Authenticate,

    /// <summary>Mechanism chosen with SaslHandshake v0: tokens come as bare size-prefixed frames.</summary>
    RawToken,

    Complete,

    Failed,
}

/// <summary>
/// The security state of one connection: its listener, its principal and its SASL progress. Owned by the
/// connection's loop, which handles one request at a time, so it needs no locking.
/// </summary>
public sealed class ConnectionSession
{
    public ConnectionSession(BrokerListener listener, X509Certificate2? clientCertificate = null)
    {
        Listener = listener;
        Stage = listener.UsesSasl ? SaslStage.Handshake : SaslStage.NotRequired;
        // Kafka's default principal builder: the certificate subject on SSL listeners; SASL listeners use the SASL user.
        Principal = listener.Protocol == SecurityProtocol.Ssl && clientCertificate is not null
            ? KafkaPrincipal.FromCertificate(clientCertificate)
            : KafkaPrincipal.Anonymous;
    }

    public BrokerListener Listener { get; }

    public KafkaPrincipal Principal { get; private set; }

    public SaslStage Stage { get; private set; }

    public bool IsAuthenticated => Stage is SaslStage.NotRequired or SaslStage.Complete;

    public bool ExpectsRawSaslToken => Stage == SaslStage.RawToken;

    /// <summary>Set when the response being written is the last one (failed or refused authentication).</summary>
    public bool CloseAfterResponse { get; set; }

    internal SaslServer? Mechanism { get; private set; }

    /// <summary>What Kafka serves before authentication: version discovery and the SASL exchange itself.</summary>
    public static bool ServedBeforeAuthentication(short apiKey) =>
        apiKey is ApiKeys.ApiVersions or ApiKeys.SaslHandshake or ApiKeys.SaslAuthenticate;

    internal void BeginAuthentication(SaslServer mechanism, bool rawTokens)
    {
        Mechanism = mechanism;
        Stage = rawTokens ? SaslStage.RawToken : SaslStage.Authenticate;
    }

    internal void Authenticated(KafkaPrincipal principal)
    {
        Principal = principal;
        Mechanism = null;
        Stage = SaslStage.Complete;
    }

    internal void Fail()
    {
        Mechanism = null;
        Stage = SaslStage.Failed;
        CloseAfterResponse = true;
    }
}
