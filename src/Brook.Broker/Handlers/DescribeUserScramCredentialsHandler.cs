using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeUserScramCredentials (key 50), v0: mechanisms and iteration counts per user (never salts or keys); every
/// user when none is named. Needs CLUSTER DESCRIBE.
/// </summary>
public sealed class DescribeUserScramCredentialsHandler(ScramCredentialStore credentials) : RequestHandler<DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse>
{
    protected override ValueTask<DescribeUserScramCredentialsResponse?> HandleAsync(RequestContext context, DescribeUserScramCredentialsRequest request, CancellationToken cancellationToken)
    {
        var response = new DescribeUserScramCredentialsResponse { ErrorMessage = null };
        if (!context.IsClusterAllowed(AclOperation.Describe))
        {
            response.ErrorCode = (short)ErrorCode.ClusterAuthorizationFailed;
            response.ErrorMessage = "Not authorized to describe SCRAM credentials (needs DESCRIBE on the cluster).";
            return ValueTask.FromResult<DescribeUserScramCredentialsResponse?>(response);
        }
        foreach (var user in credentials.Describe(request.Users?.Select(u => u.Name).ToList()))
        {
            response.Results.Add(new DescribeUserScramCredentialsResponse.DescribeUserScramCredentialsResult
            {
                User = user.User,
                ErrorCode = (short)user.Error,
                ErrorMessage = user.Message,
                CredentialInfos = user.Credentials.Select(c => new DescribeUserScramCredentialsResponse.CredentialInfo { Mechanism = (sbyte)c.Mechanism, Iterations = c.Iterations }).ToList(),
            });
        }
        return ValueTask.FromResult<DescribeUserScramCredentialsResponse?>(response);
    }
}
