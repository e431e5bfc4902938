using System.Security.Cryptography;
using System.Text;

namespace Brook.Broker.Security;

/// <summary>One step of a SASL exchange: a challenge to send, success (with the final message), or failure.</summary>
public readonly record struct SaslStep(byte[] Response, string? AuthenticatedUser, string? ClientError, string? LogReason)
{
    public bool IsComplete => AuthenticatedUser is not null;

    public bool IsFailure => ClientError is not null;

    public static SaslStep Challenge(byte[] response) => new(response, null, null, null);

    public static SaslStep Success(string user, byte[] response) => new(response, user, null, null);

    /// <param name="clientError">What the client is told: never whether the user exists.</param>
    /// <param name="logReason">What the broker log says.</param>
    public static SaslStep Failure(string clientError, string logReason) => new([], null, clientError, logReason);
}

/// <summary>The server side of one SASL mechanism for one connection; not thread-safe (a connection runs one request at a time).</summary>
public abstract class SaslServer
{
    public abstract string Mechanism { get; }

    public abstract SaslStep Evaluate(ReadOnlySpan<byte> clientMessage);
}

/// <summary>SASL/PLAIN (RFC 4616): one message "authzid NUL authcid NUL password", checked against configured users.</summary>
public sealed class PlainSaslServer(IReadOnlyDictionary<string, string> users) : SaslServer
{
    public const string Name = "PLAIN";
    private const string InvalidCredentials = "Authentication failed: Invalid username or password";

    public override string Mechanism => Name;

    public override SaslStep Evaluate(ReadOnlySpan<byte> clientMessage)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(clientMessage);
        }
        catch (DecoderFallbackException)
        {
            return SaslStep.Failure("Invalid SASL/PLAIN response: not UTF-8", "malformed PLAIN message");
        }
        var parts = text.Split('\0');
        if (parts.Length != 3) return SaslStep.Failure("Invalid SASL/PLAIN response: expected 3 tokens", "malformed PLAIN message");
        var (authorizationId, user, password) = (parts[0], parts[1], parts[2]);
        if (user.Length == 0) return SaslStep.Failure("Authentication failed: username not specified", "no user name");
        if (password.Length == 0) return SaslStep.Failure("Authentication failed: password not specified", $"no password for '{user}'");
        if (authorizationId.Length > 0 && authorizationId != user)
            return SaslStep.Failure("Authentication failed: Client requested an authorization id that is different from username", $"'{user}' asked to act as '{authorizationId}'");
        // Hashing both sides keeps the comparison constant-time whatever the lengths.
        var expected = users.GetValueOrDefault(user);
        var matches = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(password)), SHA256.HashData(Encoding.UTF8.GetBytes(expected ?? "\0unknown")));
        if (expected is null) return SaslStep.Failure(InvalidCredentials, $"unknown user '{user}'");
        return matches ? SaslStep.Success(user, []) : SaslStep.Failure(InvalidCredentials, $"wrong password for '{user}'");
    }
}

/// <summary>
/// SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802, RFC 7677) without channel binding, as Kafka offers them: client-first →
/// server-first (nonce, salt, iterations) → client-final (proof) → server-final (server signature).
/// </summary>
public sealed class ScramSaslServer : SaslServer
{
    private readonly ScramMechanism _mechanism;
    private readonly Func<string, ScramCredential?> _credentials;
    private readonly Func<string> _newNonce;
    private string? _gs2Header;
    private string? _clientFirstBare;
    private string? _serverFirst;
    private string? _nonce;
    private string? _user;
    private ScramCredential? _credential;
    private bool _done;

    /// <summary><paramref name="newNonce"/> makes the server's part of the nonce; tests pin it to reproduce published exchanges.</summary>
    public ScramSaslServer(ScramMechanism mechanism, Func<string, ScramCredential?> credentials, Func<string>? newNonce = null)
    {
        _mechanism = mechanism;
        _credentials = credentials;
        _newNonce = newNonce ?? (() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)));
    }

    public override string Mechanism => Scram.Name(_mechanism);

    private string InvalidCredentials => $"Authentication failed during authentication due to invalid credentials with SASL mechanism {Mechanism}";

    public override SaslStep Evaluate(ReadOnlySpan<byte> clientMessage)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(clientMessage);
        }
        catch (DecoderFallbackException)
        {
            return SaslStep.Failure(InvalidCredentials, "SCRAM message is not UTF-8");
        }
        if (_done) return SaslStep.Failure(InvalidCredentials, "SCRAM message after the exchange ended");
        return _serverFirst is null ? ClientFirst(text) : ClientFinal(text);
    }

    private SaslStep ClientFirst(string message)
    {
        // gs2-header = ("n" | "y") "," [ "a=" saslname ] ","  — "p=" (channel binding) is not offered.
        if (!(message.StartsWith("n,", StringComparison.Ordinal) || message.StartsWith("y,", StringComparison.Ordinal)))
            return Fail("Channel binding is not supported", "client asked for channel binding or sent no GS2 header");
        var authzEnd = message.IndexOf(',', 2);
        if (authzEnd < 0) return Fail(InvalidCredentials, "malformed client-first message");
        var authz = message[2..authzEnd];
        if (authz.Length > 0 && !authz.StartsWith("a=", StringComparison.Ordinal)) return Fail(InvalidCredentials, "malformed authorization id");
        _gs2Header = message[..(authzEnd + 1)];
        _clientFirstBare = message[(authzEnd + 1)..];
        var attributes = _clientFirstBare.Split(',');
        if (attributes.Length < 2 || !attributes[0].StartsWith("n=", StringComparison.Ordinal) || !attributes[1].StartsWith("r=", StringComparison.Ordinal) || attributes[1].Length == 2)
            return Fail(InvalidCredentials, "malformed client-first message");
        var user = DecodeName(attributes[0][2..]);
        if (user is null) return Fail(InvalidCredentials, "malformed user name");
        _user = user;
        var requestedId = authz.Length > 0 ? DecodeName(authz[2..]) : "";
        if (requestedId is null) return Fail(InvalidCredentials, "malformed authorization id");
        _credential = _credentials(user);
        if (_credential is null) return Fail(InvalidCredentials, $"unknown user '{user}'");
        if (requestedId.Length > 0 && requestedId != user)
            return Fail("Authentication failed: Client requested an authorization id that is different from username", $"'{user}' asked to act as '{requestedId}'");
        if (_credential.Iterations < Scram.MinIterations) return Fail(InvalidCredentials, $"credential of '{user}' has too few iterations");
        _nonce = attributes[1][2..] + _newNonce();
        _serverFirst = $"r={_nonce},s={Convert.ToBase64String(_credential.Salt)},i={_credential.Iterations}";
        return SaslStep.Challenge(Encoding.UTF8.GetBytes(_serverFirst));
    }

    private SaslStep ClientFinal(string message)
    {
        _done = true;
        var proofAt = message.LastIndexOf(",p=", StringComparison.Ordinal);
        if (proofAt < 0) return Fail(InvalidCredentials, "client-final message without a proof");
        var withoutProof = message[..proofAt];
        var attributes = withoutProof.Split(',');
        if (attributes.Length < 2 || attributes[0] != "c=" + Convert.ToBase64String(Encoding.UTF8.GetBytes(_gs2Header!)))
            return Fail(InvalidCredentials, "channel binding attribute does not repeat the GS2 header");
        // librdkafka before 2.6.1 repeats the client nonce in front of the full nonce; Kafka (3.8.1+) accepts a nonce that ends
        // with the full one, so every librdkafka in the field can log in. The proof still covers the message as sent.
        if (!attributes[1].StartsWith("r=", StringComparison.Ordinal) || !attributes[1].EndsWith(_nonce!, StringComparison.Ordinal))
            return Fail(InvalidCredentials, "nonce does not match");
        byte[] proof;
        try
        {
            proof = Convert.FromBase64String(message[(proofAt + 3)..]);
        }
        catch (FormatException)
        {
            return Fail(InvalidCredentials, "proof is not base64");
        }
        var credential = _credential!;
        var authMessage = Encoding.UTF8.GetBytes($"{_clientFirstBare},{_serverFirst},{withoutProof}");
        var clientSignature = Scram.Hmac(_mechanism, credential.StoredKey, authMessage);
        if (proof.Length != clientSignature.Length) return Fail(InvalidCredentials, $"wrong password for '{_user}'");
        var clientKey = new byte[proof.Length];
        for (var i = 0; i < clientKey.Length; i++) clientKey[i] = (byte)(proof[i] ^ clientSignature[i]);
        if (!CryptographicOperations.FixedTimeEquals(Scram.Hash(_mechanism, clientKey), credential.StoredKey))
            return Fail(InvalidCredentials, $"wrong password for '{_user}'");
        var serverSignature = Scram.Hmac(_mechanism, credential.ServerKey, authMessage);
        return SaslStep.Success(_user!, Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature)));
    }

    private SaslStep Fail(string clientError, string logReason)
    {
        _done = true;
        return SaslStep.Failure(clientError, logReason);
    }

    /// <summary>saslname of RFC 5802: "=2C" is ',' and "=3D" is '='; any other '=' is malformed.</summary>
    private static string? DecodeName(string saslName)
    {
        if (!saslName.Contains('=', StringComparison.Ordinal)) return saslName;
        var builder = new StringBuilder(saslName.Length);
        for (var i = 0; i < saslName.Length; i++)
        {
            if (saslName[i] != '=')
            {
                builder.Append(saslName[i]);
                continue;
            }
            var escape = i + 3 <= saslName.Length ? saslName.Substring(i, 3) : "";
            if (escape == "=2C") builder.Append(',');
            else if (escape == "=3D") builder.Append('=');
            else return null;
            i += 2;
        }
        return builder.ToString();
    }
}
