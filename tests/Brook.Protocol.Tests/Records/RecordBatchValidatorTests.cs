using System.Buffers.Binary;
using Brook.Protocol.Compression;
using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

public class RecordBatchValidatorTests
{
    private static readonly RecordValidationOptions Options = RecordValidationOptions.ForProduce(produceVersion: 9, maxDecompressedBytes: 1 << 20);

    private static byte[] Batch(CompressionType codec = CompressionType.None, int records = 3, long producerId = 500)
    {
        using var builder = new RecordBatchBuilder(codec) { ProducerId = producerId, ProducerEpoch = 1, BaseSequence = producerId >= 0 ? 0 : -1 };
        for (var i = 0; i < records; i++) builder.Append(1000 + (i * 7 % 5), "key"u8.ToArray(), new byte[100]);
        return builder.ToArray();
    }

    /// <summary>Changes a header field that the CRC covers and re-signs the batch, so only the field itself is wrong.</summary>
    private static byte[] Patched(byte[] batch, Action<byte[]> patch)
    {
        var copy = (byte[])batch.Clone();
        patch(copy);
        RecordBatchHeader.UpdateCrc(copy);
        return copy;
    }

    private static void AssertRejected(byte[] records, RecordValidationOutcome outcome, short errorCode, RecordValidationOptions? options = null)
    {
        var result = RecordBatchValidator.Validate(records, options ?? Options);
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(errorCode, (short)result.ErrorCode);
        Assert.False(result.IsValid);
        Assert.False(string.IsNullOrEmpty(result.Reason));
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void A_well_formed_batch_is_accepted_with_its_totals(CompressionType codec)
    {
        var batch = Batch(codec, records: 5);
        var result = RecordBatchValidator.Validate(batch, Options);
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(ErrorCode.None, result.ErrorCode);
        Assert.Equal(1, result.BatchCount);
        Assert.Equal(5, result.RecordCount);
        Assert.Equal(1004, result.MaxTimestamp);
        Assert.Equal(batch.Length, result.Bytes);
        Assert.Equal(codec, result.Compression);
        Assert.Equal(500, result.ProducerId);
        Assert.Equal(1, result.ProducerEpoch);
        Assert.Equal(0, result.BaseSequence);
    }

    [Fact]
    public void Several_batches_are_totalled_when_allowed()
    {
        var records = Batch(records: 2).Concat(Batch(CompressionType.Gzip, records: 3)).ToArray();
        var result = RecordBatchValidator.Validate(records, Options with { RequireSingleBatch = false });
        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(2, result.BatchCount);
        Assert.Equal(5, result.RecordCount);
        Assert.Equal(records.Length, result.Bytes);
    }

    [Fact]
    public void A_second_batch_is_rejected_for_produce() =>
        AssertRejected(Batch().Concat(Batch()).ToArray(), RecordValidationOutcome.InvalidRecord, 87);

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Zstd)]
    public void A_record_without_a_key_is_rejected_only_where_keys_are_required(CompressionType codec)
    {
        using var builder = new RecordBatchBuilder(codec);
        builder.Append(1000, "key"u8.ToArray(), new byte[10]);
        builder.Append(1001, null, new byte[10]);
        var batch = builder.ToArray();

        Assert.True(RecordBatchValidator.Validate(batch, Options).IsValid);
        var compacted = RecordValidationOptions.ForProduce(produceVersion: 9, maxDecompressedBytes: 1 << 20, compactedTopic: true);
        AssertRejected(batch, RecordValidationOutcome.InvalidRecord, 87, compacted);
        Assert.True(RecordBatchValidator.Validate(Batch(codec), compacted).IsValid);
    }

    [Fact]
    public void No_batch_at_all_is_rejected() => AssertRejected([], RecordValidationOutcome.InvalidRecord, 87);

    [Fact]
    public void A_flipped_byte_fails_the_CRC()
    {
        var batch = Batch();
        batch[^10] ^= 0x01;
        AssertRejected(batch, RecordValidationOutcome.Corrupt, 2);
        var header = Batch();
        header[RecordBatchHeader.MaxTimestampPosition + 7] ^= 0x40;
        AssertRejected(header, RecordValidationOutcome.Corrupt, 2);
    }

    [Fact]
    public void A_truncated_batch_is_corrupt()
    {
        var batch = Batch();
        AssertRejected(batch[..^1], RecordValidationOutcome.Corrupt, 2);
        AssertRejected(batch[..30], RecordValidationOutcome.Corrupt, 2);
        AssertRejected(batch[..8], RecordValidationOutcome.Corrupt, 2);
    }

    [Fact]
    public void A_batch_length_below_the_header_is_corrupt() =>
        AssertRejected(Patched(Batch(), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), 20)), RecordValidationOutcome.Corrupt, 2);

    [Fact]
    public void Old_magic_is_an_invalid_record_and_unknown_magic_is_corrupt()
    {
        AssertRejected(Patched(Batch(), b => b[16] = 1), RecordValidationOutcome.UnsupportedMagic, 87);
        AssertRejected(Patched(Batch(), b => b[16] = 0), RecordValidationOutcome.UnsupportedMagic, 87);
        AssertRejected(Patched(Batch(), b => b[16] = 9), RecordValidationOutcome.Corrupt, 2);
    }

    [Fact]
    public void A_short_old_format_message_is_an_invalid_record_rather_than_corrupt()
    {
        // A magic 0 message: offset, size 20, crc, magic 0, attributes, null key, 5-byte value.
        var message = new byte[12 + 20];
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(8), 20);
        message[16] = 0;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(18), -1);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(22), 5);
        AssertRejected(message, RecordValidationOutcome.UnsupportedMagic, 87);
    }

    [Fact]
    public void A_record_count_that_disagrees_with_the_records_is_invalid()
    {
        // Count and last offset delta agree with each other but not with the three records present.
        AssertRejected(Patched(Batch(records: 3), b =>
        {
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatchHeader.RecordCountPosition), 4);
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatchHeader.LastOffsetDeltaPosition), 3);
        }), RecordValidationOutcome.InvalidRecord, 87);
        AssertRejected(Patched(Batch(records: 3), b =>
        {
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatchHeader.RecordCountPosition), 2);
            BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatchHeader.LastOffsetDeltaPosition), 1);
        }), RecordValidationOutcome.InvalidRecord, 87);
    }

    [Fact]
    public void A_last_offset_delta_that_disagrees_with_the_count_is_invalid()
    {
        AssertRejected(Patched(Batch(records: 3), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatchHeader.LastOffsetDeltaPosition), 5)),
            RecordValidationOutcome.InvalidRecord, 87);
        AssertRejected(Patched(Batch(records: 3), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatchHeader.RecordCountPosition), 0)),
            RecordValidationOutcome.InvalidRecord, 87);
    }

    [Fact]
    public void Records_that_do_not_parse_are_invalid()
    {
        // The first record's length prefix now claims more bytes than the section holds.
        AssertRejected(Patched(Batch(), b =>
        {
            b[RecordBatchHeader.Size] = 0xFE;
            b[RecordBatchHeader.Size + 1] = 0x7F;
        }), RecordValidationOutcome.InvalidRecord, 87);
    }

    [Fact]
    public void Unknown_codec_is_unsupported_compression()
    {
        AssertRejected(Patched(Batch(), b => b[RecordBatchHeader.AttributesPosition + 1] |= 0x05), RecordValidationOutcome.UnsupportedCompression, 76);
        AssertRejected(Patched(Batch(), b => b[RecordBatchHeader.AttributesPosition + 1] |= 0x07), RecordValidationOutcome.UnsupportedCompression, 76);
    }

    [Fact]
    public void Zstd_before_produce_version_7_is_unsupported_compression() =>
        AssertRejected(Batch(CompressionType.Zstd), RecordValidationOutcome.UnsupportedCompression, 76,
            RecordValidationOptions.ForProduce(produceVersion: 6, maxDecompressedBytes: 1 << 20));

    [Fact]
    public void Undecodable_compressed_records_are_corrupt() =>
        AssertRejected(Patched(Batch(CompressionType.Gzip), b => b.AsSpan(RecordBatchHeader.Size + 10).Fill(0xAB)), RecordValidationOutcome.Corrupt, 2);

    [Fact]
    public void Records_expanding_beyond_the_limit_are_too_large()
    {
        var options = RecordValidationOptions.ForProduce(9, maxDecompressedBytes: 200);
        AssertRejected(Batch(CompressionType.Lz4), RecordValidationOutcome.DecompressedTooLarge, 10, options);
        AssertRejected(Batch(CompressionType.None), RecordValidationOutcome.DecompressedTooLarge, 10, options);
    }

    [Fact]
    public void Control_batches_from_clients_are_invalid()
    {
        var marker = ControlRecords.BuildTransactionMarker(commit: true, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 1);
        AssertRejected(marker, RecordValidationOutcome.InvalidRecord, 87);
        Assert.True(RecordBatchValidator.Validate(marker, Options with { AllowControlBatches = true }).IsValid);
    }

    [Fact]
    public void A_producer_id_without_a_sequence_is_invalid() =>
        AssertRejected(Patched(Batch(), b => BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordBatchHeader.BaseSequencePosition), -1)),
            RecordValidationOutcome.InvalidRecord, 87);

    [Fact]
    public void Offset_deltas_must_count_up_from_zero()
    {
        // The first record starts with a two-byte length, attributes and a one-byte timestamp delta, then its offset delta.
        var batch = Batch();
        Assert.Equal(0, batch[RecordBatchHeader.Size + 4]);
        AssertRejected(Patched(batch, b => b[RecordBatchHeader.Size + 4] = 0x02), RecordValidationOutcome.InvalidRecord, 87);
    }

    [Fact]
    public void Decompression_api_keeps_pooled_output_bounded_for_the_uncompressed_codec()
    {
        Assert.Throws<ProtocolException>(() => CompressionCodecs.Decompress(CompressionType.None, new byte[300], 200));
    }
}
