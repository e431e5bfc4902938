using Brook.Broker.Handlers;

namespace Brook.Broker.Security;

/// <summary>
/// One operation checked on many topics of a request (Fetch lists a topic once per partition): the last answer is
/// reused while the topic repeats. A follower's request is judged by CLUSTER_ACTION on the cluster instead, as Kafka does.
/// </summary>
internal struct TopicAccess(RequestContext context, AclOperation operation, bool follower = false)
{
    private string? _lastTopic;
    private bool _lastAllowed;
    private bool? _cluster;

    public bool IsAllowed(string topic)
    {
        if (!context.Authorizer.IsEnabled) return true;
        if (follower) return _cluster ??= context.IsClusterAllowed(AclOperation.ClusterAction);
        if (_lastTopic != topic)
        {
            _lastAllowed = context.IsAllowed(operation, ResourceType.Topic, topic);
            _lastTopic = topic;
        }
        return _lastAllowed;
    }
}
