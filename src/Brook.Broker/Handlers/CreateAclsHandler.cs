using Brook.Broker.Security;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// CreateAcls (key 30), v0-3: one result per ACL, in order; invalid ACLs get INVALID_REQUEST and the valid ones are
/// stored together. Needs CLUSTER ALTER. v1: pattern types (v0 creates LITERAL ACLs); v2: flexible.
/// </summary>
public sealed class CreateAclsHandler(AclStore acls) : RequestHandler<CreateAclsRequest, CreateAclsResponse>
{
    protected override ValueTask<CreateAclsResponse?> HandleAsync(RequestContext context, CreateAclsRequest request, CancellationToken cancellationToken)
    {
        var response = new CreateAclsResponse();
        var (error, message) = !context.IsClusterAllowed(AclOperation.Alter) ? (ErrorCode.ClusterAuthorizationFailed, "Not authorized to create ACLs (needs ALTER on the cluster).")
            : !context.Authorizer.IsEnabled ? (ErrorCode.SecurityDisabled, "No Authorizer is configured.")
            : (ErrorCode.None, (string?)null);
        var valid = new List<(AclBinding Binding, CreateAclsResponse.AclCreationResult Result)>();
        foreach (var creation in request.Creations)
        {
            var result = new CreateAclsResponse.AclCreationResult { ErrorCode = (short)error, ErrorMessage = message };
            response.Results.Add(result);
            if (error != ErrorCode.None) continue;
            var binding = new AclBinding(
                new ResourcePattern((ResourceType)creation.ResourceType, creation.ResourceName, (PatternType)creation.ResourcePatternType),
                new AccessControlEntry(creation.Principal, creation.Host, (AclOperation)creation.Operation, (AclPermissionType)creation.PermissionType));
            if (Acl.ValidateNew(binding) is { } invalid)
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = invalid;
                continue;
            }
            valid.Add((binding, result));
        }
        try
        {
            if (valid.Count > 0) acls.Create(valid.Select(v => v.Binding).ToList());
        }
        catch (IOException ex)
        {
            foreach (var (_, result) in valid)
            {
                result.ErrorCode = (short)ErrorCode.UnknownServerError;
                result.ErrorMessage = $"The ACLs could not be stored: {ex.Message}";
            }
        }
        return ValueTask.FromResult<CreateAclsResponse?>(response);
    }
}
