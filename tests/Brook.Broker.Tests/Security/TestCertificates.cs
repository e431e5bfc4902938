using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Brook.Broker.Tests.Security;

/// <summary>
/// A test PKI made fresh for each test class: a CA, a broker certificate for 127.0.0.1/localhost signed by it, a
/// client certificate signed by it, and a client certificate from another CA that the broker must not trust. Written
/// as PEM (and the broker's also as PKCS12) to a temporary directory that disposal removes.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string ClientSubject = "CN=client,OU=dev,O=Brook Test";
    public const string Pkcs12Password = "brook-test";

    private TestCertificates(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>The CA certificate (clients' ssl.ca.location, the broker's trust store).</summary>
    public string CaPem => Path.Combine(Directory, "ca.pem");

    /// <summary>The broker's certificate followed by its private key, in one PEM file.</summary>
    public string BrokerPem => Path.Combine(Directory, "broker.pem");

    public string BrokerP12 => Path.Combine(Directory, "broker.p12");

    public string ClientCertificatePem => Path.Combine(Directory, "client.pem");

    public string ClientKeyPem => Path.Combine(Directory, "client.key");

    public string UntrustedClientCertificatePem => Path.Combine(Directory, "untrusted-client.pem");

    public string UntrustedClientKeyPem => Path.Combine(Directory, "untrusted-client.key");

    public static TestCertificates Create()
    {
        var certificates = new TestCertificates(System.IO.Directory.CreateTempSubdirectory("brook-tls-").FullName);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = CreateAuthority("CN=Brook Test CA", caKey);
        File.WriteAllText(certificates.CaPem, ca.ExportCertificatePem());

        using var brokerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var broker = Issue(ca, caKey, "CN=localhost", brokerKey, serverAuth: true);
        File.WriteAllText(certificates.BrokerPem, broker.ExportCertificatePem() + "\n" + brokerKey.ExportPkcs8PrivateKeyPem());
        using (var withKey = broker.CopyWithPrivateKey(brokerKey))
            File.WriteAllBytes(certificates.BrokerP12, withKey.Export(X509ContentType.Pkcs12, Pkcs12Password));

        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var client = Issue(ca, caKey, "CN=client, OU=dev, O=Brook Test", clientKey, serverAuth: false);
        File.WriteAllText(certificates.ClientCertificatePem, client.ExportCertificatePem());
        File.WriteAllText(certificates.ClientKeyPem, clientKey.ExportPkcs8PrivateKeyPem());

        using var otherCaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherCa = CreateAuthority("CN=Someone Else's CA", otherCaKey);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = Issue(otherCa, otherCaKey, "CN=intruder", otherKey, serverAuth: false);
        File.WriteAllText(certificates.UntrustedClientCertificatePem, other.ExportCertificatePem());
        File.WriteAllText(certificates.UntrustedClientKeyPem, otherKey.ExportPkcs8PrivateKeyPem());
        return certificates;
    }

    private static X509Certificate2 CreateAuthority(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 issuer, ECDsa issuerKey, string subject, ECDsa key, bool serverAuth)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(serverAuth ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (serverAuth)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName("localhost");
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }
        var generator = X509SignatureGenerator.CreateForECDsa(issuerKey);
        return request.Create(issuer.SubjectName, generator, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(12));
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
