using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Brook.Protocol.Messages;

namespace Brook.Admin;

/// <summary>
/// How <see cref="KafkaWireConnection"/> secures its connection, read from the same client properties librdkafka takes:
/// security.protocol, sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), sasl.username, sasl.password,
/// ssl.ca.location, ssl.certificate.location, ssl.key.location, enable.ssl.certificate.verification.
/// </summary>
internal sealed record WireSecurity(bool Tls, string? SaslMechanism, string? Username, string? Password, string? CaLocation,
    string? CertificateLocation, string? KeyLocation, bool VerifyCertificate)
{
    public static WireSecurity From(IReadOnlyDictionary<string, string> properties)
    {
        string? Get(string key) => properties.TryGetValue(key, out var value) && value.Length > 0 ? value : null;
        var protocol = (Get("security.protocol") ?? "plaintext").ToUpperInvariant();
        var sasl = protocol is "SASL_PLAINTEXT" or "SASL_SSL";
        if (protocol is not ("PLAINTEXT" or "SSL" or "SASL_PLAINTEXT" or "SASL_SSL"))
            throw AdminException.Invalid($"security.protocol '{protocol}' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL");
        var mechanism = sasl ? (Get("sasl.mechanism") ?? Get("sasl.mechanisms") ?? "GSSAPI").ToUpperInvariant() : null;
        if (mechanism is not (null or "PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512"))
            throw new AdminException(AdminErrorKind.Unsupported, $"SASL mechanism {mechanism} is not supported here (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
        return new WireSecurity(protocol is "SSL" or "SASL_SSL", mechanism, Get("sasl.username"), Get("sasl.password"), Get("ssl.ca.location"),
            Get("ssl.certificate.location"), Get("ssl.key.location"), !string.Equals(Get("enable.ssl.certificate.verification"), "false", StringComparison.OrdinalIgnoreCase));
    }

    public async Task<Stream> WrapAsync(Stream stream, string host, CancellationToken cancellationToken)
    {
        if (!Tls) return stream;
        var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions { TargetHost = host, RemoteCertificateValidationCallback = Validate };
        if (CertificateLocation is not null)
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(CertificateLocation, KeyLocation)];
        await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        return ssl;
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!VerifyCertificate) return true;
        if (errors == SslPolicyErrors.None) return true;
        if (CaLocation is null || certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        // Trust exactly the CAs of ssl.ca.location, as librdkafka does.
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.CustomTrustStore.ImportFromPemFile(CaLocation);
        return custom.Build(new X509Certificate2(certificate));
    }

    /// <summary>SaslHandshake, then SaslAuthenticate exchanges until the mechanism is done; fails NotAuthorized on a refused login.</summary>
    public async Task AuthenticateAsync(KafkaWireConnection connection, CancellationToken cancellationToken)
    {
        if (SaslMechanism is null) return;
        if (Username is null || Password is null) throw AdminException.Invalid($"SASL {SaslMechanism} needs sasl.username and sasl.password");
        var handshake = await connection.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = SaslMechanism }, 1, cancellationToken).ConfigureAwait(false);
        if (handshake.ErrorCode != 0)
        {
            throw new AdminException(AdminErrorKind.NotAuthorized,
                $"the broker does not offer SASL {SaslMechanism} here (it offers {string.Join(", ", handshake.Mechanisms)})");
        }
        var version = connection.NegotiatedVersion(ApiKeys.SaslAuthenticate) ?? 0;
        async Task<byte[]> ExchangeAsync(byte[] message)
        {
            var response = await connection.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = message }, version, cancellationToken).ConfigureAwait(false);
            if (response.ErrorCode != 0)
                throw new AdminException(AdminErrorKind.NotAuthorized, $"SASL {SaslMechanism} login of '{Username}' failed: {response.ErrorMessage ?? "refused"}");
            return response.AuthBytes ?? [];
        }
        if (SaslMechanism == "PLAIN")
        {
            await ExchangeAsync(Encoding.UTF8.GetBytes($"\0{Username}\0{Password}")).ConfigureAwait(false);
            return;
        }
        await ScramAsync(ExchangeAsync).ConfigureAwait(false);
    }

    /// <summary>RFC 5802 client: client-first, server-first (nonce, salt, iterations), client-final with the proof, server signature checked.</summary>
    private async Task ScramAsync(Func<byte[], Task<byte[]>> exchange)
    {
        var sha512 = SaslMechanism == "SCRAM-SHA-512";
        var clientNonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var clientFirstBare = $"n={Username!.Replace("=", "=3D", StringComparison.Ordinal).Replace(",", "=2C", StringComparison.Ordinal)},r={clientNonce}";
        var serverFirst = Encoding.UTF8.GetString(await exchange(Encoding.UTF8.GetBytes("n,," + clientFirstBare)).ConfigureAwait(false));
        var fields = serverFirst.Split(',').Where(f => f.Length > 2 && f[1] == '=').ToDictionary(f => f[0], f => f[2..]);
        if (!fields.TryGetValue('r', out var nonce) || !nonce.StartsWith(clientNonce, StringComparison.Ordinal)
            || !fields.TryGetValue('s', out var salt) || !fields.TryGetValue('i', out var iterationsText) || !int.TryParse(iterationsText, out var iterations))
        {
            throw new AdminException(AdminErrorKind.NotAuthorized, $"SASL {SaslMechanism}: unexpected server message '{serverFirst}'");
        }
        var hash = sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Password!), Convert.FromBase64String(salt), iterations, hash, sha512 ? 64 : 32);
        byte[] Hmac(byte[] key, string data) => sha512 ? HMACSHA512.HashData(key, Encoding.UTF8.GetBytes(data)) : HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
        var clientKey = Hmac(salted, "Client Key");
        var storedKey = sha512 ? SHA512.HashData(clientKey) : SHA256.HashData(clientKey);
        var withoutProof = $"c=biws,r={nonce}";
        var authMessage = $"{clientFirstBare},{serverFirst},{withoutProof}";
        var signature = Hmac(storedKey, authMessage);
        var proof = clientKey.Select((b, i) => (byte)(b ^ signature[i])).ToArray();
        var serverFinal = Encoding.UTF8.GetString(await exchange(Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}")).ConfigureAwait(false));
        var expected = "v=" + Convert.ToBase64String(Hmac(Hmac(salted, "Server Key"), authMessage));
        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(serverFinal), Encoding.UTF8.GetBytes(expected)))
            throw new AdminException(AdminErrorKind.NotAuthorized, $"SASL {SaslMechanism}: the broker's signature does not match (wrong server?)");
    }
}
