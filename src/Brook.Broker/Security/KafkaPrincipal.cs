using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Brook.Broker.Security;

/// <summary>Who a connection authenticated as, in Kafka's "Type:Name" form (e.g. User:alice).</summary>
public readonly record struct KafkaPrincipal(string Type, string Name)
{
    public const string UserType = "User";

    /// <summary>The principal of connections that did not authenticate (PLAINTEXT, SSL without a client certificate).</summary>
    public static readonly KafkaPrincipal Anonymous = new(UserType, "ANONYMOUS");

    public static KafkaPrincipal User(string name) => new(UserType, name);

    /// <summary>Splits at the first ':'; the type must not be empty.</summary>
    public static bool TryParse(string? text, out KafkaPrincipal principal)
    {
        principal = default;
        var colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon <= 0) return false;
        principal = new KafkaPrincipal(text![..colon], text[(colon + 1)..]);
        return true;
    }

    /// <summary>
    /// Kafka's default principal for a TLS client: User: followed by the certificate subject as an RFC 2253 string
    /// (most specific name first, no spaces after commas), e.g. User:CN=client,OU=dev,O=Example,C=NL.
    /// </summary>
    public static KafkaPrincipal FromCertificate(X509Certificate2 certificate) => User(Rfc2253(certificate.SubjectName));

    public override string ToString() => $"{Type}:{Name}";

    /// <summary>A distinguished name as Java's X500Principal.getName() renders it.</summary>
    public static string Rfc2253(X500DistinguishedName name)
    {
        var builder = new StringBuilder();
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
        {
            if (builder.Length > 0) builder.Append(',');
            if (rdn.HasMultipleElements)
            {
                // Rare; rendered as its DER encoding, which still identifies the certificate uniquely.
                builder.Append('#').Append(Convert.ToHexStringLower(rdn.RawData.Span));
                continue;
            }
            var oid = rdn.GetSingleElementType();
            var keyword = oid.Value switch
            {
                "2.5.4.3" => "CN",
                "2.5.4.6" => "C",
                "2.5.4.7" => "L",
                "2.5.4.8" => "ST",
                "2.5.4.9" => "STREET",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "0.9.2342.19200300.100.1.25" => "DC",
                "0.9.2342.19200300.100.1.1" => "UID",
                _ => oid.Value ?? "",
            };
            builder.Append(keyword).Append('=');
            AppendEscaped(builder, rdn.GetSingleElementValue() ?? "");
        }
        return builder.ToString();
    }

    private static void AppendEscaped(StringBuilder builder, string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var escape = c is ',' or '+' or '"' or '\\' or '<' or '>' or ';'
                || (i == 0 && c is '#' or ' ')
                || (i == value.Length - 1 && c == ' ');
            if (escape) builder.Append('\\');
            builder.Append(c);
        }
    }
}
