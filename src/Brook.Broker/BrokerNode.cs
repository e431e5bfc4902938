namespace Brook.Broker;

/// <summary>Identity of this broker in the cluster it forms alone: node id, cluster id and what clients connect to.</summary>
public sealed class BrokerNode
{
    private volatile IReadOnlyList<ListenerEndpoint> _advertised = [];

    public BrokerNode(int nodeId, string clusterId)
    {
        NodeId = nodeId;
        ClusterId = clusterId;
    }

    public int NodeId { get; }

    public string ClusterId { get; }

    /// <summary>Advertised endpoints; set once the listeners are bound (port 0 resolves to the real port).</summary>
    public IReadOnlyList<ListenerEndpoint> AdvertisedListeners
    {
        get => _advertised;
        set => _advertised = value;
    }

    /// <summary>The endpoint clients on <paramref name="listenerName"/> are told about (the first one when unknown).</summary>
    public ListenerEndpoint EndpointFor(string? listenerName)
    {
        var all = _advertised;
        if (all.Count == 0) throw new InvalidOperationException("The broker has no advertised listener yet.");
        return all.FirstOrDefault(l => string.Equals(l.Name, listenerName, StringComparison.OrdinalIgnoreCase)) ?? all[0];
    }
}
