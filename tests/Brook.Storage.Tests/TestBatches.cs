using System.Buffers.Binary;
using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

/// <summary>A record to put in a test batch; a null value is a tombstone.</summary>
public sealed record TestRecord(byte[]? Key, byte[]? Value, long TimestampDelta = 0);

/// <summary>Builds valid, uncompressed magic-2 record batches for tests.</summary>
public static class TestBatches
{
    public static byte[] Create(long baseTimestamp, params TestRecord[] records) => Create(baseTimestamp, 0, records);

    /// <summary>A batch of <paramref name="count"/> records with values of <paramref name="valueSize"/> bytes and no key.</summary>
    public static byte[] OfSize(int count, int valueSize, long baseTimestamp = 1_000)
    {
        var records = new TestRecord[count];
        for (var i = 0; i < count; i++)
        {
            var value = new byte[valueSize];
            value.AsSpan().Fill((byte)i);
            records[i] = new TestRecord(null, value, i);
        }
        return Create(baseTimestamp, records);
    }

    public static byte[] Keyed(long baseTimestamp, params (string Key, string? Value)[] records) =>
        Create(baseTimestamp, records.Select((r, i) => new TestRecord(
            System.Text.Encoding.UTF8.GetBytes(r.Key),
            r.Value is null ? null : System.Text.Encoding.UTF8.GetBytes(r.Value),
            i)).ToArray());

    public static byte[] Create(long baseTimestamp, short attributes, params TestRecord[] records)
    {
        var body = new List<byte>();
        for (var i = 0; i < records.Length; i++)
        {
            var record = new List<byte> { 0 };
            WriteVarlong(record, records[i].TimestampDelta);
            WriteVarlong(record, i);
            WriteBytes(record, records[i].Key);
            WriteBytes(record, records[i].Value);
            WriteVarlong(record, 0);
            WriteVarlong(body, record.Count);
            body.AddRange(record);
        }
        var batch = new byte[RecordBatchHeader.Size + body.Count];
        BinaryPrimitives.WriteInt64BigEndian(batch, 0);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.LengthPosition), batch.Length - RecordBatchHeader.LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.PartitionLeaderEpochPosition), -1);
        batch[RecordBatchHeader.MagicPosition] = 2;
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.AttributesPosition), attributes);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.LastOffsetDeltaPosition), Math.Max(records.Length - 1, 0));
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.BaseTimestampPosition), baseTimestamp);
        var maxDelta = records.Length == 0 ? 0 : records.Max(r => r.TimestampDelta);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.MaxTimestampPosition), baseTimestamp + maxDelta);
        BinaryPrimitives.WriteInt64BigEndian(batch.AsSpan(RecordBatchHeader.ProducerIdPosition), -1);
        BinaryPrimitives.WriteInt16BigEndian(batch.AsSpan(RecordBatchHeader.ProducerEpochPosition), -1);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.BaseSequencePosition), -1);
        BinaryPrimitives.WriteInt32BigEndian(batch.AsSpan(RecordBatchHeader.RecordCountPosition), records.Length);
        body.CopyTo(batch, RecordBatchHeader.Size);
        RecordBatchHeader.UpdateCrc(batch);
        return batch;
    }

    /// <summary>
    /// A batch from <see cref="RecordBatchBuilder"/> with keyed records (a null value is a tombstone), timestamps
    /// <paramref name="timestamp"/>, +1, +2, … and the given codec and producer fields.
    /// </summary>
    public static byte[] Build(long timestamp, CompressionType compression, (string Key, string? Value)[] records,
        long producerId = RecordBatchBuilder.NoProducerId, short producerEpoch = RecordBatchBuilder.NoProducerEpoch, int baseSequence = RecordBatchBuilder.NoSequence,
        bool transactional = false)
    {
        using var builder = new RecordBatchBuilder(compression)
        {
            ProducerId = producerId,
            ProducerEpoch = producerEpoch,
            BaseSequence = baseSequence,
            IsTransactional = transactional,
        };
        for (var i = 0; i < records.Length; i++)
        {
            var (key, value) = records[i];
            builder.Append(timestamp + i, System.Text.Encoding.UTF8.GetBytes(key), value is null ? null : System.Text.Encoding.UTF8.GetBytes(value));
        }
        return builder.ToArray();
    }

    /// <summary>A transactional batch of one producer (epoch 0).</summary>
    public static byte[] Transactional(long producerId, int baseSequence, long timestamp, params (string Key, string? Value)[] records) =>
        Build(timestamp, CompressionType.None, records, producerId, 0, baseSequence, transactional: true);

    /// <summary>A COMMIT or ABORT marker of one producer (epoch 0).</summary>
    public static byte[] Marker(bool commit, long producerId, long timestamp) =>
        ControlRecords.BuildTransactionMarker(commit, producerId, 0, coordinatorEpoch: 0, timestamp);

    /// <summary>Every data record of any batches (decompressed), with offset and timestamp; control batches are skipped.</summary>
    public static List<(long Offset, string? Key, string? Value, long Timestamp)> Decode(ReadOnlyMemory<byte> bytes)
    {
        var result = new List<(long, string?, string?, long)>();
        foreach (var batch in new RecordBatchEnumerator(bytes))
        {
            var header = batch.Header;
            if (header.IsControl) continue;
            var baseOffset = header.BaseOffset;
            var baseTimestamp = header.BaseTimestamp;
            using var records = batch.DecompressRecords(int.MaxValue);
            foreach (var record in records.Records)
            {
                result.Add((record.Offset(baseOffset),
                    record.KeyIsNull ? null : System.Text.Encoding.UTF8.GetString(record.Key),
                    record.ValueIsNull ? null : System.Text.Encoding.UTF8.GetString(record.Value),
                    record.Timestamp(baseTimestamp)));
            }
        }
        return result;
    }

    /// <summary>Splits bytes read from a log into batches.</summary>
    public static List<byte[]> Split(ReadOnlySpan<byte> bytes)
    {
        var result = new List<byte[]>();
        while (!bytes.IsEmpty)
        {
            var size = new RecordBatchHeader(bytes).TotalSize;
            result.Add(bytes[..size].ToArray());
            bytes = bytes[size..];
        }
        return result;
    }

    /// <summary>Keys and values (UTF-8) of every record in uncompressed batches, with their offsets.</summary>
    public static List<(long Offset, string? Key, string? Value)> Records(ReadOnlySpan<byte> bytes)
    {
        var result = new List<(long, string?, string?)>();
        foreach (var batch in Split(bytes))
        {
            var header = new RecordBatchHeader(batch);
            var position = RecordBatchHeader.Size;
            for (var i = 0; i < header.RecordCount; i++)
            {
                ReadVarlong(batch, ref position); // length
                position++; // attributes
                ReadVarlong(batch, ref position); // timestamp delta
                var offsetDelta = ReadVarlong(batch, ref position);
                var key = ReadString(batch, ref position);
                var value = ReadString(batch, ref position);
                var headers = ReadVarlong(batch, ref position);
                for (var h = 0; h < headers; h++)
                {
                    ReadString(batch, ref position);
                    ReadString(batch, ref position);
                }
                result.Add((header.BaseOffset + offsetDelta, key, value));
            }
        }
        return result;
    }

    private static string? ReadString(byte[] bytes, ref int position)
    {
        var length = (int)ReadVarlong(bytes, ref position);
        if (length < 0) return null;
        var text = System.Text.Encoding.UTF8.GetString(bytes, position, length);
        position += length;
        return text;
    }

    private static long ReadVarlong(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        return (long)(value >> 1) ^ -(long)(value & 1);
    }

    private static void WriteBytes(List<byte> output, byte[]? bytes)
    {
        if (bytes is null)
        {
            WriteVarlong(output, -1);
            return;
        }
        WriteVarlong(output, bytes.Length);
        output.AddRange(bytes);
    }

    private static void WriteVarlong(List<byte> output, long value)
    {
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        while (zigzag >= 0x80)
        {
            output.Add((byte)(zigzag | 0x80));
            zigzag >>= 7;
        }
        output.Add((byte)zigzag);
    }
}
