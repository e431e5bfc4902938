using Brook.Protocol.Messages;
using Confluent.Kafka;

namespace Brook.Admin;

/// <summary>The bytes one broker holds of one partition replica.</summary>
public sealed record ReplicaSize(string Topic, int Partition, long SizeBytes, long OffsetLag, bool IsFuture);

/// <summary>One log directory of one broker; total and usable bytes are null where the broker does not tell (before DescribeLogDirs v4).</summary>
public sealed record LogDirDescription(int BrokerId, string Path, string? Error, long? TotalBytes, long? UsableBytes, IReadOnlyList<ReplicaSize> Replicas);

/// <summary>
/// Log directories and replica sizes (DescribeLogDirs). librdkafka has no admin call for it, so this opens its own
/// connection to each broker with Brook.Protocol's codec; that works over PLAINTEXT only, and any other security protocol
/// is reported as <see cref="AdminErrorKind.Unsupported"/>.
/// </summary>
public sealed class LogDirService
{
    private readonly KafkaAdmin _admin;

    internal LogDirService(KafkaAdmin admin) => _admin = admin;

    /// <summary>Every log directory of every broker, with the replicas of <paramref name="topics"/> (all topics when null).</summary>
    public async Task<IReadOnlyList<LogDirDescription>> DescribeAsync(IReadOnlyCollection<string>? topics = null, CancellationToken cancellationToken = default)
    {
        var protocol = _admin.Settings.Properties.GetValueOrDefault("security.protocol") ?? "plaintext";
        if (!protocol.Equals("plaintext", StringComparison.OrdinalIgnoreCase))
            throw new AdminException(AdminErrorKind.Unsupported, $"log directories are read over PLAINTEXT connections only, not {protocol}");
        var cluster = await _admin.Cluster.DescribeAsync(cancellationToken).ConfigureAwait(false);
        var request = new DescribeLogDirsRequest();
        if (topics is not null)
        {
            var metadata = await _admin.MetadataAsync(null, cancellationToken).ConfigureAwait(false);
            request.Topics = metadata.Topics.Where(t => topics.Contains(t.Topic))
                .Select(t => new DescribeLogDirsRequest.DescribableLogDirTopic { Topic = t.Topic, Partitions = t.Partitions.Select(p => p.PartitionId).ToList() })
                .ToList();
            if (request.Topics.Count == 0) return [];
        }
        else
        {
            request.Topics = null;
        }
        var perBroker = await Task.WhenAll(cluster.Brokers.Select(b => DescribeBrokerAsync(b, request, cancellationToken))).ConfigureAwait(false);
        return perBroker.SelectMany(d => d).ToList();
    }

    /// <summary>
    /// Bytes of each partition: the leader's replica where the leader reported it, else the largest replica reported.
    /// Partitions no broker reported are absent.
    /// </summary>
    public async Task<IReadOnlyDictionary<TopicPartition, long>> PartitionSizesAsync(IReadOnlyCollection<string>? topics = null, CancellationToken cancellationToken = default)
    {
        var dirs = await DescribeAsync(topics, cancellationToken).ConfigureAwait(false);
        var sizes = new Dictionary<TopicPartition, long>();
        foreach (var replica in dirs.SelectMany(d => d.Replicas).Where(r => !r.IsFuture))
        {
            var tp = new TopicPartition(replica.Topic, replica.Partition);
            sizes[tp] = Math.Max(sizes.GetValueOrDefault(tp), replica.SizeBytes);
        }
        if (dirs.Select(d => d.BrokerId).Distinct().Count() <= 1) return sizes;
        // Several brokers: prefer what each partition's leader holds.
        var metadata = await _admin.MetadataAsync(null, cancellationToken).ConfigureAwait(false);
        foreach (var topic in metadata.Topics)
        {
            foreach (var partition in topic.Partitions)
            {
                var leaderSize = dirs.Where(d => d.BrokerId == partition.Leader)
                    .SelectMany(d => d.Replicas)
                    .FirstOrDefault(r => !r.IsFuture && r.Topic == topic.Topic && r.Partition == partition.PartitionId);
                if (leaderSize is not null) sizes[new TopicPartition(topic.Topic, partition.PartitionId)] = leaderSize.SizeBytes;
            }
        }
        return sizes;
    }

    private async Task<IReadOnlyList<LogDirDescription>> DescribeBrokerAsync(BrokerNodeInfo broker, DescribeLogDirsRequest request, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_admin.Timeout);
        try
        {
            await using var connection = await KafkaWireConnection.OpenAsync(broker.Host, broker.Port, _admin.Settings.ClientId, _admin.WireSecurity, deadline.Token).ConfigureAwait(false);
            var version = connection.NegotiatedVersion(ApiKeys.DescribeLogDirs)
                ?? throw new AdminException(AdminErrorKind.Unsupported, $"broker {broker.Id} does not support DescribeLogDirs") { Code = ErrorCode.UnsupportedVersion };
            var response = await connection.SendAsync<DescribeLogDirsResponse>(request, version, deadline.Token).ConfigureAwait(false);
            if (response.ErrorCode != 0) throw AdminException.From(new Error((ErrorCode)response.ErrorCode), $"describe log dirs of broker {broker.Id}");
            return response.Results.Select(r => new LogDirDescription(
                broker.Id,
                r.LogDir,
                r.ErrorCode == 0 ? null : new Error((ErrorCode)r.ErrorCode).Reason,
                r.TotalBytes >= 0 ? r.TotalBytes : null,
                r.UsableBytes >= 0 ? r.UsableBytes : null,
                r.Topics.SelectMany(t => t.Partitions.Select(p => new ReplicaSize(t.Name, p.PartitionIndex, p.PartitionSize, p.OffsetLag, p.IsFutureKey))).ToList()))
                .ToList();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminException(AdminErrorKind.Unreachable, $"describe log dirs: no answer from broker {broker.Id} ({broker.Host}:{broker.Port}) within {_admin.Timeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or Brook.Protocol.ProtocolException)
        {
            throw new AdminException(AdminErrorKind.Unreachable, $"describe log dirs of broker {broker.Id} ({broker.Host}:{broker.Port}): {ex.Message}", ex);
        }
    }
}
