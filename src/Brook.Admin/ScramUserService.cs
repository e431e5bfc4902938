using System.Security.Cryptography;
using System.Text;
using Brook.Protocol.Messages;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Admin;

public sealed record ScramCredential(ScramMechanism Mechanism, int Iterations);

public sealed record ScramUser(string User, IReadOnlyList<ScramCredential> Credentials);

/// <summary>SCRAM users (DescribeUserScramCredentials, AlterUserScramCredentials): list, upsert, delete.</summary>
public sealed class ScramUserService
{
    /// <summary>Kafka's minimum iteration count for SCRAM credentials.</summary>
    public const int DefaultIterations = 4096;

    private readonly KafkaAdmin _admin;

    internal ScramUserService(KafkaAdmin admin) => _admin = admin;

    /// <summary>
    /// Users with SCRAM credentials; all of them when <paramref name="users"/> is empty. Sent on a connection of its own:
    /// Confluent.Kafka's DescribeUserScramCredentials cannot read an empty answer (no users yet) and then stops delivering
    /// every result of its admin client, so the shared client never makes this call.
    /// </summary>
    public async Task<IReadOnlyList<ScramUser>> ListAsync(IReadOnlyList<string> users, CancellationToken cancellationToken = default)
    {
        var request = new DescribeUserScramCredentialsRequest
        {
            Users = users.Count == 0 ? null : users.Select(u => new DescribeUserScramCredentialsRequest.UserName { Name = u }).ToList(),
        };
        var response = await _admin.OnAnyBrokerAsync(async (connection, ct) =>
        {
            var version = connection.NegotiatedVersion(ApiKeys.DescribeUserScramCredentials)
                ?? throw new AdminException(AdminErrorKind.Unsupported, "list SCRAM users: the cluster does not support DescribeUserScramCredentials") { Code = ErrorCode.UnsupportedVersion };
            return await connection.SendAsync<DescribeUserScramCredentialsResponse>(request, version, ct).ConfigureAwait(false);
        }, "list SCRAM users", cancellationToken).ConfigureAwait(false);
        if (response.ErrorCode != 0) throw AdminException.From(new Error((ErrorCode)response.ErrorCode, response.ErrorMessage), "list SCRAM users");
        foreach (var result in response.Results.Where(r => r.ErrorCode != 0))
        {
            var code = (ErrorCode)result.ErrorCode;
            throw AdminException.From(new Error(code, result.ErrorMessage),
                code == ErrorCode.ResourceNotFound ? $"user '{result.User}' has no SCRAM credentials" : $"user '{result.User}'");
        }
        return response.Results
            .Select(r => new ScramUser(r.User, r.CredentialInfos.Select(i => new ScramCredential((ScramMechanism)i.Mechanism, i.Iterations)).ToList()))
            .OrderBy(u => u.User, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Creates or replaces a user's credential for one mechanism. The salt is random.</summary>
    public Task UpsertAsync(string user, string password, ScramMechanism mechanism, int iterations = DefaultIterations, CancellationToken cancellationToken = default)
    {
        var upsert = new UserScramCredentialUpsertion
        {
            User = user,
            ScramCredentialInfo = new ScramCredentialInfo { Mechanism = mechanism, Iterations = iterations },
            Password = Encoding.UTF8.GetBytes(password),
            Salt = RandomNumberGenerator.GetBytes(32),
        };
        return AlterAsync(upsert, $"upsert SCRAM user '{user}'", cancellationToken);
    }

    public Task DeleteAsync(string user, ScramMechanism mechanism, CancellationToken cancellationToken = default) =>
        AlterAsync(new UserScramCredentialDeletion { User = user, Mechanism = mechanism }, $"delete SCRAM user '{user}'", cancellationToken);

    public static ScramMechanism ParseMechanism(string text) => text.Replace("_", "-", StringComparison.Ordinal).ToUpperInvariant() switch
    {
        "SCRAM-SHA-256" => ScramMechanism.ScramSha256,
        "SCRAM-SHA-512" => ScramMechanism.ScramSha512,
        _ => throw AdminException.Invalid($"unknown SCRAM mechanism '{text}' (SCRAM-SHA-256, SCRAM-SHA-512)"),
    };

    public static string Format(ScramMechanism mechanism) => mechanism switch
    {
        ScramMechanism.ScramSha256 => "SCRAM-SHA-256",
        ScramMechanism.ScramSha512 => "SCRAM-SHA-512",
        _ => "UNKNOWN",
    };

    private Task AlterAsync(UserScramCredentialAlteration alteration, string context, CancellationToken cancellationToken) =>
        _admin.CallAsync(
            c => c.AlterUserScramCredentialsAsync([alteration], new AlterUserScramCredentialsOptions { RequestTimeout = _admin.Timeout }),
            context, cancellationToken,
            ex => ex is AlterUserScramCredentialsException e ? KafkaAdmin.FirstError(e.Results, r => r.Error, _ => context) : null);
}
