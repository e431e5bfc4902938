using Brook.Storage;

namespace Brook.Broker.Groups;

/// <summary>
/// The start of a coordinator whose state lives in an internal compacted topic (__consumer_offsets,
/// __transaction_state): create the topic when missing, then replay every keyed record of every partition in order.
/// </summary>
internal static class InternalTopicReplay
{
    /// <summary>Replays <paramref name="topicName"/> into <paramref name="onRecord"/> and returns its partition count.</summary>
    public static async Task<int> LoadAsync(ILogStore store, string topicName, int partitionsWhenCreated,
        Action<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>?> onRecord, CancellationToken cancellationToken)
    {
        var topic = store.GetTopic(topicName);
        if (topic is null)
        {
            var created = await store.CreateTopicAsync(topicName, partitionsWhenCreated,
                new Dictionary<string, string> { ["cleanup.policy"] = "compact" }, cancellationToken).ConfigureAwait(false);
            topic = created.Value ?? store.GetTopic(topicName) ?? throw new InvalidOperationException($"Could not create {topicName}: {created.Message}");
        }
        for (var p = 0; p < topic.PartitionCount; p++)
        {
            var log = store.GetPartition(topicName, p)!;
            var offset = log.LogStartOffset;
            while (offset < log.HighWatermark)
            {
                using var read = await log.ReadAsync(offset, 1 << 20, minOneBatch: true, log.HighWatermark, cancellationToken).ConfigureAwait(false);
                if (read.Records.IsEmpty) break;
                offset = GroupBatchCodec.Read(read.Records, offset, onRecord);
            }
        }
        return topic.PartitionCount;
    }
}
