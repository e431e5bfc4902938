using Brook.Broker.Configuration;
using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// AlterConfigs (key 33): replaces a topic's whole set of overrides, or the dynamic configs of this broker or of the
/// cluster-wide default (empty name). Needs ALTER_CONFIGS on the topic or the cluster.
/// </summary>
public sealed class AlterConfigsHandler(TopicConfigChanges changes, BrokerConfigChanges brokerChanges) : RequestHandler<AlterConfigsRequest, AlterConfigsResponse>
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
            if (resource.ResourceType is not (ConfigResourceType.Topic or ConfigResourceType.Broker))
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = $"Resource type {resource.ResourceType} has no configs that can be altered here.";
                continue;
            }
            if (ConfigResources.HasDuplicateNames(resource.Configs.Select(c => c.Name)))
            {
                result.ErrorCode = (short)ErrorCode.InvalidRequest;
                result.ErrorMessage = ConfigResources.DuplicateKeysMessage;
                continue;
            }
            var configs = resource.Configs.ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal);
            var (error, message) = resource.ResourceType == ConfigResourceType.Broker
                ? await brokerChanges.ReplaceAsync(resource.ResourceName, configs, request.ValidateOnly, cancellationToken).ConfigureAwait(false)
                : await changes.ReplaceAsync(resource.ResourceName, configs, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            result.ErrorCode = (short)error;
            result.ErrorMessage = message;
        }
        return response;
    }
}
