namespace Brook.Protocol.Records;

/// <summary>
/// Rewrites a batch with another compression codec, for topics whose compression.type is not "producer".
/// The encoded records are carried over byte for byte, so offset deltas, timestamps and headers stay; the
/// header keeps base offset, leader epoch, producer fields, timestamps and flags, and only the codec bits,
/// the length and the CRC change.
/// </summary>
public static class RecordBatchRecompressor
{
    /// <summary>
    /// Writes the rewritten batch to <paramref name="destination"/>. Meant for batches already checked by
    /// <see cref="RecordBatchValidator"/>; the source CRC is not checked again. Throws <see cref="ProtocolException"/>
    /// when the batch cannot be read or its records exceed <paramref name="maxDecompressedBytes"/>.
    /// </summary>
    public static void Recompress(ReadOnlyMemory<byte> batch, CompressionType target, ProtocolWriter destination, int maxDecompressedBytes)
    {
        var header = new RecordBatchHeader(batch.Span);
        if (header.Magic != RecordBatch.CurrentMagic) throw new ProtocolException($"Record batch magic {header.Magic} is not supported.");
        using var records = DecompressedRecords.Create(batch, maxDecompressedBytes);
        RecordBatchWriter.Write(destination, RecordBatchWriter.FieldsOf(header), records.Span, target);
    }

    public static byte[] Recompress(ReadOnlyMemory<byte> batch, CompressionType target, int maxDecompressedBytes)
    {
        using var writer = new ProtocolWriter(batch.Length + 64);
        Recompress(batch, target, writer, maxDecompressedBytes);
        return writer.WrittenSpan.ToArray();
    }
}
