using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests.Messages;

/// <summary>
/// Encodings worked out by hand from the protocol rules (big-endian integers; classic strings with an int16
/// length, -1 = null; classic arrays/bytes with an int32 length; compact forms with an unsigned varint of
/// length + 1, 0 = null; flexible structs end in a tagged section: count, then tag, size, value per field).
/// They pin the wire format independently of the generator: each is checked in both directions.
/// </summary>
public class GoldenEncodingTests
{
    private static T Decode<T>(byte[] bytes, short version)
        where T : IProtocolStruct, new()
    {
        var message = new T();
        var reader = new ProtocolReader(bytes);
        message.Read(ref reader, version);
        Assert.True(reader.End, $"{reader.Remaining} bytes left unread");
        return message;
    }

    [Fact]
    public void ApiVersions_request_v3_is_two_compact_strings_and_an_empty_tag_section()
    {
        var request = new ApiVersionsRequest { ClientSoftwareName = "brook", ClientSoftwareVersion = "1.0" };
        byte[] expected =
        [
            0x06, (byte)'b', (byte)'r', (byte)'o', (byte)'o', (byte)'k', // compact string: length 5 + 1
            0x04, (byte)'1', (byte)'.', (byte)'0',
            0x00, // no tagged fields
        ];
        Assert.Equal(expected, MessageCases.Encode(request, 3));
        var decoded = Decode<ApiVersionsRequest>(expected, 3);
        Assert.Equal(("brook", "1.0"), (decoded.ClientSoftwareName, decoded.ClientSoftwareVersion));
    }

    [Fact]
    public void ApiVersions_request_v0_to_v2_has_an_empty_body()
    {
        var request = new ApiVersionsRequest { ClientSoftwareName = "ignored", ClientSoftwareVersion = "ignored" };
        Assert.Empty(MessageCases.Encode(request, 0));
        Assert.Empty(MessageCases.Encode(request, 2));
    }

    [Fact]
    public void ApiVersions_response_v0_uses_classic_arrays()
    {
        var response = new ApiVersionsResponse { ApiKeys = [new() { ApiKey = 18, MinVersion = 0, MaxVersion = 4 }] };
        byte[] expected =
        [
            0x00, 0x00, // error code
            0x00, 0x00, 0x00, 0x01, // int32 array length
            0x00, 0x12, 0x00, 0x00, 0x00, 0x04,
        ];
        Assert.Equal(expected, MessageCases.Encode(response, 0));
        Assert.Equal(4, Assert.Single(Decode<ApiVersionsResponse>(expected, 0).ApiKeys).MaxVersion);
    }

    [Fact]
    public void ApiVersions_response_v3_leaves_default_tagged_fields_out()
    {
        var response = new ApiVersionsResponse { ErrorCode = 35, ApiKeys = [new() { ApiKey = 0, MinVersion = 3, MaxVersion = 11 }], ThrottleTimeMs = 2 };
        byte[] expected =
        [
            0x00, 0x23, // UNSUPPORTED_VERSION
            0x02, // compact array of one
            0x00, 0x00, 0x00, 0x03, 0x00, 0x0B, 0x00, // key, min, max, no tags
            0x00, 0x00, 0x00, 0x02, // throttle
            0x00, // FinalizedFeaturesEpoch = -1 etc. are defaults, so no tagged fields
        ];
        Assert.Equal(expected, MessageCases.Encode(response, 3));
    }

    [Fact]
    public void ApiVersions_response_v3_writes_a_non_default_tagged_field()
    {
        var response = new ApiVersionsResponse { FinalizedFeaturesEpoch = 1 };
        byte[] expected =
        [
            0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
            0x01, // one tagged field
            0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // tag 1, 8 bytes, int64 1
        ];
        Assert.Equal(expected, MessageCases.Encode(response, 3));
        Assert.Equal(1, Decode<ApiVersionsResponse>(expected, 3).FinalizedFeaturesEpoch);
    }

    [Fact]
    public void Metadata_request_v1_with_null_topics_is_int32_minus_one()
    {
        var request = new MetadataRequest { Topics = null };
        byte[] expected = [0xFF, 0xFF, 0xFF, 0xFF];
        Assert.Equal(expected, MessageCases.Encode(request, 1));
        Assert.Null(Decode<MetadataRequest>(expected, 1).Topics);
    }

    [Fact]
    public void Metadata_request_v0_cannot_say_null_so_it_sends_an_empty_list()
    {
        // v0 had no "all topics" null; an empty list meant all topics.
        Assert.Equal(new byte[] { 0x00, 0x00, 0x00, 0x00 }, MessageCases.Encode(new MetadataRequest { Topics = null }, 0));
        Assert.Throws<ProtocolException>(() => Decode<MetadataRequest>([0xFF, 0xFF, 0xFF, 0xFF], 0));
    }

    [Fact]
    public void Metadata_request_v9_uses_compact_encoding()
    {
        var request = new MetadataRequest { Topics = [new() { Name = "ab" }], AllowAutoTopicCreation = false, IncludeTopicAuthorizedOperations = true };
        byte[] expected =
        [
            0x02, // one topic
            0x03, (byte)'a', (byte)'b', 0x00, // compact name, topic tags
            0x00, // AllowAutoTopicCreation
            0x00, // IncludeClusterAuthorizedOperations (v8-10)
            0x01, // IncludeTopicAuthorizedOperations
            0x00,
        ];
        Assert.Equal(expected, MessageCases.Encode(request, 9));
        Assert.Equal("ab", Assert.Single(Decode<MetadataRequest>(expected, 9).Topics!).Name);
    }

    [Fact]
    public void Fetch_request_v12_carries_the_cluster_id_as_tag_zero()
    {
        var request = new FetchRequest
        {
            ClusterId = "c1",
            ReplicaId = -1,
            MaxWaitMs = 500,
            MinBytes = 1,
            MaxBytes = int.MaxValue,
            IsolationLevel = 1,
            SessionId = 0,
            SessionEpoch = -1,
            Topics =
            [
                new()
                {
                    Topic = "t",
                    Partitions = [new() { Partition = 0, CurrentLeaderEpoch = 5, FetchOffset = 100, LastFetchedEpoch = -1, LogStartOffset = -1, PartitionMaxBytes = 1 << 20 }],
                },
            ],
            RackId = "",
        };
        byte[] expected =
        [
            0xFF, 0xFF, 0xFF, 0xFF, // ReplicaId
            0x00, 0x00, 0x01, 0xF4, // MaxWaitMs 500
            0x00, 0x00, 0x00, 0x01, // MinBytes
            0x7F, 0xFF, 0xFF, 0xFF, // MaxBytes
            0x01, // IsolationLevel read_committed
            0x00, 0x00, 0x00, 0x00, // SessionId
            0xFF, 0xFF, 0xFF, 0xFF, // SessionEpoch
            0x02, // one topic
            0x02, (byte)'t',
            0x02, // one partition
            0x00, 0x00, 0x00, 0x00, // Partition
            0x00, 0x00, 0x00, 0x05, // CurrentLeaderEpoch
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, // FetchOffset 100
            0xFF, 0xFF, 0xFF, 0xFF, // LastFetchedEpoch
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // LogStartOffset
            0x00, 0x10, 0x00, 0x00, // PartitionMaxBytes 1 MiB
            0x00, // partition tags
            0x00, // topic tags
            0x01, // no forgotten topics
            0x01, // RackId ""
            0x01, 0x00, 0x03, 0x03, (byte)'c', (byte)'1', // one tagged field: tag 0, 3 bytes, compact "c1"
        ];
        Assert.Equal(expected, MessageCases.Encode(request, 12));

        var decoded = Decode<FetchRequest>(expected, 12);
        Assert.Equal("c1", decoded.ClusterId);
        Assert.Equal(1 << 20, decoded.Topics[0].Partitions[0].PartitionMaxBytes);
        Assert.Null(decoded.UnknownTaggedFields);
    }

    [Fact]
    public void Unknown_tags_are_written_in_ascending_order_among_known_ones()
    {
        // At v12 tag 1 (ReplicaState, v15+) is unknown, so it is kept raw and must still follow tag 0.
        byte[] wire =
        [
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0x00,
            0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
            0x01, 0x01, 0x01, // no topics, no forgotten topics, RackId ""
            0x02, // two tagged fields
            0x00, 0x02, 0x02, (byte)'c', // tag 0: ClusterId "c"
            0x01, 0x01, 0xAB, // tag 1: unknown at this version
        ];
        var decoded = Decode<FetchRequest>(wire, 12);
        Assert.Equal("c", decoded.ClusterId);
        var unknown = Assert.Single(decoded.UnknownTaggedFields!);
        Assert.Equal(1, unknown.Tag);
        Assert.Equal([0xAB], unknown.Data);
        Assert.Equal(wire, MessageCases.Encode(decoded, 12));
    }

    [Fact]
    public void Produce_request_v3_keeps_records_as_an_int32_sized_blob()
    {
        var request = new ProduceRequest
        {
            TransactionalId = null,
            Acks = -1,
            TimeoutMs = 30000,
            TopicData = [new() { Name = "t", PartitionData = [new() { Index = 0, Records = new byte[] { 1, 2, 3 } }] }],
        };
        byte[] expected =
        [
            0xFF, 0xFF, // null transactional id
            0xFF, 0xFF, // acks -1
            0x00, 0x00, 0x75, 0x30, // 30000 ms
            0x00, 0x00, 0x00, 0x01, 0x00, 0x01, (byte)'t',
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03,
        ];
        Assert.Equal(expected, MessageCases.Encode(request, 3));

        var decoded = Decode<ProduceRequest>(expected, 3);
        var records = decoded.TopicData[0].PartitionData[0].Records!.Value;
        Assert.Equal([1, 2, 3], records.ToArray());
    }

    [Fact]
    public void Produce_response_v10_puts_the_current_leader_in_a_tagged_struct()
    {
        var response = new ProduceResponse
        {
            Responses =
            [
                new()
                {
                    Name = "t",
                    PartitionResponses = [new() { Index = 0, ErrorCode = 6, BaseOffset = -1, CurrentLeader = new() { LeaderId = 2, LeaderEpoch = 7 } }],
                },
            ],
        };
        byte[] expected =
        [
            0x02, 0x02, (byte)'t', 0x02,
            0x00, 0x00, 0x00, 0x00, // Index
            0x00, 0x06, // NOT_LEADER_OR_FOLLOWER
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // BaseOffset
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // LogAppendTimeMs
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // LogStartOffset
            0x01, // no record errors
            0x00, // null error message
            0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00, // tag 0: 9 bytes of struct
            0x00, // topic tags
            0x00, 0x00, 0x00, 0x00, // throttle
            0x00, // no node endpoints, so no tags
        ];
        Assert.Equal(expected, MessageCases.Encode(response, 10));
        var leader = Decode<ProduceResponse>(expected, 10).Responses[0].PartitionResponses[0].CurrentLeader!;
        Assert.Equal((2, 7), (leader.LeaderId, leader.LeaderEpoch));
    }

    [Fact]
    public void Request_header_v2_keeps_a_classic_client_id_then_tags()
    {
        var header = new RequestHeader { ApiKey = 18, ApiVersion = 3, CorrelationId = 1, ClientId = "c" };
        using var writer = new ProtocolWriter();
        header.Write(writer, 2);
        Assert.Equal(new byte[] { 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, (byte)'c', 0x00 }, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Request_header_v1_null_client_id_is_int16_minus_one()
    {
        var header = new RequestHeader { ApiKey = 3, ApiVersion = 1, CorrelationId = 258, ClientId = null };
        using var writer = new ProtocolWriter();
        header.Write(writer, 1);
        Assert.Equal(new byte[] { 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0xFF, 0xFF }, writer.WrittenSpan.ToArray());
    }
}
