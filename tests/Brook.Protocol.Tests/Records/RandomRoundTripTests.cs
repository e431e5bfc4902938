using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

/// <summary>Seeded random batches: whatever the builder writes, the validator accepts and the readers give back.</summary>
public class RandomRoundTripTests
{
    private sealed record Header(string Key, byte[]? Value);

    private sealed record Sample(long Timestamp, byte[]? Key, byte[]? Value, Header[] Headers);

    private static byte[]? RandomBytes(Random random, int maxLength)
    {
        if (random.Next(5) == 0) return null;
        var bytes = new byte[random.Next(maxLength + 1)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static readonly string[] HeaderKeys = ["", "trace-id", "ключ", "キー", "k\u00e9y"];

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData(CompressionType.Gzip)]
    [InlineData(CompressionType.Snappy)]
    [InlineData(CompressionType.Lz4)]
    [InlineData(CompressionType.Zstd)]
    public void Random_batches_survive_building_validation_and_reading(CompressionType codec)
    {
        var random = new Random(2024 + (int)codec);
        for (var round = 0; round < 60; round++)
        {
            var baseTimestamp = random.NextInt64(0, 2_000_000_000_000);
            var samples = Enumerable.Range(0, random.Next(1, 40)).Select(_ => new Sample(
                baseTimestamp + random.Next(-100_000, 100_000),
                RandomBytes(random, 64),
                RandomBytes(random, 3000),
                Enumerable.Range(0, random.Next(4)).Select(_ => new Header(HeaderKeys[random.Next(HeaderKeys.Length)], RandomBytes(random, 40))).ToArray()))
                .ToArray();

            using var builder = new RecordBatchBuilder(codec)
            {
                BaseOffset = random.NextInt64(0, long.MaxValue / 2),
                ProducerId = random.Next(0, 1000),
                ProducerEpoch = (short)random.Next(0, 100),
                BaseSequence = random.Next(0, int.MaxValue / 2),
            };
            foreach (var sample in samples)
                builder.Append(sample.Timestamp, sample.Key, sample.Value, sample.Headers.Select(h => new RecordHeader(h.Key, h.Value)).ToArray());
            var bytes = builder.ToArray();

            var result = RecordBatchValidator.Validate(bytes, new RecordValidationOptions(1 << 22));
            Assert.True(result.IsValid, result.Reason);
            Assert.Equal(samples.Length, result.RecordCount);
            Assert.Equal(samples.Max(s => s.Timestamp), result.MaxTimestamp);

            var batch = new RecordBatch(bytes);
            var header = batch.Header;
            using var records = batch.DecompressRecords(1 << 22);
            var index = 0;
            foreach (var record in records.Records)
            {
                var sample = samples[index];
                Assert.Equal(index, record.OffsetDelta);
                Assert.Equal(sample.Timestamp, record.Timestamp(header.BaseTimestamp));
                Assert.Equal(sample.Key is null, record.KeyIsNull);
                Assert.Equal(sample.Key ?? [], record.Key.ToArray());
                Assert.Equal(sample.Value is null, record.ValueIsNull);
                Assert.Equal(sample.Value ?? [], record.Value.ToArray());
                var headerIndex = 0;
                foreach (var recordHeader in record.Headers)
                {
                    var expected = sample.Headers[headerIndex++];
                    Assert.Equal(expected.Key, recordHeader.GetKeyString());
                    Assert.Equal(expected.Value is null, recordHeader.ValueIsNull);
                    Assert.Equal(expected.Value ?? [], recordHeader.Value.ToArray());
                }
                Assert.Equal(sample.Headers.Length, headerIndex);
                index++;
            }
            Assert.Equal(samples.Length, index);
        }
    }
}
