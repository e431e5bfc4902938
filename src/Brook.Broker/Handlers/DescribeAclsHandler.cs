using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// DescribeAcls (key 29), v0-3: the ACLs matching a filter, grouped by resource pattern. Needs CLUSTER DESCRIBE.
/// v1: pattern types (v0 sees LITERAL only); v2: flexible. SECURITY_DISABLED when no authorizer is configured.
/// </summary>
public sealed class DescribeAclsHandler(AclStore acls) : RequestHandler<DescribeAclsRequest, DescribeAclsResponse>
{
    protected override ValueTask<DescribeAclsResponse?> HandleAsync(RequestContext context, DescribeAclsRequest request, CancellationToken cancellationToken)
    {
        if (!context.IsClusterAllowed(AclOperation.Describe)) return Result(Error(ErrorCode.ClusterAuthorizationFailed, "Not authorized to describe ACLs (needs DESCRIBE on the cluster)."));
        if (!context.Authorizer.IsEnabled) return Result(Error(ErrorCode.SecurityDisabled, "No Authorizer is configured on the broker"));
        var filter = new AclBindingFilter(
            (ResourceType)request.ResourceTypeFilter, request.ResourceNameFilter, (PatternType)request.PatternTypeFilter,
            request.PrincipalFilter, request.HostFilter, (AclOperation)request.Operation, (AclPermissionType)request.PermissionType);
        if (filter.Validate() is { } invalid) return Result(Error(ErrorCode.InvalidRequest, invalid));

        var response = new DescribeAclsResponse { ErrorMessage = null };
        foreach (var group in acls.Describe(filter).GroupBy(a => a.Pattern).OrderBy(g => g.Key.Type).ThenBy(g => g.Key.Name, StringComparer.Ordinal).ThenBy(g => g.Key.PatternType))
        {
            response.Resources.Add(new DescribeAclsResponse.DescribeAclsResource
            {
                ResourceType = (sbyte)group.Key.Type,
                ResourceName = group.Key.Name,
                PatternType = (sbyte)group.Key.PatternType,
                Acls = group.Select(a => new DescribeAclsResponse.AclDescription
                {
                    Principal = a.Entry.Principal,
                    Host = a.Entry.Host,
                    Operation = (sbyte)a.Entry.Operation,
                    PermissionType = (sbyte)a.Entry.Permission,
                }).ToList(),
            });
        }
        return Result(response);
    }

    private static DescribeAclsResponse Error(ErrorCode error, string message) => new() { ErrorCode = (short)error, ErrorMessage = message };

    private static ValueTask<DescribeAclsResponse?> Result(DescribeAclsResponse response) => ValueTask.FromResult<DescribeAclsResponse?>(response);
}
