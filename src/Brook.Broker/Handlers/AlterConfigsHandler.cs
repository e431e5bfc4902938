using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>AlterConfigs (key 33): replaces a topic's whole set of overrides. Broker configs are static (set at start). Needs ALTER_CONFIGS on the topic.</summary>
public sealed class AlterConfigsHandler(TopicConfigChanges changes) : RequestHandler<AlterConfigsRequest, AlterConfigsResponse>
{
    protected override async ValueTask<AlterConfigsResponse?> HandleAsync(RequestContext context, AlterConfigsRequest request, CancellationToken cancellationToken)
    {
        var response = new AlterConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var result = new AlterConfigsResponse.AlterConfigsResourceResponse { ResourceType = resource.ResourceType, ResourceName = resource.ResourceName };
            response.Responses.Add(result);
            if (ConfigAuthorization.Check(context, resource.ResourceType, resource.ResourceName, AclOperation.AlterConfigs) is not ErrorCode.None and var denied)
            {
                result.ErrorCode = (short)denied;
                result.ErrorMessage = "Not authorized to alter these configs.";
                continue;
            }
            if (resource.ResourceType != ConfigResourceType.Topic)
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = "Only topic configs can be altered at run time; broker configs are read at start.";
                continue;
            }
            if (ConfigResources.HasDuplicateNames(resource.Configs.Select(c => c.Name)))
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = ConfigResources.DuplicateKeysMessage;
                continue;
            }
            var configs = resource.Configs.ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal);
            var (error, message) = await changes.ReplaceAsync(resource.ResourceName, configs, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            result.ErrorCode = (short)error;
            result.ErrorMessage = message;
        }
        return response;
    }
}
