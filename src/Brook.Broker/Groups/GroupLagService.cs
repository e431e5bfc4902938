using Brook.Storage;

namespace Brook.Broker.Groups;

/// <summary>Lag of one partition: how far the group's committed offset is behind the log end.</summary>
public sealed record PartitionLag(string Topic, int Partition, long CommittedOffset, long LogEndOffset, long Lag);

/// <summary>Lag of a group over every partition it committed an offset for.</summary>
public sealed record GroupLag(string GroupId, IReadOnlyList<PartitionLag> Partitions)
{
    public long TotalLag => Partitions.Sum(p => p.Lag);
}

/// <summary>Computes consumer lag (log end offset − committed offset) from the coordinator's offsets and the logs.</summary>
public sealed class GroupLagService(GroupCoordinator coordinator, ILogStore store)
{
    public async Task<GroupLag> GetLagAsync(string groupId, CancellationToken cancellationToken = default)
    {
        var offsets = await coordinator.GetCommittedOffsetsAsync(groupId, cancellationToken).ConfigureAwait(false);
        var partitions = new List<PartitionLag>();
        foreach (var ((topic, partition), committed) in offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition))
        {
            var log = store.GetPartition(topic, partition);
            if (log is null) continue;
            var end = log.HighWatermark;
            // A committed offset below the log start counts from the log start: older records are gone.
            var from = Math.Max(committed.Offset, log.LogStartOffset);
            partitions.Add(new PartitionLag(topic, partition, committed.Offset, end, Math.Max(0, end - from)));
        }
        return new GroupLag(groupId, partitions);
    }
}
