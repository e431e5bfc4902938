using Brook.Protocol.Compression;

namespace Brook.Protocol.Records;

/// <summary>
/// Writes a stored batch again with some of its records, as log compaction does. The new batch keeps the original's
/// base offset, last offset delta, leader epoch and producer id, epoch and base sequence, so the offsets of the kept
/// records and the producer's last sequence stay valid. Records are copied as they are encoded, with only the
/// timestamp delta rewritten when the base timestamp moves (KIP-534 stores the delete horizon there).
/// </summary>
public static class RecordBatchRewriter
{
    /// <summary>
    /// Writes a batch with the header fields of <paramref name="original"/> apart from the ones given, holding
    /// <paramref name="recordCount"/> records from <paramref name="uncompressedRecords"/> (written with <see cref="WriteRecord"/>),
    /// compressed with the codec in <paramref name="attributes"/>. A batch without records is written uncompressed, as
    /// Kafka writes the empty batches that keep a producer's last sequence.
    /// </summary>
    public static void WriteBatch(ProtocolWriter destination, ReadOnlySpan<byte> original, short attributes, long baseTimestamp, long maxTimestamp,
        int recordCount, ReadOnlySpan<byte> uncompressedRecords)
    {
        var header = new RecordBatchHeader(original);
        var compression = recordCount == 0 ? CompressionType.None : (CompressionType)(attributes & RecordBatchAttributes.CompressionMask);
        if (!CompressionCodecs.IsSupported(compression)) throw new NotSupportedException($"Compression codec {(int)compression} is not supported.");
        var fields = new BatchFields(header.BaseOffset, header.PartitionLeaderEpoch, attributes, header.LastOffsetDelta, baseTimestamp, maxTimestamp,
            header.ProducerId, header.ProducerEpoch, header.BaseSequence, recordCount);
        RecordBatchWriter.Write(destination, fields, uncompressedRecords, compression);
    }

    /// <summary>
    /// Appends <paramref name="record"/> to a record section with the timestamp delta <paramref name="timestampDelta"/>;
    /// attributes, offset delta, key, value and headers are copied byte for byte.
    /// </summary>
    public static void WriteRecord(ProtocolWriter destination, Record record, long timestampDelta)
    {
        if (timestampDelta == record.TimestampDelta)
        {
            destination.WriteRaw(record.Raw);
            return;
        }
        // Key, value and headers follow the offset delta; find them in the encoded record rather than re-encode them.
        var reader = new SpanReader(record.Raw);
        reader.ReadVarint(); // length
        reader.ReadByte(); // attributes
        reader.ReadVarlong(); // timestamp delta
        reader.ReadVarint(); // offset delta
        var rest = record.Raw[reader.Position..];
        var bodySize = 1 + RecordBatchBuilder.VarlongSize(timestampDelta) + RecordBatchBuilder.VarintSize(record.OffsetDelta) + rest.Length;
        destination.WriteVarint(bodySize);
        destination.WriteInt8(record.Attributes);
        destination.WriteVarlong(timestampDelta);
        destination.WriteVarint(record.OffsetDelta);
        destination.WriteRaw(rest);
    }
}
