using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

/// <summary>Mutated and random input must end in an outcome or a <see cref="ProtocolException"/>, never anything else.</summary>
public class HostileInputTests
{
    private static readonly RecordValidationOptions Options = new(MaxDecompressedBytes: 1 << 20, RequireSingleBatch: false);

    private static byte[] Batch(CompressionType codec)
    {
        using var builder = new RecordBatchBuilder(codec) { ProducerId = 1, ProducerEpoch = 0, BaseSequence = 0 };
        for (var i = 0; i < 20; i++)
            builder.Append(1000 + i, i % 3 == 0 ? null : BitConverter.GetBytes(i), new byte[i * 10], [new RecordHeader("h", [(byte)i])]);
        return builder.ToArray();
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Mutated_batches_never_make_the_validator_throw(CompressionType codec)
    {
        var original = Batch(codec);
        var random = new Random(1234 + (int)codec);
        var outcomes = new HashSet<RecordValidationOutcome>();
        for (var round = 0; round < 1500; round++)
        {
            var mutated = (byte[])original.Clone();
            var flips = random.Next(1, 4);
            for (var i = 0; i < flips; i++) mutated[random.Next(mutated.Length)] ^= (byte)random.Next(1, 256);
            if (random.Next(4) == 0) mutated = mutated[..random.Next(mutated.Length)];
            // Re-signing half of them gets the damage past the CRC check into decompression and record parsing.
            if (random.Next(2) == 0 && mutated.Length >= RecordBatchHeader.Size && new RecordBatchHeader(mutated).TotalSize == mutated.Length)
                RecordBatchHeader.UpdateCrc(mutated);

            var result = RecordBatchValidator.Validate(mutated, Options);
            outcomes.Add(result.Outcome);
            if (result.IsValid)
            {
                // Whatever passed validation must also iterate cleanly.
                foreach (var batch in new RecordBatchEnumerator(mutated))
                {
                    using var records = batch.DecompressRecords(Options.MaxDecompressedBytes);
                    var count = 0;
                    foreach (var record in records.Records)
                    {
                        foreach (var header in record.Headers) _ = header.Value.Length;
                        count++;
                    }
                    Assert.Equal(batch.Header.RecordCount, count);
                }
            }
        }
        Assert.Contains(RecordValidationOutcome.Corrupt, outcomes);
        Assert.Contains(RecordValidationOutcome.InvalidRecord, outcomes);
    }

    [Fact]
    public void Random_bytes_as_a_record_section_only_raise_protocol_errors()
    {
        var random = new Random(99);
        for (var round = 0; round < 5000; round++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            try
            {
                foreach (var record in new RecordSection(bytes))
                    foreach (var header in record.Headers) _ = header.Key.Length;
            }
            catch (ProtocolException)
            {
            }
        }
    }

    [Fact]
    public void Iterating_and_validating_an_uncompressed_batch_does_not_allocate()
    {
        var bytes = Batch(CompressionType.None);
        long Walk()
        {
            long sum = 0;
            foreach (var record in new RecordSection(bytes.AsSpan(RecordBatchHeader.Size)))
            {
                sum += record.Value.Length + record.Key.Length;
                foreach (var header in record.Headers) sum += header.Value.Length;
            }
            return sum;
        }
        Walk();
        RecordBatchValidator.Validate(bytes, Options);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var total = Walk();
        var result = RecordBatchValidator.Validate(bytes, Options);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(total > 0);
        Assert.True(result.IsValid);
        Assert.Equal(0, allocated);
    }
}
