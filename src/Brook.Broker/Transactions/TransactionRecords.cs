using Brook.Protocol;

namespace Brook.Broker.Transactions;

/// <summary>States of a transactional id, named as DescribeTransactions and ListTransactions report them.</summary>
public enum TransactionState : byte
{
    /// <summary>Has a producer id and epoch, no transaction open.</summary>
    Empty,
    /// <summary>Partitions were added: records may be written.</summary>
    Ongoing,
    /// <summary>Commit decided and stored; markers are being written.</summary>
    PrepareCommit,
    /// <summary>Abort decided and stored; markers are being written.</summary>
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
}

/// <summary>A partition taking part in a transaction.</summary>
public readonly record struct TxnPartition(string Topic, int Partition);

/// <summary>
/// The durable state of one transactional id, as stored in __transaction_state. Immutable: every change is a new value
/// written as a record and then applied. <see cref="PreviousProducerId"/>/<see cref="PreviousEpoch"/> are set only
/// when the producer itself asked for the last bump (KIP-360), so that its retry of that request is recognized;
/// a bump by a new producer instance clears them, which keeps the instance it replaced fenced.
/// </summary>
public sealed record TransactionMetadata(
    string TransactionalId,
    long ProducerId,
    short Epoch,
    long PreviousProducerId,
    short PreviousEpoch,
    int TimeoutMs,
    TransactionState State,
    IReadOnlyList<TxnPartition> Partitions,
    long StartTimestamp,
    long LastUpdateTimestamp)
{
    public bool IsCompleting => State is TransactionState.PrepareCommit or TransactionState.PrepareAbort;

    public string StateName => State.ToString();
}

/// <summary>
/// Key and value bytes of __transaction_state records. Key: version int16 (0), transactional id (string). Value:
/// version int16 (0), producer id int64, epoch int16, previous producer id int64, previous epoch int16, timeout int32,
/// state int8, partition count int32 then per partition topic (string) and index int32, start timestamp int64,
/// last update timestamp int64. A null value (tombstone) forgets the transactional id. Strings use Kafka's classic
/// encoding.
/// </summary>
public static class TransactionRecordCodec
{
    private const short KeyVersion = 0;
    private const short ValueVersion = 0;

    public static (byte[] Key, byte[]? Value) Encode(string transactionalId, TransactionMetadata? metadata)
    {
        using var key = new ProtocolWriter();
        key.WriteInt16(KeyVersion);
        key.WriteString(transactionalId, false, false);
        if (metadata is null) return (key.WrittenSpan.ToArray(), null);
        using var value = new ProtocolWriter();
        value.WriteInt16(ValueVersion);
        value.WriteInt64(metadata.ProducerId);
        value.WriteInt16(metadata.Epoch);
        value.WriteInt64(metadata.PreviousProducerId);
        value.WriteInt16(metadata.PreviousEpoch);
        value.WriteInt32(metadata.TimeoutMs);
        value.WriteInt8((sbyte)metadata.State);
        value.WriteInt32(metadata.Partitions.Count);
        foreach (var p in metadata.Partitions)
        {
            value.WriteString(p.Topic, false, false);
            value.WriteInt32(p.Partition);
        }
        value.WriteInt64(metadata.StartTimestamp);
        value.WriteInt64(metadata.LastUpdateTimestamp);
        return (key.WrittenSpan.ToArray(), value.WrittenSpan.ToArray());
    }

    /// <summary>The transactional id and its state (null for a tombstone); null altogether for a version this broker does not know.</summary>
    public static (string TransactionalId, TransactionMetadata? Metadata)? Decode(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte>? value)
    {
        var k = new ProtocolReader(key);
        if (k.ReadInt16() != KeyVersion) return null;
        var id = k.ReadString(false, false)!;
        if (value is not { } bytes) return (id, null);
        var v = new ProtocolReader(bytes);
        if (v.ReadInt16() != ValueVersion) return null;
        var producerId = v.ReadInt64();
        var epoch = v.ReadInt16();
        var previousId = v.ReadInt64();
        var previousEpoch = v.ReadInt16();
        var timeout = v.ReadInt32();
        var state = (TransactionState)v.ReadInt8();
        if (!Enum.IsDefined(state)) return null;
        var count = v.ReadInt32();
        if (count < 0) return null;
        var partitions = new List<TxnPartition>(Math.Min(count, 1024));
        for (var i = 0; i < count; i++) partitions.Add(new TxnPartition(v.ReadString(false, false)!, v.ReadInt32()));
        return (id, new TransactionMetadata(id, producerId, epoch, previousId, previousEpoch, timeout, state, partitions, v.ReadInt64(), v.ReadInt64()));
    }
}
