using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// DeleteAcls (key 31), v0-3: removes every ACL matching any filter and reports, per filter, the ACLs it matched.
/// Needs CLUSTER ALTER. v1: pattern types; v2: flexible.
/// </summary>
public sealed class DeleteAclsHandler(AclStore acls) : RequestHandler<DeleteAclsRequest, DeleteAclsResponse>
{
    protected override ValueTask<DeleteAclsResponse?> HandleAsync(RequestContext context, DeleteAclsRequest request, CancellationToken cancellationToken)
    {
        var response = new DeleteAclsResponse();
        var (error, message) = !context.IsClusterAllowed(AclOperation.Alter) ? (ErrorCode.ClusterAuthorizationFailed, "Not authorized to delete ACLs (needs ALTER on the cluster).")
            : !context.Authorizer.IsEnabled ? (ErrorCode.SecurityDisabled, "No Authorizer is configured.")
            : (ErrorCode.None, (string?)null);
        var valid = new List<(AclBindingFilter Filter, DeleteAclsResponse.DeleteAclsFilterResult Result)>();
        foreach (var f in request.Filters)
        {
            var result = new DeleteAclsResponse.DeleteAclsFilterResult { ErrorCode = (short)error, ErrorMessage = message };
            response.FilterResults.Add(result);
            if (error != ErrorCode.None) continue;
            var filter = new AclBindingFilter(
                (ResourceType)f.ResourceTypeFilter, f.ResourceNameFilter, (PatternType)f.PatternTypeFilter,
                f.PrincipalFilter, f.HostFilter, (AclOperation)f.Operation, (AclPermissionType)f.PermissionType);
            if (filter.Validate() is { } invalid)
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = invalid;
                continue;
            }
            valid.Add((filter, result));
        }
        if (valid.Count == 0) return ValueTask.FromResult<DeleteAclsResponse?>(response);
        try
        {
            var matched = acls.Delete(valid.Select(v => v.Filter).ToList());
            for (var i = 0; i < valid.Count; i++)
            {
                valid[i].Result.MatchingAcls = matched[i].Select(a => new DeleteAclsResponse.DeleteAclsMatchingAcl
                {
                    ErrorMessage = null,
                    ResourceType = (sbyte)a.Pattern.Type,
                    ResourceName = a.Pattern.Name,
                    PatternType = (sbyte)a.Pattern.PatternType,
                    Principal = a.Entry.Principal,
                    Host = a.Entry.Host,
                    Operation = (sbyte)a.Entry.Operation,
                    PermissionType = (sbyte)a.Entry.Permission,
                }).ToList();
            }
        }
        catch (IOException ex)
        {
            foreach (var (_, result) in valid)
            {
                result.ErrorCode = (short)ErrorCode.UnknownServerError;
                result.ErrorMessage = $"The ACLs could not be deleted: {ex.Message}";
            }
        }
        return ValueTask.FromResult<DeleteAclsResponse?>(response);
    }
}
