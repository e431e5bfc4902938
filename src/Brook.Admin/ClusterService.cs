using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Admin;

public sealed record BrokerNodeInfo(int Id, string Host, int Port, string? Rack);

public sealed record ClusterDescription(string? ClusterId, BrokerNodeInfo? Controller, IReadOnlyList<BrokerNodeInfo> Brokers);

/// <summary>The cluster as a whole: its id, brokers and controller.</summary>
public sealed class ClusterService
{
    private readonly KafkaAdmin _admin;

    internal ClusterService(KafkaAdmin admin) => _admin = admin;

    public async Task<ClusterDescription> DescribeAsync(CancellationToken cancellationToken = default)
    {
        var result = await _admin.CallAsync(c => c.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = _admin.Timeout }),
            "describe cluster", cancellationToken).ConfigureAwait(false);
        var brokers = result.Nodes.Select(n => new BrokerNodeInfo(n.Id, n.Host, n.Port, n.Rack)).OrderBy(b => b.Id).ToList();
        var controller = result.Controller is { } c ? new BrokerNodeInfo(c.Id, c.Host, c.Port, c.Rack) : null;
        return new ClusterDescription(result.ClusterId, controller, brokers);
    }
}
