using System.Collections.Concurrent;
using System.Collections.Immutable;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;
using Brook.Storage;

namespace Brook.Broker.Groups;

/// <summary>
/// Transactional offset commits (TxnOffsetCommit). Offsets a transaction commits are pending — held per group and
/// producer, invisible to OffsetFetch — until the transaction coordinator writes the outcome to the group's
/// __consumer_offsets partition: on commit they become ordinary committed offsets, on abort they are dropped.
/// Durability: a pending offset is stored as a record with key type 3 (group, producer id, topic, partition; value as
/// an ordinary offset's); the outcome is stored as ordinary offset records (commit) plus tombstones of those keys,
/// followed by the COMMIT/ABORT control batch. Replay applies the same records, so a transaction left undecided by a
/// crash keeps its offsets pending until the transaction coordinator finishes it.
/// </summary>
public sealed partial class GroupCoordinator
{
    private const short PendingOffsetKeyType = 3;
    private const short PendingOffsetValueVersion = 0;

    // (group, producer id) to the offsets that producer's open transaction commits. Replaced, never mutated, under
    // the group's lock; read without it by OffsetFetch.
    private readonly ConcurrentDictionary<(string GroupId, long ProducerId), ImmutableDictionary<(string Topic, int Partition), CommittedOffset>> _pendingTxnOffsets = new();

    /// <summary>The __consumer_offsets partition holding a group's records (what AddOffsetsToTxn adds to a transaction).</summary>
    public int OffsetsPartitionFor(string groupId) => PartitionFor(groupId, _partitionCount);

    /// <summary>Whether a transaction has offsets pending for this group and partition (OffsetFetch with require_stable).</summary>
    public bool HasPendingTransactionalOffset(string groupId, string topic, int partition) =>
        _pendingTxnOffsets.Any(p => p.Key.GroupId == groupId && p.Value.ContainsKey((topic, partition)));

    /// <summary>UNSTABLE_OFFSET_COMMIT for OffsetFetch with require_stable while a transaction holds an offset for the partition.</summary>
    private ErrorCode UnstableOffsetError(bool requireStable, string groupId, string topic, int partition) =>
        requireStable && HasPendingTransactionalOffset(groupId, topic, partition) ? ErrorCode.UnstableOffsetCommit : ErrorCode.None;

    /// <summary>The offsets a producer's open transaction holds for a group.</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), CommittedOffset> PendingTransactionalOffsets(string groupId, long producerId) =>
        _pendingTxnOffsets.TryGetValue((groupId, producerId), out var pending) ? pending : ImmutableDictionary<(string, int), CommittedOffset>.Empty;

    /// <summary>
    /// TxnOffsetCommit. <paramref name="verifyProducer"/> (the transaction coordinator's check that the producer's
    /// transaction is open and holds this group's partition) runs under the group's lock: a transaction ending
    /// concurrently writes its outcome under the same lock, so no pending offset can arrive after it.
    /// </summary>
    public async Task<TxnOffsetCommitResponse> CommitTransactionalOffsetsAsync(TxnOffsetCommitRequest request, short version, Func<ErrorCode> verifyProducer, CancellationToken cancellationToken)
    {
        var response = new TxnOffsetCommitResponse();
        var group = GroupFor(request.GroupId);
        await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var error = !_loaded ? ErrorCode.CoordinatorLoadInProgress
                : string.IsNullOrEmpty(request.GroupId) ? ErrorCode.InvalidGroupId
                : verifyProducer() is var producerError and not ErrorCode.None ? producerError
                : version >= 3 && request.GenerationId >= 0 ? CheckCommit(group, new OffsetCommitRequest
                {
                    GroupId = request.GroupId,
                    GenerationIdOrMemberEpoch = request.GenerationId,
                    MemberId = request.MemberId,
                    GroupInstanceId = request.GroupInstanceId,
                }, version: 8)
                : ErrorCode.None;
            var records = new List<(byte[] Key, byte[]? Value)>();
            var offsets = new List<(string Topic, int Partition, CommittedOffset Offset)>();
            var now = NowMs;
            foreach (var topic in request.Topics)
            {
                var topicResponse = new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic { Name = topic.Name };
                response.Topics.Add(topicResponse);
                foreach (var p in topic.Partitions)
                {
                    var partitionError = error;
                    if (partitionError == ErrorCode.None && p.CommittedMetadata is { Length: var length } && length > _metadataMaxBytes)
                        partitionError = ErrorCode.OffsetMetadataTooLarge;
                    if (partitionError == ErrorCode.None)
                    {
                        var offset = new CommittedOffset(p.CommittedOffset, p.CommittedLeaderEpoch, p.CommittedMetadata ?? "", now);
                        offsets.Add((topic.Name, p.PartitionIndex, offset));
                        records.Add(EncodePending(group.Id, request.ProducerId, topic.Name, p.PartitionIndex, offset));
                    }
                    topicResponse.Partitions.Add(new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)partitionError });
                }
            }
            if (records.Count == 0) return response;
            try
            {
                await AppendGroupRecordsAsync(group.Id, records, cancellationToken).ConfigureAwait(false);
            }
            catch (StorageException)
            {
                foreach (var p in response.Topics.SelectMany(t => t.Partitions).Where(p => p.ErrorCode == 0)) p.ErrorCode = (short)ErrorCode.CoordinatorNotAvailable;
                return response;
            }
            foreach (var (topic, partition, offset) in offsets) ApplyPending(group.Id, request.ProducerId, topic, partition, offset);
            return response;
        }
        finally
        {
            group.Lock.Release();
        }
    }

    /// <summary>
    /// Writes a transaction's outcome to one __consumer_offsets partition: the pending offsets of
    /// <paramref name="producerId"/> in every group stored there become committed offsets (or are dropped), then the
    /// COMMIT/ABORT marker is appended. Safe to repeat (a coordinator finishing a transaction after a restart).
    /// </summary>
    public async Task CompleteTransactionAsync(int partition, long producerId, short producerEpoch, int coordinatorEpoch, bool commit, CancellationToken cancellationToken)
    {
        var log = _store.GetPartition(TopicName, partition) ?? throw new StorageException($"{TopicName}-{partition} is missing.");
        foreach (var groupId in _pendingTxnOffsets.Keys.Where(k => k.ProducerId == producerId && PartitionFor(k.GroupId, _partitionCount) == partition).Select(k => k.GroupId).ToList())
        {
            var group = GroupFor(groupId);
            await group.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_pendingTxnOffsets.TryGetValue((groupId, producerId), out var pending)) continue;
                var records = new List<(byte[] Key, byte[]? Value)>();
                var committed = new List<GroupRecord>();
                foreach (var ((topic, index), offset) in pending)
                {
                    if (commit)
                    {
                        var record = new GroupRecord.Offset(groupId, topic, index, offset with { CommitTimestamp = NowMs });
                        committed.Add(record);
                        records.Add(GroupRecordCodec.Encode(record));
                    }
                    records.Add((PendingKey(groupId, producerId, topic, index), null));
                }
                await AppendGroupRecordsAsync(groupId, records, cancellationToken).ConfigureAwait(false);
                foreach (var record in committed) Apply(record);
                _pendingTxnOffsets.TryRemove((groupId, producerId), out _);
            }
            finally
            {
                group.Lock.Release();
            }
        }
        var marker = ControlRecords.BuildTransactionMarker(commit, producerId, producerEpoch, coordinatorEpoch, NowMs);
        await log.AppendAsync(marker, new AppendOptions(TimestampType.CreateTime, NowMs, 0), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replays one record of __consumer_offsets at load: pending transactional offsets here, everything else as before.</summary>
    private void ReplayRecord(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? value)
    {
        if (key.Length >= 2 && new ProtocolReader(key).ReadInt16() == PendingOffsetKeyType)
        {
            ReplayPending(key, value);
            return;
        }
        if (GroupRecordCodec.Decode(key, value) is { } record) Apply(record);
    }

    private void ReplayPending(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? value)
    {
        var k = new ProtocolReader(key);
        k.ReadInt16();
        var groupId = k.ReadString(false, false)!;
        var producerId = k.ReadInt64();
        var topic = k.ReadString(false, false)!;
        var partition = k.ReadInt32();
        if (value is not { } bytes)
        {
            RemovePending(groupId, producerId, topic, partition);
            return;
        }
        var v = new ProtocolReader(bytes);
        if (v.ReadInt16() != PendingOffsetValueVersion) return;
        ApplyPending(groupId, producerId, topic, partition, new CommittedOffset(v.ReadInt64(), v.ReadInt32(), v.ReadString(false, true), v.ReadInt64()));
    }

    private void ApplyPending(string groupId, long producerId, string topic, int partition, CommittedOffset offset) =>
        _pendingTxnOffsets.AddOrUpdate((groupId, producerId),
            _ => ImmutableDictionary<(string, int), CommittedOffset>.Empty.SetItem((topic, partition), offset),
            (_, existing) => existing.SetItem((topic, partition), offset));

    private void RemovePending(string groupId, long producerId, string topic, int partition)
    {
        if (!_pendingTxnOffsets.TryGetValue((groupId, producerId), out var existing)) return;
        var remaining = existing.Remove((topic, partition));
        if (remaining.IsEmpty) _pendingTxnOffsets.TryRemove((groupId, producerId), out _);
        else _pendingTxnOffsets[(groupId, producerId)] = remaining;
    }

    private async Task AppendGroupRecordsAsync(string groupId, List<(byte[] Key, byte[]? Value)> records, CancellationToken cancellationToken)
    {
        var log = _store.GetPartition(TopicName, PartitionFor(groupId, _partitionCount)) ?? throw new StorageException($"{TopicName} is missing.");
        var batch = GroupBatchCodec.Write(records, NowMs);
        await log.AppendAsync(batch, new AppendOptions(TimestampType.CreateTime, NowMs, 0), cancellationToken).ConfigureAwait(false);
    }

    private static byte[] PendingKey(string groupId, long producerId, string topic, int partition)
    {
        using var key = new ProtocolWriter();
        key.WriteInt16(PendingOffsetKeyType);
        key.WriteString(groupId, false, false);
        key.WriteInt64(producerId);
        key.WriteString(topic, false, false);
        key.WriteInt32(partition);
        return key.WrittenSpan.ToArray();
    }

    private static (byte[] Key, byte[]? Value) EncodePending(string groupId, long producerId, string topic, int partition, CommittedOffset offset)
    {
        using var value = new ProtocolWriter();
        value.WriteInt16(PendingOffsetValueVersion);
        value.WriteInt64(offset.Offset);
        value.WriteInt32(offset.LeaderEpoch);
        value.WriteString(offset.Metadata, false, true);
        value.WriteInt64(offset.CommitTimestamp);
        return (PendingKey(groupId, producerId, topic, partition), value.WrittenSpan.ToArray());
    }
}
