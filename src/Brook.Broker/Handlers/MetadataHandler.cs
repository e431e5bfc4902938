using Brook.Broker.Security;
using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// Metadata (key 3). v1: null topics = all topics, controller id; v2: cluster id; v4: allow auto-creation;
/// v7: leader epochs; v8: authorized operations; v10: topic ids; v12: lookup by topic id.
/// On a single node this broker leads every partition and is the only replica; its address is the one advertised
/// for the listener the client connected through. Topics the client may not DESCRIBE are left out of "all topics" and
/// answered TOPIC_AUTHORIZATION_FAILED when named; auto-creation needs CREATE on the cluster or on the topic.
/// </summary>
public sealed class MetadataHandler(TopicService topics, BrokerNode node, BrokerConfig config) : RequestHandler<MetadataRequest, MetadataResponse>
{
    protected override async ValueTask<MetadataResponse?> HandleAsync(RequestContext context, MetadataRequest request, CancellationToken cancellationToken)
    {
        var response = new MetadataResponse { ClusterId = node.ClusterId, ControllerId = node.NodeId };
        var endpoint = node.EndpointFor(context.ListenerName);
        response.Brokers.Add(new MetadataResponse.MetadataResponseBroker { NodeId = node.NodeId, Host = endpoint.Host, Port = endpoint.Port });
        if (context.ApiVersion is >= 8 and <= 10 && request.IncludeClusterAuthorizedOperations)
            response.ClusterAuthorizedOperations = context.IsClusterAllowed(AclOperation.Describe) ? context.AuthorizedOperations(ResourceType.Cluster, Acl.ClusterResourceName) : 0;

        // v0 sends an empty list to mean "all topics"; later versions send null.
        var all = request.Topics is null || (context.ApiVersion == 0 && request.Topics.Count == 0);
        if (all)
        {
            foreach (var t in topics.Store.ListTopics().OrderBy(t => t.Name, StringComparer.Ordinal))
                if (context.IsAllowed(AclOperation.Describe, ResourceType.Topic, t.Name, logIfDenied: false)) response.Topics.Add(Describe(t, context, request));
            return response;
        }

        foreach (var requested in request.Topics!)
        {
            if (requested.Name is null)
            {
                var byId = topics.Store.GetTopic(requested.TopicId);
                // An unauthorized topic's name is not disclosed; its id is not secret.
                response.Topics.Add(byId is null ? Failed(ErrorCode.UnknownTopicId, null, requested.TopicId)
                    : !context.IsAllowed(AclOperation.Describe, ResourceType.Topic, byId.Name) ? Failed(ErrorCode.TopicAuthorizationFailed, null, requested.TopicId)
                    : Describe(byId, context, request));
                continue;
            }
            if (TopicService.ValidateName(requested.Name) is not null)
            {
                response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)ErrorCode.InvalidTopicException, Name = requested.Name });
                continue;
            }
            if (!context.IsAllowed(AclOperation.Describe, ResourceType.Topic, requested.Name))
            {
                response.Topics.Add(Failed(ErrorCode.TopicAuthorizationFailed, requested.Name, KafkaUuid.Zero));
                continue;
            }
            if (request.AllowAutoTopicCreation && config.AutoCreateTopics && topics.Store.GetTopic(requested.Name) is null
                && !context.IsClusterAllowed(AclOperation.Create, logIfDenied: false) && !context.IsAllowed(AclOperation.Create, ResourceType.Topic, requested.Name))
            {
                response.Topics.Add(Failed(ErrorCode.TopicAuthorizationFailed, requested.Name, KafkaUuid.Zero));
                continue;
            }
            var outcome = await topics.GetOrAutoCreateAsync(requested.Name, request.AllowAutoTopicCreation, cancellationToken).ConfigureAwait(false);
            response.Topics.Add(outcome.Topic is { } topic
                ? Describe(topic, context, request)
                : Failed(outcome.Error, requested.Name, KafkaUuid.Zero));
        }
        return response;
    }

    private static MetadataResponse.MetadataResponseTopic Failed(ErrorCode error, string? name, KafkaUuid id) =>
        new() { ErrorCode = (short)error, Name = name, TopicId = id };

    private MetadataResponse.MetadataResponseTopic Describe(TopicMetadata topic, RequestContext context, MetadataRequest request)
    {
        var result = new MetadataResponse.MetadataResponseTopic { Name = topic.Name, TopicId = topic.TopicId, IsInternal = topic.IsInternal };
        if (context.ApiVersion >= 8 && request.IncludeTopicAuthorizedOperations)
            result.TopicAuthorizedOperations = context.AuthorizedOperations(ResourceType.Topic, topic.Name);
        for (var p = 0; p < topic.PartitionCount; p++)
        {
            result.Partitions.Add(new MetadataResponse.MetadataResponsePartition
            {
                PartitionIndex = p,
                LeaderId = node.NodeId,
                LeaderEpoch = 0,
                ReplicaNodes = [node.NodeId],
                IsrNodes = [node.NodeId],
            });
        }
        return result;
    }
}
