namespace Brook.Broker.Network;

/// <summary>Fault injection for tests; inert unless a test sets a hook on the broker's instance (from its services).</summary>
public sealed class BrokerTestHooks
{
    /// <summary>
    /// Called with the API key after a request was handled and before its response is written; returning true
    /// closes the connection instead, as if the network failed after the broker did the work.
    /// </summary>
    public Func<short, bool>? DropResponse { get; set; }
}
