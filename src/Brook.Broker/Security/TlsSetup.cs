using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Brook.Broker.Security;

/// <summary>
/// Turns a listener's ssl.* settings into Kestrel's TLS options. Key stores: PKCS12 (ssl.keystore.location +
/// ssl.keystore.password) or PEM (ssl.keystore.type=PEM with ssl.keystore.location holding the certificate chain and,
/// unless ssl.key.location names a separate file, the private key; or Kafka's inline ssl.keystore.certificate.chain +
/// ssl.keystore.key; ssl.key.password decrypts an encrypted key). Trust stores for client certificates: PEM
/// (ssl.truststore.location or inline ssl.truststore.certificates) or PKCS12. JKS is not supported.
/// </summary>
internal static class TlsSetup
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2");

    /// <summary>
    /// The listener's TLS as SslStream options, loaded from its files or inline PEM; thrown ArgumentException when they
    /// cannot be used. Served per connection (<see cref="TlsListenerState"/>), so a dynamic change takes effect for new
    /// connections without a restart.
    /// </summary>
    public static SslServerAuthenticationOptions CreateAuthenticationOptions(TlsSettings tls)
    {
        foreach (var (setting, path) in new[] { ("ssl.keystore.location", tls.KeystoreLocation), ("ssl.key.location", tls.KeyLocation), ("ssl.truststore.location", tls.TruststoreLocation) })
            if (path is not null && !File.Exists(path)) throw new ArgumentException($"Listener {tls.Listener}: {setting} '{path}' does not exist.");
        var (certificate, chain) = LoadKeystore(tls);
        var trusted = LoadTruststore(tls);
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = SslStreamCertificateContext.Create(certificate, chain, offline: true),
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            ClientCertificateRequired = tls.ClientAuth != ClientAuth.None,
        };
        if (tls.ClientAuth != ClientAuth.None)
        {
            var optional = tls.ClientAuth == ClientAuth.Requested;
            options.RemoteCertificateValidationCallback = (_, presented, presentedChain, errors) => presented switch
            {
                null => optional,
                X509Certificate2 client => IsTrusted(client, presentedChain, errors, trusted),
                _ => IsTrusted(X509CertificateLoader.LoadCertificate(presented.GetRawCertData()), presentedChain, errors, trusted),
            };
        }
        return options;
    }

    public static HttpsConnectionAdapterOptions CreateOptions(TlsSettings tls)
    {
        foreach (var (setting, path) in new[] { ("ssl.keystore.location", tls.KeystoreLocation), ("ssl.key.location", tls.KeyLocation), ("ssl.truststore.location", tls.TruststoreLocation) })
            if (path is not null && !File.Exists(path)) throw new ArgumentException($"Listener {tls.Listener}: {setting} '{path}' does not exist.");
        var (certificate, chain) = LoadKeystore(tls);
        var trusted = LoadTruststore(tls);
        var options = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            ServerCertificateChain = chain,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            CheckCertificateRevocation = false,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            ClientCertificateMode = tls.ClientAuth switch
            {
                ClientAuth.Required => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
                ClientAuth.Requested => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate,
                _ => Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.NoCertificate,
            },
        };
        if (tls.ClientAuth != ClientAuth.None)
            options.ClientCertificateValidation = (client, presented, errors) => IsTrusted(client, presented, errors, trusted);
        return options;
    }

    /// <summary>With a trust store, the client's chain must end at one of its certificates; without one, at a system root.</summary>
    private static bool IsTrusted(X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors, X509Certificate2Collection trusted)
    {
        if (trusted.Count == 0) return errors == SslPolicyErrors.None;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (presented is not null)
            foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        return chain.Build(certificate);
    }

    private static (X509Certificate2 Certificate, X509Certificate2Collection Chain) LoadKeystore(TlsSettings tls)
    {
        try
        {
            if (tls.KeystoreCertificateChain is { } inlineChain)
            {
                var key = tls.KeystoreKey ?? throw new ArgumentException("ssl.keystore.certificate.chain needs ssl.keystore.key.");
                return FromPem(inlineChain, key, tls.KeyPassword);
            }
            var location = tls.KeystoreLocation!;
            if (IsPem(tls.KeystoreType, location))
            {
                var certificates = File.ReadAllText(location);
                return FromPem(certificates, tls.KeyLocation is { } keyFile ? File.ReadAllText(keyFile) : certificates, tls.KeyPassword);
            }
            RejectJks(tls.KeystoreType, "ssl.keystore.type");
            var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(location, tls.KeystorePassword, X509KeyStorageFlags.Exportable);
            var leaf = all.FirstOrDefault(c => c.HasPrivateKey) ?? throw new ArgumentException($"{location} holds no private key.");
            var chain = new X509Certificate2Collection();
            foreach (var c in all)
                if (!ReferenceEquals(c, leaf)) chain.Add(c);
            return (leaf, chain);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"Listener {tls.Listener}: cannot load its certificate and key: {ex.Message}", ex);
        }
    }

    private static (X509Certificate2, X509Certificate2Collection) FromPem(string certificates, string key, string? keyPassword)
    {
        using var leaf = keyPassword is null ? X509Certificate2.CreateFromPem(certificates, key) : X509Certificate2.CreateFromEncryptedPem(certificates, key, keyPassword);
        // A key imported from PEM is ephemeral; a PKCS12 round trip gives a key every platform's TLS stack accepts.
        var usable = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        var all = new X509Certificate2Collection();
        all.ImportFromPem(certificates);
        var chain = new X509Certificate2Collection();
        foreach (var c in all)
            if (c.Thumbprint != usable.Thumbprint) chain.Add(c);
        return (usable, chain);
    }

    private static X509Certificate2Collection LoadTruststore(TlsSettings tls)
    {
        var trusted = new X509Certificate2Collection();
        try
        {
            if (tls.TruststoreCertificates is { } inline) trusted.ImportFromPem(inline);
            if (tls.TruststoreLocation is { } location)
            {
                if (IsPem(tls.TruststoreType, location)) trusted.ImportFromPem(File.ReadAllText(location));
                else
                {
                    RejectJks(tls.TruststoreType, "ssl.truststore.type");
                    trusted.AddRange(X509CertificateLoader.LoadPkcs12CollectionFromFile(location, tls.TruststorePassword));
                }
            }
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"Listener {tls.Listener}: cannot load its trust store: {ex.Message}", ex);
        }
        if (tls.ClientAuth != ClientAuth.None && trusted.Count == 0 && (tls.TruststoreLocation ?? tls.TruststoreCertificates) is not null)
            throw new ArgumentException($"Listener {tls.Listener}: the trust store holds no certificate.");
        return trusted;
    }

    /// <summary>PEM when the type says so, or, with no type, when the file name says so.</summary>
    private static bool IsPem(string? type, string location) =>
        type is not null ? type.Equals("PEM", StringComparison.OrdinalIgnoreCase)
        : Path.GetExtension(location).ToLowerInvariant() is ".pem" or ".crt" or ".cer" or ".key";

    private static void RejectJks(string? type, string setting)
    {
        if (type is not null && !type.Equals("PKCS12", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{setting}={type} is not supported: use PKCS12 or PEM.");
    }
}

/// <summary>A TLS listener's current certificate and trust settings, read per handshake and replaced by a dynamic config change.</summary>
public sealed class TlsListenerState(string listener, SslServerAuthenticationOptions initial)
{
    private volatile SslServerAuthenticationOptions _current = initial;

    public string Listener { get; } = listener;

    public SslServerAuthenticationOptions Current => _current;

    public void Replace(SslServerAuthenticationOptions next) => _current = next;
}
