using System.Text.Json;
using Brook.Protocol;
using Brook.Storage;

namespace Brook.Broker.Security;

/// <summary>A user's credential change and its outcome, as AlterUserScramCredentials reports it.</summary>
public readonly record struct ScramAlterResult(string User, ErrorCode Error, string? Message);

/// <summary>One user's credentials, or why they cannot be described.</summary>
public readonly record struct ScramUserDescription(string User, ErrorCode Error, string? Message, IReadOnlyList<(ScramMechanism Mechanism, int Iterations)> Credentials);

/// <summary>
/// SCRAM credentials by user and mechanism. Reads use an immutable snapshot; changes are serialized, written durably
/// and then published. On disk (when not in memory): <c>security/scram-credentials.json</c> under the data directory
/// (owner read/write only), replaced atomically on every change:
/// <c>{"version":1,"credentials":[{"user":"alice","mechanism":"SCRAM-SHA-256","iterations":8192,"salt":"…","storedKey":"…","serverKey":"…"}]}</c>
/// with base64 byte fields.
/// </summary>
public sealed class ScramCredentialStore
{
    private const int FormatVersion = 1;
    private readonly Lock _changes = new();
    private readonly string? _path;
    private volatile Dictionary<(string User, ScramMechanism Mechanism), ScramCredential> _credentials;

    private ScramCredentialStore(string? path, Dictionary<(string, ScramMechanism), ScramCredential> credentials)
    {
        _path = path;
        _credentials = credentials;
    }

    public static ScramCredentialStore InMemory() => new(null, []);

    /// <summary>Loads <c>scram-credentials.json</c> from <paramref name="directory"/> (created when missing).</summary>
    public static ScramCredentialStore Open(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "scram-credentials.json");
        return new ScramCredentialStore(path, File.Exists(path) ? Read(path) : []);
    }

    public ScramCredential? Get(string user, ScramMechanism mechanism) => _credentials.GetValueOrDefault((user, mechanism));

    /// <summary>Sets a user's password for one mechanism (for embedding and tools; clients use <see cref="Alter"/>).</summary>
    public void SetPassword(string user, ScramMechanism mechanism, string password, int iterations = 8192)
    {
        if (user.Length == 0 || mechanism == ScramMechanism.Unknown || iterations is < Scram.MinIterations or > Scram.MaxIterations)
            throw new ArgumentException("A SCRAM credential needs a user name, a known mechanism and 4096-16384 iterations.");
        lock (_changes)
        {
            var next = new Dictionary<(string, ScramMechanism), ScramCredential>(_credentials) { [(user, mechanism)] = Scram.FromPassword(mechanism, password, iterations) };
            Publish(next);
        }
    }

    /// <summary>
    /// Kafka's DescribeUserScramCredentials: every user with credentials when <paramref name="users"/> is null or empty;
    /// a user named twice is DUPLICATE_RESOURCE, an unknown one RESOURCE_NOT_FOUND.
    /// </summary>
    public IReadOnlyList<ScramUserDescription> Describe(IReadOnlyList<string>? users)
    {
        var snapshot = _credentials;
        var names = users is { Count: > 0 } ? users.Distinct(StringComparer.Ordinal) : snapshot.Keys.Select(k => k.User).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var result = new List<ScramUserDescription>();
        foreach (var user in names)
        {
            if (users is { Count: > 0 } && users.Count(u => u == user) > 1)
            {
                result.Add(new(user, ErrorCode.DuplicateResource, $"Cannot describe SCRAM credentials for the same user twice in a single request: {user}", []));
                continue;
            }
            var found = snapshot.Where(c => c.Key.User == user).OrderBy(c => c.Key.Mechanism).Select(c => (c.Key.Mechanism, c.Value.Iterations)).ToList();
            result.Add(found.Count > 0
                ? new(user, ErrorCode.None, null, found)
                : new(user, ErrorCode.ResourceNotFound, $"Attempt to describe a user credential that does not exist: {user}", []));
        }
        return result;
    }

    /// <summary>
    /// Kafka's AlterUserScramCredentials: deletions and upsertions (with the salted password as the client computed
    /// it) applied together in one durable write. A user may appear once per request; the rest is validated per user.
    /// </summary>
    public IReadOnlyList<ScramAlterResult> Alter(
        IReadOnlyList<(string User, ScramMechanism Mechanism)> deletions,
        IReadOnlyList<(string User, ScramMechanism Mechanism, int Iterations, byte[] Salt, byte[] SaltedPassword)> upsertions)
    {
        lock (_changes)
        {
            var next = new Dictionary<(string, ScramMechanism), ScramCredential>(_credentials);
            var results = new Dictionary<string, ScramAlterResult>(StringComparer.Ordinal);
            var order = new List<string>();
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var user in deletions.Select(d => d.User).Concat(upsertions.Select(u => u.User)))
            {
                if (seen.TryAdd(user, 1)) order.Add(user);
                else seen[user]++;
            }
            foreach (var user in order.Where(u => seen[u] > 1))
                results[user] = new(user, ErrorCode.DuplicateResource, "A user credential cannot be altered twice in the same request");

            foreach (var (user, mechanism) in deletions)
            {
                if (results.ContainsKey(user)) continue;
                var error = ValidateUser(user, mechanism)
                    ?? (next.Remove((user, mechanism)) ? null : new ScramAlterResult(user, ErrorCode.ResourceNotFound, "Attempt to delete a user credential that does not exist"));
                results[user] = error ?? new(user, ErrorCode.None, null);
            }
            foreach (var (user, mechanism, iterations, salt, saltedPassword) in upsertions)
            {
                if (results.ContainsKey(user)) continue;
                var error = ValidateUser(user, mechanism)
                    ?? (iterations < Scram.MinIterations ? new(user, ErrorCode.UnacceptableCredential, "Too few iterations")
                        : iterations > Scram.MaxIterations ? new(user, ErrorCode.UnacceptableCredential, "Too many iterations")
                        : salt.Length == 0 || saltedPassword.Length == 0 ? new ScramAlterResult(user, ErrorCode.UnacceptableCredential, "Salt and salted password must not be empty")
                        : null);
                if (error is null) next[(user, mechanism)] = Scram.FromSaltedPassword(mechanism, salt, saltedPassword, iterations);
                results[user] = error ?? new(user, ErrorCode.None, null);
            }
            if (results.Values.Any(r => r.Error == ErrorCode.None)) Publish(next);
            return order.Select(u => results[u]).ToList();
        }
    }

    private static ScramAlterResult? ValidateUser(string user, ScramMechanism mechanism) =>
        user.Length == 0 ? new(user, ErrorCode.UnacceptableCredential, "Username must not be empty")
        : mechanism is not (ScramMechanism.ScramSha256 or ScramMechanism.ScramSha512) ? new(user, ErrorCode.UnsupportedSaslMechanism, "Unknown SCRAM mechanism")
        : null;

    private void Publish(Dictionary<(string User, ScramMechanism Mechanism), ScramCredential> credentials)
    {
        if (_path is not null)
        {
            DurableFiles.WriteAtomically(_path, Serialize(credentials));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        _credentials = credentials;
    }

    private static byte[] Serialize(Dictionary<(string User, ScramMechanism Mechanism), ScramCredential> credentials)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("version", FormatVersion);
            json.WriteStartArray("credentials");
            foreach (var ((user, mechanism), credential) in credentials.OrderBy(c => c.Key.User, StringComparer.Ordinal).ThenBy(c => c.Key.Mechanism))
            {
                json.WriteStartObject();
                json.WriteString("user", user);
                json.WriteString("mechanism", Scram.Name(mechanism));
                json.WriteNumber("iterations", credential.Iterations);
                json.WriteBase64String("salt", credential.Salt);
                json.WriteBase64String("storedKey", credential.StoredKey);
                json.WriteBase64String("serverKey", credential.ServerKey);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static Dictionary<(string, ScramMechanism), ScramCredential> Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.GetProperty("version").GetInt32() != FormatVersion) throw new InvalidDataException($"{path} has an unknown version.");
            var result = new Dictionary<(string, ScramMechanism), ScramCredential>();
            foreach (var item in root.GetProperty("credentials").EnumerateArray())
            {
                var mechanism = Scram.FromName(item.GetProperty("mechanism").GetString() ?? "");
                if (mechanism == ScramMechanism.Unknown) throw new InvalidDataException($"{path} names an unknown mechanism.");
                result[(item.GetProperty("user").GetString() ?? "", mechanism)] = new ScramCredential(
                    item.GetProperty("salt").GetBytesFromBase64(), item.GetProperty("storedKey").GetBytesFromBase64(),
                    item.GetProperty("serverKey").GetBytesFromBase64(), item.GetProperty("iterations").GetInt32());
            }
            return result;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"The SCRAM credential file {path} is damaged: {ex.Message}", ex);
        }
    }
}
