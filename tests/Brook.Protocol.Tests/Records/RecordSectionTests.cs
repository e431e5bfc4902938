using System.Text;
using Brook.Protocol.Records;

namespace Brook.Protocol.Tests.Records;

public class RecordSectionTests
{
    /// <summary>Encodes one record field by field, independently of <see cref="RecordBatchBuilder"/>.</summary>
    private static void WriteRecord(ProtocolWriter writer, long timestampDelta, int offsetDelta, byte[]? key, byte[]? value,
        params (string Key, byte[]? Value)[] headers)
    {
        using var body = new ProtocolWriter();
        body.WriteInt8(0);
        body.WriteVarlong(timestampDelta);
        body.WriteVarint(offsetDelta);
        WriteBytes(body, key);
        WriteBytes(body, value);
        body.WriteVarint(headers.Length);
        foreach (var (headerKey, headerValue) in headers)
        {
            WriteBytes(body, Encoding.UTF8.GetBytes(headerKey));
            WriteBytes(body, headerValue);
        }
        writer.WriteVarint(body.Length);
        writer.WriteRaw(body.WrittenSpan);
    }

    private static void WriteBytes(ProtocolWriter writer, byte[]? bytes)
    {
        writer.WriteVarint(bytes?.Length ?? -1);
        if (bytes is not null) writer.WriteRaw(bytes);
    }

    [Fact]
    public void Records_are_read_back_field_by_field()
    {
        using var writer = new ProtocolWriter();
        WriteRecord(writer, 0, 0, "k1"u8.ToArray(), "v1"u8.ToArray(), ("trace", "abc"u8.ToArray()), ("empty", null));
        WriteRecord(writer, -5, 1, null, null);
        WriteRecord(writer, 1_000_000_000_000, 2, [], new byte[300]);

        var seen = 0;
        foreach (var record in new RecordSection(writer.WrittenSpan))
        {
            Assert.Equal(seen, record.OffsetDelta);
            switch (seen)
            {
                case 0:
                    Assert.Equal("k1"u8, record.Key);
                    Assert.False(record.KeyIsNull);
                    Assert.Equal("v1"u8, record.Value);
                    Assert.Equal(2, record.HeaderCount);
                    var headers = new List<(string, string?)>();
                    foreach (var header in record.Headers)
                        headers.Add((header.GetKeyString(), header.ValueIsNull ? null : Encoding.UTF8.GetString(header.Value)));
                    Assert.Equal(new (string, string?)[] { ("trace", "abc"), ("empty", null) }, headers);
                    break;
                case 1:
                    Assert.Equal(-5, record.TimestampDelta);
                    Assert.Equal(995, record.Timestamp(1000));
                    Assert.True(record.KeyIsNull);
                    Assert.True(record.ValueIsNull);
                    Assert.Equal(0, record.HeaderCount);
                    break;
                case 2:
                    Assert.Equal(1_000_000_000_000, record.TimestampDelta);
                    Assert.False(record.KeyIsNull);
                    Assert.True(record.Key.IsEmpty);
                    Assert.Equal(300, record.Value.Length);
                    Assert.Equal(102, record.Offset(100));
                    break;
            }
            seen++;
        }
        Assert.Equal(3, seen);
    }

    [Fact]
    public void Raw_holds_the_whole_encoded_record()
    {
        using var writer = new ProtocolWriter();
        WriteRecord(writer, 3, 0, "key"u8.ToArray(), "value"u8.ToArray());
        var enumerator = new RecordSection(writer.WrittenSpan).GetEnumerator();
        Assert.True(enumerator.MoveNext());
        Assert.Equal(writer.WrittenSpan.ToArray(), enumerator.Current.Raw.ToArray());
        Assert.False(enumerator.MoveNext());
        Assert.Equal(writer.Length, enumerator.Position);
    }

    private static void AssertMalformed(byte[] section)
    {
        var thrown = false;
        try
        {
            foreach (var record in new RecordSection(section)) _ = record.OffsetDelta;
        }
        catch (ProtocolException)
        {
            thrown = true;
        }
        Assert.True(thrown, "expected a ProtocolException");
    }

    private static byte[] Encode(Action<ProtocolWriter> write)
    {
        using var writer = new ProtocolWriter();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    [Fact]
    public void A_record_length_beyond_the_section_is_rejected()
    {
        var section = Encode(w => WriteRecord(w, 0, 0, null, "v"u8.ToArray()));
        AssertMalformed(section[..^1]);
    }

    [Fact]
    public void A_negative_record_length_is_rejected() => AssertMalformed(Encode(w => w.WriteVarint(-2)));

    [Fact]
    public void A_key_longer_than_the_record_is_rejected()
    {
        AssertMalformed(Encode(w =>
        {
            w.WriteVarint(5);
            w.WriteInt8(0);
            w.WriteVarlong(0);
            w.WriteVarint(0);
            w.WriteVarint(1000); // key length
            w.WriteInt8(0);
        }));
    }

    [Fact]
    public void A_key_length_below_minus_one_is_rejected()
    {
        AssertMalformed(Encode(w =>
        {
            w.WriteVarint(6);
            w.WriteInt8(0);
            w.WriteVarlong(0);
            w.WriteVarint(0);
            w.WriteVarint(-2);
            w.WriteVarint(-1);
            w.WriteVarint(0);
        }));
    }

    [Fact]
    public void A_huge_header_count_is_rejected_without_allocating()
    {
        AssertMalformed(Encode(w =>
        {
            w.WriteVarint(10);
            w.WriteInt8(0);
            w.WriteVarlong(0);
            w.WriteVarint(0);
            w.WriteVarint(-1);
            w.WriteVarint(-1);
            w.WriteVarint(int.MaxValue);
            w.WriteRaw(new byte[4]);
        }));
    }

    [Fact]
    public void A_null_header_key_is_rejected()
    {
        AssertMalformed(Encode(w =>
        {
            w.WriteVarint(8);
            w.WriteInt8(0);
            w.WriteVarlong(0);
            w.WriteVarint(0);
            w.WriteVarint(-1);
            w.WriteVarint(-1);
            w.WriteVarint(1);
            w.WriteVarint(-1);
            w.WriteVarint(-1);
        }));
    }

    [Fact]
    public void Bytes_left_inside_a_record_after_its_headers_are_rejected()
    {
        AssertMalformed(Encode(w =>
        {
            w.WriteVarint(7);
            w.WriteInt8(0);
            w.WriteVarlong(0);
            w.WriteVarint(0);
            w.WriteVarint(-1);
            w.WriteVarint(-1);
            w.WriteVarint(0);
            w.WriteInt8(42);
        }));
    }
}
