using System.Security.Cryptography;
using System.Text;

namespace Brook.Broker.Security;

/// <summary>SCRAM mechanisms with Kafka's wire codes (DescribeUserScramCredentials, AlterUserScramCredentials).</summary>
public enum ScramMechanism : sbyte
{
    Unknown = 0,
    ScramSha256 = 1,
    ScramSha512 = 2,
}

/// <summary>
/// What the broker keeps of a SCRAM password (RFC 5802): the salt, the iteration count, StoredKey = H(HMAC(SaltedPassword,
/// "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key"). Neither the password nor the salted password is kept.
/// </summary>
public sealed record ScramCredential(byte[] Salt, byte[] StoredKey, byte[] ServerKey, int Iterations);

/// <summary>The SCRAM computations of RFC 5802 for SHA-256 (RFC 7677) and SHA-512.</summary>
public static class Scram
{
    /// <summary>Kafka's bounds on the iteration count of a stored credential.</summary>
    public const int MinIterations = 4096;

    public const int MaxIterations = 16384;

    public const string Sha256Name = "SCRAM-SHA-256";

    public const string Sha512Name = "SCRAM-SHA-512";

    public static string Name(ScramMechanism mechanism) => mechanism switch
    {
        ScramMechanism.ScramSha256 => Sha256Name,
        ScramMechanism.ScramSha512 => Sha512Name,
        _ => "UNKNOWN",
    };

    public static ScramMechanism FromName(string name) => name switch
    {
        Sha256Name => ScramMechanism.ScramSha256,
        Sha512Name => ScramMechanism.ScramSha512,
        _ => ScramMechanism.Unknown,
    };

    /// <summary>Hi(password, salt, i) of RFC 5802: PBKDF2 with the mechanism's HMAC, one hash length of output.</summary>
    public static byte[] SaltedPassword(ScramMechanism mechanism, string password, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashName(mechanism), HashLength(mechanism));

    /// <summary>The stored form of a salted password, as AlterUserScramCredentials sends it.</summary>
    public static ScramCredential FromSaltedPassword(ScramMechanism mechanism, byte[] salt, byte[] saltedPassword, int iterations)
    {
        var clientKey = Hmac(mechanism, saltedPassword, "Client Key"u8);
        return new ScramCredential(salt, Hash(mechanism, clientKey), Hmac(mechanism, saltedPassword, "Server Key"u8), iterations);
    }

    /// <summary>A new credential from a password with a random salt.</summary>
    public static ScramCredential FromPassword(ScramMechanism mechanism, string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(HashLength(mechanism));
        return FromSaltedPassword(mechanism, salt, SaltedPassword(mechanism, password, salt, iterations), iterations);
    }

    public static byte[] Hmac(ScramMechanism mechanism, byte[] key, ReadOnlySpan<byte> data) => mechanism switch
    {
        ScramMechanism.ScramSha256 => HMACSHA256.HashData(key, data),
        ScramMechanism.ScramSha512 => HMACSHA512.HashData(key, data),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism)),
    };

    public static byte[] Hash(ScramMechanism mechanism, ReadOnlySpan<byte> data) => mechanism switch
    {
        ScramMechanism.ScramSha256 => SHA256.HashData(data),
        ScramMechanism.ScramSha512 => SHA512.HashData(data),
        _ => throw new ArgumentOutOfRangeException(nameof(mechanism)),
    };

    public static int HashLength(ScramMechanism mechanism) => mechanism == ScramMechanism.ScramSha512 ? 64 : 32;

    private static HashAlgorithmName HashName(ScramMechanism mechanism) =>
        mechanism == ScramMechanism.ScramSha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
}
