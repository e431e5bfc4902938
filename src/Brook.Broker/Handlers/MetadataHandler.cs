using Brook.Broker.Topics;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// Metadata (key 3). v1: null topics = all topics, controller id; v2: cluster id; v4: allow auto-creation;
/// v7: leader epochs; v8: authorized operations; v10: topic ids; v12: lookup by topic id.
/// On a single node this broker leads every partition and is the only replica.
/// </summary>
public sealed class MetadataHandler(TopicService topics, BrokerNode node) : RequestHandler<MetadataRequest, MetadataResponse>
{
    protected override async ValueTask<MetadataResponse?> HandleAsync(RequestContext context, MetadataRequest request, CancellationToken cancellationToken)
    {
        var response = new MetadataResponse { ClusterId = node.ClusterId, ControllerId = node.NodeId };
        var endpoint = node.EndpointFor(null);
        response.Brokers.Add(new MetadataResponse.MetadataResponseBroker { NodeId = node.NodeId, Host = endpoint.Host, Port = endpoint.Port });

        // v0 sends an empty list to mean "all topics"; later versions send null.
        var all = request.Topics is null || (context.ApiVersion == 0 && request.Topics.Count == 0);
        if (all)
        {
            foreach (var t in topics.Store.ListTopics().OrderBy(t => t.Name, StringComparer.Ordinal))
                response.Topics.Add(Describe(t));
            return response;
        }

        foreach (var requested in request.Topics!)
        {
            if (requested.Name is null)
            {
                var byId = topics.Store.GetTopic(requested.TopicId);
                response.Topics.Add(byId is null
                    ? new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)ErrorCode.UnknownTopicId, TopicId = requested.TopicId, Name = null }
                    : Describe(byId));
                continue;
            }
            if (TopicService.ValidateName(requested.Name) is not null)
            {
                response.Topics.Add(new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)ErrorCode.InvalidTopicException, Name = requested.Name });
                continue;
            }
            var outcome = await topics.GetOrAutoCreateAsync(requested.Name, request.AllowAutoTopicCreation, cancellationToken).ConfigureAwait(false);
            response.Topics.Add(outcome.Topic is { } topic
                ? Describe(topic)
                : new MetadataResponse.MetadataResponseTopic { ErrorCode = (short)outcome.Error, Name = requested.Name });
        }
        return response;
    }

    private MetadataResponse.MetadataResponseTopic Describe(TopicMetadata topic)
    {
        var result = new MetadataResponse.MetadataResponseTopic { Name = topic.Name, TopicId = topic.TopicId, IsInternal = topic.IsInternal };
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
