using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

public class RecordBatchEditingTests
{
    [Fact]
    public void Stamping_log_append_time_keeps_the_batch_valid()
    {
        using var builder = new RecordBatchBuilder(CompressionType.Snappy);
        builder.Append(100, null, "a"u8.ToArray());
        builder.Append(200, null, "b"u8.ToArray());
        var bytes = builder.ToArray();

        RecordBatchEditing.SetMaxTimestamp(bytes, TimestampType.LogAppendTime, 9_999);
        var header = new RecordBatchHeader(bytes);
        Assert.True(header.IsCrcValid);
        Assert.Equal(TimestampType.LogAppendTime, header.TimestampType);
        Assert.Equal(9_999, header.MaxTimestamp);
        Assert.Equal(CompressionType.Snappy, header.Compression);

        RecordBatchEditing.SetMaxTimestamp(bytes, TimestampType.CreateTime, 200);
        header = new RecordBatchHeader(bytes);
        Assert.True(header.IsCrcValid);
        Assert.Equal(TimestampType.CreateTime, header.TimestampType);
        Assert.Equal(200, header.MaxTimestamp);
    }
}
