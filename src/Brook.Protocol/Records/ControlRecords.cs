using System.Buffers.Binary;

namespace Brook.Protocol.Records;

/// <summary>The type in a control record's key.</summary>
public enum ControlRecordType : short
{
    Unknown = -1,
    Abort = 0,
    Commit = 1,
    LeaderChange = 2,
    SnapshotHeader = 3,
    SnapshotFooter = 4,
    KRaftVersion = 5,
    KRaftVoters = 6,
}

/// <summary>
/// Control records: the single record of a control batch. The key is version int16 (0) and type int16; a
/// transaction marker's value is version int16 (0) and the coordinator epoch int32.
/// </summary>
public static class ControlRecords
{
    public const short CurrentKeyVersion = 0;
    public const short CurrentMarkerVersion = 0;
    public const int KeySize = 4;
    public const int MarkerValueSize = 6;

    /// <summary>Writes a control batch holding one transaction marker (commit or abort) for a producer.</summary>
    public static void WriteTransactionMarker(ProtocolWriter destination, bool commit, long producerId, short producerEpoch,
        int coordinatorEpoch, long timestamp, long baseOffset = 0, int partitionLeaderEpoch = RecordBatchBuilder.NoPartitionLeaderEpoch)
    {
        using var builder = new RecordBatchBuilder
        {
            BaseOffset = baseOffset,
            PartitionLeaderEpoch = partitionLeaderEpoch,
            ProducerId = producerId,
            ProducerEpoch = producerEpoch,
            IsTransactional = true,
            IsControl = true,
        };
        var key = new byte[KeySize];
        WriteKey(key, commit ? ControlRecordType.Commit : ControlRecordType.Abort);
        var value = new byte[MarkerValueSize];
        BinaryPrimitives.WriteInt16BigEndian(value, CurrentMarkerVersion);
        BinaryPrimitives.WriteInt32BigEndian(value.AsSpan(2), coordinatorEpoch);
        builder.Append(timestamp, key, value);
        builder.WriteTo(destination);
    }

    public static byte[] BuildTransactionMarker(bool commit, long producerId, short producerEpoch, int coordinatorEpoch,
        long timestamp, long baseOffset = 0, int partitionLeaderEpoch = RecordBatchBuilder.NoPartitionLeaderEpoch)
    {
        using var writer = new ProtocolWriter(RecordBatchHeader.Size + 32);
        WriteTransactionMarker(writer, commit, producerId, producerEpoch, coordinatorEpoch, timestamp, baseOffset, partitionLeaderEpoch);
        return writer.WrittenSpan.ToArray();
    }

    public static void WriteKey(Span<byte> destination, ControlRecordType type)
    {
        BinaryPrimitives.WriteInt16BigEndian(destination, CurrentKeyVersion);
        BinaryPrimitives.WriteInt16BigEndian(destination[2..], (short)type);
    }

    /// <summary>
    /// The type in a control record's key. Types newer than this code know come back as
    /// <see cref="ControlRecordType.Unknown"/>; a key too short or with a negative version throws <see cref="ProtocolException"/>.
    /// </summary>
    public static ControlRecordType ParseType(ReadOnlySpan<byte> key)
    {
        if (key.Length < KeySize) throw new ProtocolException($"Control record key has {key.Length} bytes, needs {KeySize}.");
        var version = BinaryPrimitives.ReadInt16BigEndian(key);
        if (version < 0) throw new ProtocolException($"Control record key version {version} is negative.");
        var type = BinaryPrimitives.ReadInt16BigEndian(key[2..]);
        return type is >= 0 and <= (short)ControlRecordType.KRaftVoters ? (ControlRecordType)type : ControlRecordType.Unknown;
    }

    /// <summary>The coordinator epoch of a transaction marker's value.</summary>
    public static int ParseCoordinatorEpoch(ReadOnlySpan<byte> value)
    {
        if (value.Length < MarkerValueSize) throw new ProtocolException($"Transaction marker value has {value.Length} bytes, needs {MarkerValueSize}.");
        var version = BinaryPrimitives.ReadInt16BigEndian(value);
        if (version < 0) throw new ProtocolException($"Transaction marker version {version} is negative.");
        return BinaryPrimitives.ReadInt32BigEndian(value[2..]);
    }
}
