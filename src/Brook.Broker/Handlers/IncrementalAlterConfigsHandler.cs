using Brook.Broker.Configuration;
using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Broker.Handlers;

/// <summary>
/// IncrementalAlterConfigs (key 44): SET, DELETE, APPEND and SUBTRACT on topic configs and on dynamic broker configs
/// (this broker's id, or the empty name for the cluster-wide default). v1: flexible. Needs ALTER_CONFIGS on the topic or the cluster.
/// </summary>
public sealed class IncrementalAlterConfigsHandler(TopicConfigChanges changes, BrokerConfigChanges brokerChanges) : RequestHandler<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>
{
    protected override async ValueTask<IncrementalAlterConfigsResponse?> HandleAsync(RequestContext context, IncrementalAlterConfigsRequest request, CancellationToken cancellationToken)
    {
        var response = new IncrementalAlterConfigsResponse();
        foreach (var resource in request.Resources)
        {
            var result = new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse { ResourceType = resource.ResourceType, ResourceName = resource.ResourceName };
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
            var list = resource.Configs.Select(c => (c.Name, c.ConfigOperation, c.Value)).ToList();
            var (error, message) = resource.ResourceType == ConfigResourceType.Broker
                ? await brokerChanges.ApplyIncrementalAsync(resource.ResourceName, list, request.ValidateOnly, cancellationToken).ConfigureAwait(false)
                : await changes.ApplyIncrementalAsync(resource.ResourceName, list, request.ValidateOnly, cancellationToken).ConfigureAwait(false);
            result.ErrorCode = (short)error;
            result.ErrorMessage = message;
        }
        return response;
    }
}
