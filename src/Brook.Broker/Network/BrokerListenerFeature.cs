using Brook.Broker.Security;

namespace Brook.Broker.Network;

/// <summary>Tags each accepted connection with the listener it came through (set by a connection middleware per listener).</summary>
public sealed class BrokerListenerFeature(BrokerListener listener)
{
    public BrokerListener Listener { get; } = listener;
}
