using System.Buffers.Binary;
using System.Text;
using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

public class RecordBatchTests
{
    private const int Limit = 1 << 20;

    public static TheoryData<CompressionType> Codecs => new()
    {
        CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4, CompressionType.Zstd,
    };

    private sealed record Expected(long Timestamp, string? Key, string? Value, (string Key, string? Value)[] Headers);

    private static readonly Expected[] SampleRecords =
    [
        new(1_700_000_000_000, "user-1", "{\"clicks\":1}", [("source", "web"), ("trace", null)]),
        new(1_700_000_000_250, null, "value without key", []),
        new(1_699_999_999_000, "tombstone", null, []),
        new(1_700_000_001_000, "", new string('x', 5000), [("big", new string('y', 300))]),
    ];

    private static byte[]? Bytes(string? text) => text is null ? null : Encoding.UTF8.GetBytes(text);

    private static RecordBatchBuilder SampleBuilder(CompressionType codec)
    {
        var builder = new RecordBatchBuilder(codec)
        {
            BaseOffset = 42,
            PartitionLeaderEpoch = 7,
            ProducerId = 9001,
            ProducerEpoch = 3,
            BaseSequence = 100,
            IsTransactional = true,
        };
        foreach (var record in SampleRecords)
        {
            var headers = record.Headers.Select(h => new RecordHeader(h.Key, Bytes(h.Value))).ToArray();
            builder.Append(record.Timestamp, Bytes(record.Key), Bytes(record.Value), headers);
        }
        return builder;
    }

    private static List<Expected> ReadBack(ReadOnlyMemory<byte> batchBytes)
    {
        var batch = new RecordBatch(batchBytes);
        var baseTimestamp = batch.Header.BaseTimestamp;
        var result = new List<Expected>();
        using var records = batch.DecompressRecords(Limit);
        var offsetDelta = 0;
        foreach (var record in records.Records)
        {
            Assert.Equal(offsetDelta++, record.OffsetDelta);
            var headers = new List<(string, string?)>();
            foreach (var header in record.Headers)
                headers.Add((header.GetKeyString(), header.ValueIsNull ? null : Encoding.UTF8.GetString(header.Value)));
            result.Add(new Expected(
                record.Timestamp(baseTimestamp),
                record.KeyIsNull ? null : Encoding.UTF8.GetString(record.Key),
                record.ValueIsNull ? null : Encoding.UTF8.GetString(record.Value),
                [.. headers]));
        }
        return result;
    }

    private static void AssertSameRecords(IReadOnlyList<Expected> expected, IReadOnlyList<Expected> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Timestamp, actual[i].Timestamp);
            Assert.Equal(expected[i].Key, actual[i].Key);
            Assert.Equal(expected[i].Value, actual[i].Value);
            Assert.Equal(expected[i].Headers, actual[i].Headers);
        }
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public void A_built_batch_iterates_back_to_the_same_records(CompressionType codec)
    {
        using var builder = SampleBuilder(codec);
        var bytes = builder.ToArray();

        var header = new RecordBatchHeader(bytes);
        Assert.Equal(bytes.Length, header.TotalSize);
        Assert.Equal(2, header.Magic);
        Assert.True(header.IsCrcValid);
        Assert.Equal(codec, header.Compression);
        Assert.Equal(42, header.BaseOffset);
        Assert.Equal(7, header.PartitionLeaderEpoch);
        Assert.Equal(9001, header.ProducerId);
        Assert.Equal(3, header.ProducerEpoch);
        Assert.Equal(100, header.BaseSequence);
        Assert.True(header.IsTransactional);
        Assert.False(header.IsControl);
        Assert.Equal(SampleRecords.Length, header.RecordCount);
        Assert.Equal(SampleRecords.Length - 1, header.LastOffsetDelta);
        Assert.Equal(SampleRecords[0].Timestamp, header.BaseTimestamp);
        Assert.Equal(SampleRecords.Max(r => r.Timestamp), header.MaxTimestamp);

        AssertSameRecords(SampleRecords, ReadBack(bytes));
    }

    [Fact]
    public void Builder_output_matches_a_batch_laid_out_by_hand()
    {
        // One record: key "k", value "hello", no headers, timestamp 1000, offset 5, no producer.
        byte[] record = [0x18, 0x00, 0x00, 0x00, 0x02, (byte)'k', 0x0A, (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', 0x00];
        Assert.Equal(record.Length - 1, record[0] >> 1); // the zigzag length prefix counts the bytes after it
        var expected = new byte[61 + record.Length];
        BinaryPrimitives.WriteInt64BigEndian(expected.AsSpan(0), 5);
        BinaryPrimitives.WriteInt32BigEndian(expected.AsSpan(8), expected.Length - 12);
        BinaryPrimitives.WriteInt32BigEndian(expected.AsSpan(12), -1);
        expected[16] = 2;
        BinaryPrimitives.WriteInt16BigEndian(expected.AsSpan(21), 0);
        BinaryPrimitives.WriteInt32BigEndian(expected.AsSpan(23), 0);
        BinaryPrimitives.WriteInt64BigEndian(expected.AsSpan(27), 1000);
        BinaryPrimitives.WriteInt64BigEndian(expected.AsSpan(35), 1000);
        BinaryPrimitives.WriteInt64BigEndian(expected.AsSpan(43), -1);
        BinaryPrimitives.WriteInt16BigEndian(expected.AsSpan(51), -1);
        BinaryPrimitives.WriteInt32BigEndian(expected.AsSpan(53), -1);
        BinaryPrimitives.WriteInt32BigEndian(expected.AsSpan(57), 1);
        record.CopyTo(expected.AsSpan(61));
        // Table-driven CRC, so the check does not rest on the hardware path the builder uses.
        var crc = ~Crc32C.AppendSoftware(~0u, expected.AsSpan(21));
        BinaryPrimitives.WriteUInt32BigEndian(expected.AsSpan(17), crc);

        using var builder = new RecordBatchBuilder { BaseOffset = 5 };
        builder.Append(1000, "k"u8.ToArray(), "hello"u8.ToArray());
        Assert.Equal(expected, builder.ToArray());
    }

    [Fact]
    public void Known_CRC32C_check_value_holds()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
    }

    [Fact]
    public void Control_batch_carries_a_transaction_marker()
    {
        var bytes = ControlRecords.BuildTransactionMarker(commit: true, producerId: 77, producerEpoch: 2, coordinatorEpoch: 11, timestamp: 5000, baseOffset: 900);
        var batch = new RecordBatch(bytes);
        var header = batch.Header;
        Assert.True(header.IsControl);
        Assert.True(header.IsTransactional);
        Assert.True(header.IsCrcValid);
        Assert.Equal(77, header.ProducerId);
        Assert.Equal(2, header.ProducerEpoch);
        Assert.Equal(-1, header.BaseSequence);
        Assert.Equal(900, header.BaseOffset);
        Assert.Equal(1, header.RecordCount);

        using var records = batch.DecompressRecords(Limit);
        var count = 0;
        foreach (var record in records.Records)
        {
            Assert.Equal(new byte[] { 0, 0, 0, 1 }, record.Key.ToArray());
            Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 11 }, record.Value.ToArray());
            Assert.Equal(ControlRecordType.Commit, ControlRecords.ParseType(record.Key));
            Assert.Equal(11, ControlRecords.ParseCoordinatorEpoch(record.Value));
            count++;
        }
        Assert.Equal(1, count);

        var abort = new RecordBatch(ControlRecords.BuildTransactionMarker(false, 77, 2, 11, 5000));
        using var abortRecords = abort.DecompressRecords(Limit);
        var enumerator = abortRecords.Records.GetEnumerator();
        Assert.True(enumerator.MoveNext());
        Assert.Equal(ControlRecordType.Abort, ControlRecords.ParseType(enumerator.Current.Key));
    }

    [Fact]
    public void Control_key_parsing_rejects_short_or_negative_versions_and_tolerates_new_types()
    {
        Assert.Throws<ProtocolException>(() => ControlRecords.ParseType([0, 0, 0]));
        Assert.Throws<ProtocolException>(() => ControlRecords.ParseType([0xFF, 0xFF, 0, 1]));
        Assert.Equal(ControlRecordType.Unknown, ControlRecords.ParseType([0, 0, 0x7F, 0]));
        Assert.Equal(ControlRecordType.LeaderChange, ControlRecords.ParseType([0, 0, 0, 2]));
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] SingleRecordBatch(long baseOffset, CompressionType codec = CompressionType.None)
    {
        using var builder = new RecordBatchBuilder(codec) { BaseOffset = baseOffset };
        builder.Append(baseOffset * 10, null, Encoding.UTF8.GetBytes($"value {baseOffset}"));
        return builder.ToArray();
    }

    [Fact]
    public void Enumerating_concatenated_batches_yields_each_and_stops_at_a_partial_one()
    {
        var first = SingleRecordBatch(0);
        var second = SingleRecordBatch(1, CompressionType.Gzip);
        var third = SingleRecordBatch(2);
        var buffer = Concat(first, second, third[..40]);

        var enumerator = new RecordBatchEnumerator(buffer);
        var offsets = new List<long>();
        while (enumerator.MoveNext())
        {
            Assert.True(enumerator.Current.Header.IsCrcValid);
            offsets.Add(enumerator.Current.Header.BaseOffset);
        }
        Assert.Equal(new long[] { 0, 1 }, offsets);
        Assert.True(enumerator.EndedWithPartialBatch);
        Assert.Equal(40, enumerator.TrailingPartialBytes);
        Assert.Equal(first.Length + second.Length, enumerator.Position);
    }

    [Fact]
    public void Enumerating_stops_cleanly_when_even_the_length_field_is_cut()
    {
        var buffer = Concat(SingleRecordBatch(0), new byte[5]);
        var count = 0;
        var enumerator = new RecordBatchEnumerator(buffer);
        while (enumerator.MoveNext()) count++;
        Assert.Equal(1, count);
        Assert.Equal(5, enumerator.TrailingPartialBytes);
    }

    [Fact]
    public void Enumerating_whole_batches_reports_no_partial()
    {
        var enumerator = new RecordBatchEnumerator(Concat(SingleRecordBatch(0), SingleRecordBatch(1)));
        var count = 0;
        foreach (var batch in enumerator) count += batch.Header.RecordCount;
        Assert.Equal(2, count);
        var drained = new RecordBatchEnumerator(Concat(SingleRecordBatch(0)));
        while (drained.MoveNext())
        {
        }
        Assert.False(drained.EndedWithPartialBatch);
    }

    [Fact]
    public void Enumerating_an_impossible_batch_length_or_magic_throws()
    {
        var shortLength = SingleRecordBatch(0);
        BinaryPrimitives.WriteInt32BigEndian(shortLength.AsSpan(8), 10);
        Assert.Throws<ProtocolException>(() => new RecordBatchEnumerator(shortLength).MoveNext());

        var oldMagic = SingleRecordBatch(0);
        oldMagic[16] = 1;
        Assert.Throws<ProtocolException>(() => new RecordBatchEnumerator(oldMagic).MoveNext());
    }

    [Theory]
    [InlineData(CompressionType.None, CompressionType.Zstd)]
    [InlineData(CompressionType.Gzip, CompressionType.Lz4)]
    [InlineData(CompressionType.Snappy, CompressionType.None)]
    [InlineData(CompressionType.Lz4, CompressionType.Snappy)]
    [InlineData(CompressionType.Zstd, CompressionType.Gzip)]
    public void Recompressing_keeps_header_fields_and_records(CompressionType from, CompressionType to)
    {
        using var builder = SampleBuilder(from);
        var original = builder.ToArray();
        var rewritten = RecordBatchRecompressor.Recompress(original, to, Limit);

        var before = new RecordBatchHeader(original);
        var after = new RecordBatchHeader(rewritten);
        Assert.True(after.IsCrcValid);
        Assert.Equal(rewritten.Length, after.TotalSize);
        Assert.Equal(to, after.Compression);
        Assert.Equal(before.BaseOffset, after.BaseOffset);
        Assert.Equal(before.PartitionLeaderEpoch, after.PartitionLeaderEpoch);
        Assert.Equal(before.LastOffsetDelta, after.LastOffsetDelta);
        Assert.Equal(before.BaseTimestamp, after.BaseTimestamp);
        Assert.Equal(before.MaxTimestamp, after.MaxTimestamp);
        Assert.Equal(before.ProducerId, after.ProducerId);
        Assert.Equal(before.ProducerEpoch, after.ProducerEpoch);
        Assert.Equal(before.BaseSequence, after.BaseSequence);
        Assert.Equal(before.RecordCount, after.RecordCount);
        Assert.Equal(before.IsTransactional, after.IsTransactional);
        Assert.Equal(before.Attributes & ~7, after.Attributes & ~7);
        AssertSameRecords(SampleRecords, ReadBack(rewritten));
    }

    [Fact]
    public void Decompressed_view_enforces_its_limit()
    {
        using var builder = SampleBuilder(CompressionType.Zstd);
        var batch = new RecordBatch(builder.ToArray());
        Assert.Throws<ProtocolException>(() => batch.DecompressRecords(1000));
    }

    [Fact]
    public void A_cleared_builder_starts_a_fresh_batch()
    {
        using var builder = SampleBuilder(CompressionType.None);
        builder.Clear();
        builder.Append(10, null, "only"u8.ToArray());
        var header = new RecordBatchHeader(builder.ToArray());
        Assert.Equal(1, header.RecordCount);
        Assert.Equal(10, header.BaseTimestamp);
        Assert.Equal(0, header.LastOffsetDelta);
    }
}
