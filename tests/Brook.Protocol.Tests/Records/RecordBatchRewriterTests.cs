using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

public class RecordBatchRewriterTests
{
    private static byte[] Original(CompressionType compression)
    {
        using var builder = new RecordBatchBuilder(compression)
        {
            BaseOffset = 500,
            PartitionLeaderEpoch = 4,
            ProducerId = 77,
            ProducerEpoch = 2,
            BaseSequence = 10,
        };
        builder.Append(1_000, "a"u8.ToArray(), "1"u8.ToArray());
        builder.Append(1_005, "b"u8.ToArray(), null, [new RecordHeader("h", "x"u8.ToArray())]);
        builder.Append(1_009, "c"u8.ToArray(), "3"u8.ToArray());
        return builder.ToArray();
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Zstd)]
    public void A_subset_of_records_under_a_new_base_timestamp_keeps_offsets_timestamps_and_header_fields(CompressionType compression)
    {
        var original = Original(compression);
        var header = new RecordBatchHeader(original);
        const long Horizon = 90_000;
        using var records = new ProtocolWriter();
        using (var section = DecompressedRecords.Create(original, 1 << 20))
        {
            foreach (var record in section.Records)
            {
                if (record.OffsetDelta == 1) RecordBatchRewriter.WriteRecord(records, record, record.Timestamp(header.BaseTimestamp) - Horizon);
            }
        }
        using var output = new ProtocolWriter();

        var attributes = (short)(header.Attributes | RecordBatchAttributes.DeleteHorizonFlag);
        RecordBatchRewriter.WriteBatch(output, original, attributes, Horizon, 1_005, 1, records.WrittenSpan);

        var rewritten = new RecordBatch(output.WrittenMemory);
        var h = rewritten.Header;
        Assert.True(h.IsCrcValid);
        Assert.True(h.HasDeleteHorizon);
        Assert.Equal(compression, h.Compression);
        Assert.Equal((500L, 502L, 4, 1), (h.BaseOffset, h.LastOffset, h.PartitionLeaderEpoch, h.RecordCount));
        Assert.Equal((77L, (short)2, 10), (h.ProducerId, h.ProducerEpoch, h.BaseSequence));
        Assert.Equal((Horizon, 1_005L), (h.BaseTimestamp, h.MaxTimestamp));
        using var kept = rewritten.DecompressRecords(1 << 20);
        var count = 0;
        foreach (var record in kept.Records)
        {
            count++;
            Assert.Equal(501, record.Offset(h.BaseOffset));
            Assert.Equal(1_005, record.Timestamp(h.BaseTimestamp));
            Assert.Equal("b"u8.ToArray(), record.Key.ToArray());
            Assert.True(record.ValueIsNull);
            foreach (var recordHeader in record.Headers)
            {
                Assert.Equal("h", recordHeader.GetKeyString());
                Assert.Equal("x"u8.ToArray(), recordHeader.Value.ToArray());
            }
            Assert.Equal(1, record.HeaderCount);
        }
        Assert.Equal(1, count);
    }

    [Fact]
    public void An_unchanged_timestamp_delta_copies_the_record_byte_for_byte()
    {
        var original = Original(CompressionType.None);
        using var records = new ProtocolWriter();
        var raw = Array.Empty<byte>();
        using (var section = DecompressedRecords.Create(original, 1 << 20))
        {
            foreach (var record in section.Records)
            {
                if (record.OffsetDelta != 2) continue;
                raw = record.Raw.ToArray();
                RecordBatchRewriter.WriteRecord(records, record, record.TimestampDelta);
            }
        }

        Assert.Equal(raw, records.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_batch_without_records_is_written_uncompressed_and_keeps_its_last_offset()
    {
        var original = Original(CompressionType.Lz4);
        var header = new RecordBatchHeader(original);
        using var output = new ProtocolWriter();

        RecordBatchRewriter.WriteBatch(output, original, header.Attributes, header.BaseTimestamp, header.MaxTimestamp, 0, []);

        var empty = new RecordBatch(output.WrittenMemory).Header;
        Assert.True(empty.IsCrcValid);
        Assert.Equal(CompressionType.None, empty.Compression);
        Assert.Equal((500L, 502L, 0, 10), (empty.BaseOffset, empty.LastOffset, empty.RecordCount, empty.BaseSequence));
        Assert.Equal(RecordBatchHeader.Size, output.Length);
    }
}
