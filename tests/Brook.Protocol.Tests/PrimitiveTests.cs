namespace Brook.Protocol.Tests;

public class PrimitiveTests
{
    [Theory]
    [InlineData(0u, new byte[] { 0x00 })]
    [InlineData(1u, new byte[] { 0x01 })]
    [InlineData(127u, new byte[] { 0x7F })]
    [InlineData(128u, new byte[] { 0x80, 0x01 })]
    [InlineData(300u, new byte[] { 0xAC, 0x02 })]
    [InlineData(uint.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void Unsigned_varint_matches_the_wire_format(uint value, byte[] expected)
    {
        using var writer = new ProtocolWriter();
        writer.WriteUVarint(value);
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
        var reader = new ProtocolReader(expected);
        Assert.Equal(value, reader.ReadUVarint());
        Assert.True(reader.End);
    }

    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(-1, new byte[] { 0x01 })]
    [InlineData(1, new byte[] { 0x02 })]
    [InlineData(-64, new byte[] { 0x7F })]
    [InlineData(64, new byte[] { 0x80, 0x01 })]
    [InlineData(int.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void Zigzag_varint_matches_the_wire_format(int value, byte[] expected)
    {
        using var writer = new ProtocolWriter();
        writer.WriteVarint(value);
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
        var reader = new ProtocolReader(expected);
        Assert.Equal(value, reader.ReadVarint());
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    [InlineData(1234567890123L)]
    public void Zigzag_varlong_round_trips(long value)
    {
        using var writer = new ProtocolWriter();
        writer.WriteVarlong(value);
        var reader = new ProtocolReader(writer.WrittenMemory);
        Assert.Equal(value, reader.ReadVarlong());
        Assert.True(reader.End);
    }

    [Fact]
    public void Record_field_varints_read_the_same_on_the_one_and_two_byte_fast_paths_and_beyond()
    {
        long[] values = [0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, -8193, 1 << 20, int.MaxValue, int.MinValue];
        foreach (var value in values)
        {
            using var writer = new ProtocolWriter();
            writer.WriteVarint((int)value);
            writer.WriteVarlong(value);
            writer.WriteVarlong(value * 1_000_000_007L);
            var reader = new global::Brook.Protocol.Records.SpanReader(writer.WrittenSpan);
            Assert.Equal((int)value, reader.ReadVarint());
            Assert.Equal(value, reader.ReadVarlong());
            Assert.Equal(value * 1_000_000_007L, reader.ReadVarlong());
            Assert.True(reader.End);
        }
        // Cut after a continuation byte: the fast paths must not read past the end.
        Assert.Throws<ProtocolException>(() => new global::Brook.Protocol.Records.SpanReader(new byte[] { 0x80 }).ReadVarint());
        Assert.Throws<ProtocolException>(() => new global::Brook.Protocol.Records.SpanReader(new byte[] { 0x80, 0x80 }).ReadVarint());
        Assert.Throws<ProtocolException>(() => new global::Brook.Protocol.Records.SpanReader(new byte[] { 0x80 }).ReadVarlong());
        Assert.Throws<ProtocolException>(() => new global::Brook.Protocol.Records.SpanReader(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x7F }).ReadVarint());
    }

    [Fact]
    public void Overlong_varint_is_a_protocol_error()
    {
        var reader = new ProtocolReader(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 });
        Assert.Throws<ProtocolException>(() => reader.ReadUVarint());
    }

    [Fact]
    public void Strings_use_classic_and_compact_lengths()
    {
        using var writer = new ProtocolWriter();
        writer.WriteString("ab", compact: false, nullable: false);
        writer.WriteString("ab", compact: true, nullable: false);
        writer.WriteString(null, compact: false, nullable: true);
        writer.WriteString(null, compact: true, nullable: true);
        Assert.Equal(new byte[] { 0, 2, (byte)'a', (byte)'b', 3, (byte)'a', (byte)'b', 0xFF, 0xFF, 0 }, writer.WrittenSpan.ToArray());
        var reader = new ProtocolReader(writer.WrittenMemory);
        Assert.Equal("ab", reader.ReadString(false, false));
        Assert.Equal("ab", reader.ReadString(true, false));
        Assert.Null(reader.ReadString(false, true));
        Assert.Null(reader.ReadString(true, true));
    }

    [Fact]
    public void Null_string_where_not_nullable_is_a_protocol_error()
    {
        var reader = new ProtocolReader(new byte[] { 0xFF, 0xFF });
        Assert.Throws<ProtocolException>(() => reader.ReadString(compact: false, nullable: false));
    }

    [Fact]
    public void Array_length_beyond_the_buffer_is_rejected_before_allocating()
    {
        var reader = new ProtocolReader(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF, 1, 2 });
        Assert.Throws<ProtocolException>(() => reader.ReadArrayLength(compact: false, nullable: false));
    }

    [Fact]
    public void Uuid_is_two_big_endian_longs_shown_in_base64url()
    {
        var id = new KafkaUuid(0x0102030405060708, unchecked((long)0xF1F2F3F4F5F6F7F8));
        using var writer = new ProtocolWriter();
        writer.WriteUuid(id);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8 }, writer.WrittenSpan.ToArray());
        Assert.True(KafkaUuid.TryParse(id.ToString(), out var parsed));
        Assert.Equal(id, parsed);
        Assert.Equal(22, id.ToString().Length);
    }
}
