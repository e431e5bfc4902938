using Brook.Broker.Handlers;
using Brook.Protocol;

namespace Brook.Broker.Security;

/// <summary>Kafka's checks on config resources: topics by their own ACLs, broker (and broker logger) configs by the cluster's.</summary>
internal static class ConfigAuthorization
{
    /// <summary>The error for a config resource the request may not read or change (<paramref name="operation"/>), or None.</summary>
    public static ErrorCode Check(RequestContext context, sbyte resourceType, string resourceName, AclOperation operation) => resourceType switch
    {
        ConfigResourceType.Topic when !context.IsAllowed(operation, ResourceType.Topic, resourceName) => ErrorCode.TopicAuthorizationFailed,
        ConfigResourceType.Broker or ConfigResourceType.BrokerLogger when !context.IsClusterAllowed(operation) => ErrorCode.ClusterAuthorizationFailed,
        _ => ErrorCode.None,
    };
}
