namespace Brook.Protocol;

/// <summary>
/// The header in front of every request. v0: api key, api version, correlation id; v1 adds the client id
/// (a classic nullable string even in flexible versions); v2 adds a tagged-field section.
/// </summary>
public sealed class RequestHeader
{
    public short ApiKey { get; set; }
    public short ApiVersion { get; set; }
    public int CorrelationId { get; set; }
    public string? ClientId { get; set; }
    public List<RawTaggedField>? UnknownTaggedFields { get; set; }

    /// <summary>Reads the api key, version and correlation id, which every header version starts with.</summary>
    public static (short ApiKey, short ApiVersion, int CorrelationId) Peek(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 8) throw new ProtocolException("Request header truncated.");
        return (
            System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(frame),
            System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(frame[2..]),
            System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(frame[4..]));
    }

    public void Read(ref ProtocolReader reader, short headerVersion)
    {
        ApiKey = reader.ReadInt16();
        ApiVersion = reader.ReadInt16();
        CorrelationId = reader.ReadInt32();
        if (headerVersion >= 1) ClientId = reader.ReadString(compact: false, nullable: true);
        if (headerVersion >= 2) UnknownTaggedFields = ReadTaggedFields(ref reader);
    }

    public void Write(ProtocolWriter writer, short headerVersion)
    {
        writer.WriteInt16(ApiKey);
        writer.WriteInt16(ApiVersion);
        writer.WriteInt32(CorrelationId);
        if (headerVersion >= 1) writer.WriteString(ClientId, compact: false, nullable: true);
        if (headerVersion >= 2) WriteTaggedFields(writer, UnknownTaggedFields);
    }

    internal static List<RawTaggedField>? ReadTaggedFields(ref ProtocolReader reader)
    {
        var count = reader.ReadTaggedFieldCount();
        List<RawTaggedField>? fields = null;
        for (var i = 0; i < count; i++)
        {
            var tag = (int)reader.ReadUVarint();
            var size = reader.ReadTaggedFieldSize();
            (fields ??= []).Add(new RawTaggedField(tag, reader.ReadRawBytes(size)));
        }
        return fields;
    }

    internal static void WriteTaggedFields(ProtocolWriter writer, List<RawTaggedField>? fields)
    {
        writer.WriteUVarint((uint)(fields?.Count ?? 0));
        if (fields is null) return;
        foreach (var f in fields) writer.WriteRawTaggedField(f);
    }
}

/// <summary>The header in front of every response: v0 the correlation id; v1 adds a tagged-field section.</summary>
public sealed class ResponseHeader
{
    public int CorrelationId { get; set; }
    public List<RawTaggedField>? UnknownTaggedFields { get; set; }

    public void Read(ref ProtocolReader reader, short headerVersion)
    {
        CorrelationId = reader.ReadInt32();
        if (headerVersion >= 1) UnknownTaggedFields = RequestHeader.ReadTaggedFields(ref reader);
    }

    public void Write(ProtocolWriter writer, short headerVersion)
    {
        writer.WriteInt32(CorrelationId);
        if (headerVersion >= 1) RequestHeader.WriteTaggedFields(writer, UnknownTaggedFields);
    }
}
