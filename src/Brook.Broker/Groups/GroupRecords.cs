using Brook.Protocol;
using Brook.Protocol.Records;

namespace Brook.Broker.Groups;

/// <summary>A committed offset as stored in __consumer_offsets.</summary>
public sealed record CommittedOffset(long Offset, int LeaderEpoch, string? Metadata, long CommitTimestamp);

/// <summary>One member as stored with its group's metadata: enough to resume the generation after a restart.</summary>
public sealed record StoredMember(
    string MemberId,
    string? GroupInstanceId,
    string ClientId,
    string ClientHost,
    int SessionTimeoutMs,
    int RebalanceTimeoutMs,
    byte[] Subscription,
    byte[] Assignment);

/// <summary>The durable part of a classic group: the generation the members agreed on and when its state last changed.</summary>
public sealed record StoredGroup(
    string ProtocolType,
    int Generation,
    string? ProtocolName,
    string? Leader,
    long StateTimestamp,
    IReadOnlyList<StoredMember> Members);

/// <summary>
/// One record of __consumer_offsets in Brook's own format. Keys start with an int16 type:
/// 0 = offset (group, topic, partition), 1 = classic group metadata (group), 2 = consumer-protocol group (group). Values start with an int16 version;
/// a null value is a tombstone (the offset or group was deleted). Strings and bytes use Kafka's classic
/// (non-compact) encodings.
/// </summary>
public abstract record GroupRecord(string GroupId)
{
    public sealed record Offset(string GroupId, string Topic, int Partition, CommittedOffset? Value) : GroupRecord(GroupId);

    public sealed record Metadata(string GroupId, StoredGroup? Value) : GroupRecord(GroupId);

    /// <summary>The whole state of a consumer-protocol (KIP-848) group; null deletes it.</summary>
    internal sealed record Consumer(string GroupId, ConsumerGroupModel? Value) : GroupRecord(GroupId);
}

/// <summary>Encodes and decodes <see cref="GroupRecord"/>s as key/value bytes.</summary>
public static class GroupRecordCodec
{
    private const short OffsetKeyType = 0;
    private const short MetadataKeyType = 1;
    private const short ConsumerKeyType = 2;
    private const short ValueVersion = 0;

    public static (byte[] Key, byte[]? Value) Encode(GroupRecord record)
    {
        using var key = new ProtocolWriter();
        byte[]? value = null;
        switch (record)
        {
            case GroupRecord.Offset o:
                key.WriteInt16(OffsetKeyType);
                key.WriteString(o.GroupId, false, false);
                key.WriteString(o.Topic, false, false);
                key.WriteInt32(o.Partition);
                if (o.Value is { } v)
                {
                    using var w = new ProtocolWriter();
                    w.WriteInt16(ValueVersion);
                    w.WriteInt64(v.Offset);
                    w.WriteInt32(v.LeaderEpoch);
                    w.WriteString(v.Metadata, false, true);
                    w.WriteInt64(v.CommitTimestamp);
                    value = w.WrittenSpan.ToArray();
                }
                break;
            case GroupRecord.Metadata m:
                key.WriteInt16(MetadataKeyType);
                key.WriteString(m.GroupId, false, false);
                if (m.Value is { } g)
                {
                    using var w = new ProtocolWriter();
                    w.WriteInt16(ValueVersion);
                    w.WriteString(g.ProtocolType, false, false);
                    w.WriteInt32(g.Generation);
                    w.WriteString(g.ProtocolName, false, true);
                    w.WriteString(g.Leader, false, true);
                    w.WriteInt64(g.StateTimestamp);
                    w.WriteInt32(g.Members.Count);
                    foreach (var member in g.Members)
                    {
                        w.WriteString(member.MemberId, false, false);
                        w.WriteString(member.GroupInstanceId, false, true);
                        w.WriteString(member.ClientId, false, false);
                        w.WriteString(member.ClientHost, false, false);
                        w.WriteInt32(member.SessionTimeoutMs);
                        w.WriteInt32(member.RebalanceTimeoutMs);
                        w.WriteBytes(member.Subscription, false, false);
                        w.WriteBytes(member.Assignment, false, false);
                    }
                    value = w.WrittenSpan.ToArray();
                }
                break;
            case GroupRecord.Consumer c:
                key.WriteInt16(ConsumerKeyType);
                key.WriteString(c.GroupId, false, false);
                value = c.Value?.Encode();
                break;
            default:
                throw new ArgumentException($"Unknown group record {record.GetType().Name}.", nameof(record));
        }
        return (key.WrittenSpan.ToArray(), value);
    }

    /// <summary>Decodes a record; returns null for keys of a type or version this broker does not know.</summary>
    public static GroupRecord? Decode(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? value)
    {
        var k = new ProtocolReader(key);
        var type = k.ReadInt16();
        var group = k.ReadString(false, false)!;
        ProtocolReader v = default;
        // A consumer-protocol group's value carries the model's own version, checked by its decoder.
        if (value is { } bytes && type != ConsumerKeyType)
        {
            v = new ProtocolReader(bytes);
            if (v.ReadInt16() != ValueVersion) return null;
        }
        switch (type)
        {
            case OffsetKeyType:
                {
                    var topic = k.ReadString(false, false)!;
                    var partition = k.ReadInt32();
                    if (value is null) return new GroupRecord.Offset(group, topic, partition, null);
                    return new GroupRecord.Offset(group, topic, partition,
                        new CommittedOffset(v.ReadInt64(), v.ReadInt32(), v.ReadString(false, true), v.ReadInt64()));
                }
            case MetadataKeyType:
                {
                    if (value is null) return new GroupRecord.Metadata(group, null);
                    var protocolType = v.ReadString(false, false)!;
                    var generation = v.ReadInt32();
                    var protocolName = v.ReadString(false, true);
                    var leader = v.ReadString(false, true);
                    var stateTimestamp = v.ReadInt64();
                    var count = v.ReadInt32();
                    var members = new List<StoredMember>(count);
                    for (var i = 0; i < count; i++)
                    {
                        members.Add(new StoredMember(
                            v.ReadString(false, false)!, v.ReadString(false, true), v.ReadString(false, false)!, v.ReadString(false, false)!,
                            v.ReadInt32(), v.ReadInt32(), v.ReadBytes(false, false)!, v.ReadBytes(false, false)!));
                    }
                    return new GroupRecord.Metadata(group, new StoredGroup(protocolType, generation, protocolName, leader, stateTimestamp, members));
                }
            case ConsumerKeyType:
                if (value is not { } model) return new GroupRecord.Consumer(group, null);
                return ConsumerGroupModel.Decode(model) is { } decoded ? new GroupRecord.Consumer(group, decoded) : null;
            default:
                return null;
        }
    }
}

/// <summary>
/// Writes and reads the uncompressed magic-2 record batches that carry group records. Record layout: length varint,
/// attributes int8, timestamp delta varlong, offset delta varint, key and value (varint length, -1 = null), header count.
/// </summary>
internal static class GroupBatchCodec
{
    /// <summary>One uncompressed batch holding <paramref name="records"/> (key, value); the log assigns offsets.</summary>
    public static byte[] Write(IReadOnlyList<(byte[] Key, byte[]? Value)> records, long timestamp)
    {
        var builder = new RecordBatchBuilder(CompressionType.None);
        foreach (var (key, value) in records) builder.Append(timestamp, key, value);
        return builder.ToArray();
    }

    /// <summary>
    /// Calls <paramref name="onRecord"/> for every keyed record of the whole batches in <paramref name="batches"/> and
    /// returns the offset after the last batch. Compressed and control batches are skipped: Brook writes neither to this
    /// topic. Reading stops at a batch whose framing is impossible.
    /// </summary>
    public static long Read(ReadOnlyMemory<byte> batches, long nextOffset, Action<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>?> onRecord)
    {
        var enumerator = new RecordBatchEnumerator(batches);
        while (TryMoveNext(ref enumerator))
        {
            var batch = enumerator.Current;
            var header = batch.Header;
            nextOffset = header.LastOffset + 1;
            if (header.Compression != CompressionType.None || header.IsControl) continue;
            foreach (var record in new RecordSection(batch.RecordsSection.Span))
            {
                // Replay only: the codec reads memory, so each key and value is copied once here.
                if (!record.KeyIsNull) onRecord(record.Key.ToArray(), record.ValueIsNull ? (ReadOnlyMemory<byte>?)null : record.Value.ToArray());
            }
        }
        return nextOffset;
    }

    private static bool TryMoveNext(ref RecordBatchEnumerator enumerator)
    {
        try
        {
            return enumerator.MoveNext();
        }
        catch (ProtocolException)
        {
            return false;
        }
    }
}
