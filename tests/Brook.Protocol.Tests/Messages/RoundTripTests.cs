using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests.Messages;

public class RoundTripTests
{
    private const int RoundsPerVersion = 8;

    [Theory]
    [MemberData(nameof(MessageCases.EveryVersion), MemberType = typeof(MessageCases))]
    public void Randomly_filled_message_reencodes_to_identical_bytes(string api, bool request, short version)
    {
        for (var round = 0; round < RoundsPerVersion; round++)
        {
            var original = new MessageFiller(MessageCases.Seed(api, request, version, round)).Fill(MessageCases.New(api, request));
            var first = MessageCases.Encode(original, version);

            var decoded = MessageCases.New(api, request);
            var reader = new ProtocolReader(first);
            decoded.Read(ref reader, version);

            Assert.True(reader.End, $"{api} {(request ? "request" : "response")} v{version} round {round}: {reader.Remaining} bytes left unread");
            Assert.Equal(first, MessageCases.Encode(decoded, version));
        }
    }

    [Theory]
    [MemberData(nameof(MessageCases.EveryVersion), MemberType = typeof(MessageCases))]
    public void Default_message_reencodes_to_identical_bytes(string api, bool request, short version)
    {
        var first = MessageCases.Encode(MessageCases.New(api, request), version);
        var decoded = MessageCases.New(api, request);
        var reader = new ProtocolReader(first);
        decoded.Read(ref reader, version);
        Assert.True(reader.End);
        Assert.Equal(first, MessageCases.Encode(decoded, version));
    }

    [Theory]
    [MemberData(nameof(MessageCases.EveryFlexibleVersion), MemberType = typeof(MessageCases))]
    public void Unknown_tagged_fields_survive_a_round_trip(string api, bool request, short version)
    {
        var message = new MessageFiller(MessageCases.Seed(api, request, version, 99)).Fill(MessageCases.New(api, request));
        // Tags far above any Kafka has assigned, in ascending order as the wire format requires.
        RawTaggedField[] injected = [new(1000, [0xDE, 0xAD]), new(70000, []), new(70001, [.. Enumerable.Range(0, 200).Select(i => (byte)i)])];
        SetUnknownTaggedFields(message, [.. injected]);

        var first = MessageCases.Encode(message, version);
        var decoded = MessageCases.New(api, request);
        var reader = new ProtocolReader(first);
        decoded.Read(ref reader, version);

        Assert.True(reader.End);
        var preserved = GetUnknownTaggedFields(decoded);
        Assert.NotNull(preserved);
        Assert.Equal(injected.Select(f => f.Tag), preserved.Select(f => f.Tag));
        for (var i = 0; i < injected.Length; i++) Assert.Equal(injected[i].Data, preserved[i].Data);
        Assert.Equal(first, MessageCases.Encode(decoded, version));
    }

    [Fact]
    public void Unknown_tagged_field_in_a_nested_struct_survives_a_round_trip()
    {
        const short version = 12;
        var request = new FetchRequest
        {
            Topics = [new() { Topic = "t", Partitions = [new() { Partition = 3, UnknownTaggedFields = [new(42, [7, 7, 7])] }] }],
        };
        var bytes = MessageCases.Encode(request, version);
        var decoded = new FetchRequest();
        var reader = new ProtocolReader(bytes);
        decoded.Read(ref reader, version);

        var field = Assert.Single(decoded.Topics[0].Partitions[0].UnknownTaggedFields!);
        Assert.Equal(42, field.Tag);
        Assert.Equal([7, 7, 7], field.Data);
        Assert.Equal(bytes, MessageCases.Encode(decoded, version));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Request_header_round_trips(short headerVersion)
    {
        foreach (var clientId in new[] { "client-ü-日本", "", null })
        {
            var header = new RequestHeader { ApiKey = ApiKeys.Fetch, ApiVersion = 13, CorrelationId = -123456, ClientId = clientId };
            if (headerVersion >= 2) header.UnknownTaggedFields = [new(5, [1, 2])];
            using var writer = new ProtocolWriter();
            header.Write(writer, headerVersion);
            var bytes = writer.WrittenSpan.ToArray();

            var decoded = new RequestHeader();
            var reader = new ProtocolReader(bytes);
            decoded.Read(ref reader, headerVersion);

            Assert.True(reader.End);
            Assert.Equal((ApiKeys.Fetch, (short)13, -123456), (decoded.ApiKey, decoded.ApiVersion, decoded.CorrelationId));
            Assert.Equal(headerVersion >= 1 ? clientId : null, decoded.ClientId);
            if (headerVersion >= 2) Assert.Equal(5, Assert.Single(decoded.UnknownTaggedFields!).Tag);
            Assert.Equal((ApiKeys.Fetch, (short)13, -123456), RequestHeader.Peek(bytes));
            using var again = new ProtocolWriter();
            decoded.Write(again, headerVersion);
            Assert.Equal(bytes, again.WrittenSpan.ToArray());
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Response_header_round_trips(short headerVersion)
    {
        var header = new ResponseHeader { CorrelationId = int.MaxValue };
        if (headerVersion >= 1) header.UnknownTaggedFields = [new(0, [9])];
        using var writer = new ProtocolWriter();
        header.Write(writer, headerVersion);
        var bytes = writer.WrittenSpan.ToArray();
        Assert.Equal(headerVersion == 0 ? 4 : 4 + 1 + 3, bytes.Length);

        var decoded = new ResponseHeader();
        var reader = new ProtocolReader(bytes);
        decoded.Read(ref reader, headerVersion);

        Assert.True(reader.End);
        Assert.Equal(int.MaxValue, decoded.CorrelationId);
        using var again = new ProtocolWriter();
        decoded.Write(again, headerVersion);
        Assert.Equal(bytes, again.WrittenSpan.ToArray());
    }

    private static void SetUnknownTaggedFields(object message, List<RawTaggedField> fields) =>
        message.GetType().GetProperty("UnknownTaggedFields")!.SetValue(message, fields);

    private static List<RawTaggedField>? GetUnknownTaggedFields(object message) =>
        (List<RawTaggedField>?)message.GetType().GetProperty("UnknownTaggedFields")!.GetValue(message);
}
