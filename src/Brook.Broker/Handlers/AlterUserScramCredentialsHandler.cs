using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// AlterUserScramCredentials (key 51), v0: deletes credentials and upserts them from the salted password the client
/// computed (the broker keeps salt, iterations, stored key and server key). Needs CLUSTER ALTER. Iterations must be
/// 4096-16384; a user may appear once per request.
/// </summary>
public sealed class AlterUserScramCredentialsHandler(ScramCredentialStore credentials) : RequestHandler<AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse>
{
    protected override ValueTask<AlterUserScramCredentialsResponse?> HandleAsync(RequestContext context, AlterUserScramCredentialsRequest request, CancellationToken cancellationToken)
    {
        var response = new AlterUserScramCredentialsResponse();
        if (!context.IsClusterAllowed(AclOperation.Alter))
        {
            foreach (var user in request.Deletions.Select(d => d.Name).Concat(request.Upsertions.Select(u => u.Name)).Distinct(StringComparer.Ordinal))
                response.Results.Add(new() { User = user, ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed, ErrorMessage = "Not authorized to alter SCRAM credentials (needs ALTER on the cluster)." });
            return ValueTask.FromResult<AlterUserScramCredentialsResponse?>(response);
        }
        IReadOnlyList<ScramAlterResult> results;
        try
        {
            results = credentials.Alter(
                request.Deletions.Select(d => (d.Name, (ScramMechanism)d.Mechanism)).ToList(),
                request.Upsertions.Select(u => (u.Name, (ScramMechanism)u.Mechanism, u.Iterations, u.Salt, u.SaltedPassword)).ToList());
        }
        catch (IOException ex)
        {
            results = request.Deletions.Select(d => d.Name).Concat(request.Upsertions.Select(u => u.Name)).Distinct(StringComparer.Ordinal)
                .Select(u => new ScramAlterResult(u, ErrorCode.UnknownServerError, $"The credentials could not be stored: {ex.Message}")).ToList();
        }
        foreach (var r in results)
            response.Results.Add(new() { User = r.User, ErrorCode = (short)r.Error, ErrorMessage = r.Message });
        return ValueTask.FromResult<AlterUserScramCredentialsResponse?>(response);
    }
}
