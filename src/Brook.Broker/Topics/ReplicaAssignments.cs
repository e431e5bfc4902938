namespace Brook.Broker.Topics;

/// <summary>
/// Kafka's checks of a manual replica assignment (CreateTopics, CreatePartitions), answered INVALID_REPLICA_ASSIGNMENT
/// with a message naming the problem: every list non-empty, no broker twice in one list, only brokers that exist (this
/// node), and one replication factor for all partitions, the topic's existing ones included.
/// </summary>
public static class ReplicaAssignments
{
    /// <summary>Null when acceptable, else why not. <paramref name="existingReplicationFactor"/> is the topic's, when it exists.</summary>
    public static string? Validate(IReadOnlyList<IReadOnlyList<int>> assignments, int nodeId, int? existingReplicationFactor = null)
    {
        int? factor = existingReplicationFactor;
        foreach (var brokers in assignments)
        {
            if (brokers.Count == 0) return "The manual partition assignment includes an empty replica list.";
            if (brokers.Distinct().Count() != brokers.Count)
                return $"The manual partition assignment includes the broker {brokers.GroupBy(b => b).First(g => g.Count() > 1).Key} more than once.";
            foreach (var broker in brokers)
            {
                if (broker != nodeId) return $"The manual partition assignment includes broker {broker}, but no such broker is registered.";
            }
            if (factor is { } expected && brokers.Count != expected)
            {
                return $"The manual partition assignment includes a partition with {brokers.Count} replica(s), but this is not consistent with previous "
                    + $"partitions, which have {expected} replica(s).";
            }
            factor = brokers.Count;
        }
        return null;
    }
}
