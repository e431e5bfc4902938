using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests;

public class ConsumerProtocolTests
{
    private static ConsumerProtocolSubscription SampleSubscription() => new()
    {
        Topics = ["orders", "pagamentos-ç"],
        UserData = [1, 2, 3],
        OwnedPartitions = [new() { Topic = "orders", Partitions = [0, 2] }],
        GenerationId = 7,
        RackId = "rack-a",
    };

    private static ConsumerProtocolAssignment SampleAssignment() => new()
    {
        AssignedPartitions = [new() { Topic = "orders", Partitions = [1, 3, 5] }, new() { Topic = "audit", Partitions = [] }],
        UserData = [9],
    };

    [Fact]
    public void Subscription_v0_matches_the_wire_format()
    {
        var bytes = ConsumerProtocol.EncodeSubscription(new ConsumerProtocolSubscription { Topics = ["a"] }, version: 0);
        byte[] expected =
        [
            0x00, 0x00, // version 0
            0x00, 0x00, 0x00, 0x01, // one topic
            0x00, 0x01, (byte)'a',
            0xFF, 0xFF, 0xFF, 0xFF, // user data: null bytes
        ];
        Assert.Equal(expected, bytes);
    }

    [Fact]
    public void Assignment_v0_matches_the_wire_format()
    {
        var assignment = new ConsumerProtocolAssignment { AssignedPartitions = [new() { Topic = "t", Partitions = [4] }] };
        var bytes = ConsumerProtocol.EncodeAssignment(assignment, version: 0);
        byte[] expected =
        [
            0x00, 0x00,
            0x00, 0x00, 0x00, 0x01,
            0x00, 0x01, (byte)'t',
            0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04,
            0xFF, 0xFF, 0xFF, 0xFF,
        ];
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Subscription_round_trips_at_every_version(short version)
    {
        var bytes = ConsumerProtocol.EncodeSubscription(SampleSubscription(), version);
        var decoded = ConsumerProtocol.DecodeSubscription(bytes, out var wireVersion);
        Assert.Equal(version, wireVersion);
        Assert.Equal(["orders", "pagamentos-ç"], decoded.Topics);
        Assert.Equal([1, 2, 3], decoded.UserData);
        if (version >= 1) Assert.Equal([0, 2], Assert.Single(decoded.OwnedPartitions).Partitions);
        else Assert.Empty(decoded.OwnedPartitions);
        Assert.Equal(version >= 2 ? 7 : -1, decoded.GenerationId);
        Assert.Equal(version >= 3 ? "rack-a" : null, decoded.RackId);
        Assert.Equal(bytes, ConsumerProtocol.EncodeSubscription(decoded, version));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Assignment_round_trips_at_every_version(short version)
    {
        var bytes = ConsumerProtocol.EncodeAssignment(SampleAssignment(), version);
        var decoded = ConsumerProtocol.DecodeAssignment(bytes, out var wireVersion);
        Assert.Equal(version, wireVersion);
        Assert.Equal(2, decoded.AssignedPartitions.Count);
        Assert.Equal([1, 3, 5], decoded.AssignedPartitions[0].Partitions);
        Assert.Equal("audit", decoded.AssignedPartitions[1].Topic);
        Assert.Equal([9], decoded.UserData);
        Assert.Equal(bytes, ConsumerProtocol.EncodeAssignment(decoded, version));
    }

    [Fact]
    public void Subscription_from_a_newer_version_reads_as_the_newest_known_one()
    {
        // A future client appends fields after the v3 layout; Brook must still understand the v3 part.
        var v3 = ConsumerProtocol.EncodeSubscription(SampleSubscription(), 3);
        var future = v3.Concat(new byte[] { 0x00, 0x00, 0x00, 0x2A, 0x01 }).ToArray();
        future[0] = 0x00;
        future[1] = 0x09;

        var decoded = ConsumerProtocol.DecodeSubscription(future, out var wireVersion);

        Assert.Equal(9, wireVersion);
        Assert.Equal(["orders", "pagamentos-ç"], decoded.Topics);
        Assert.Equal(7, decoded.GenerationId);
        Assert.Equal("rack-a", decoded.RackId);
    }

    [Fact]
    public void Assignment_from_a_newer_version_reads_as_the_newest_known_one()
    {
        var v3 = ConsumerProtocol.EncodeAssignment(SampleAssignment(), 3);
        var future = v3.Concat(new byte[] { 0x7F }).ToArray();
        future[1] = 0x04;

        var decoded = ConsumerProtocol.DecodeAssignment(future, out var wireVersion);

        Assert.Equal(4, wireVersion);
        Assert.Equal([1, 3, 5], decoded.AssignedPartitions[0].Partitions);
    }

    [Fact]
    public void Negative_version_is_rejected()
    {
        byte[] bytes = [0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF];
        Assert.Throws<ProtocolException>(() => ConsumerProtocol.DecodeSubscription(bytes));
        Assert.Throws<ProtocolException>(() => ConsumerProtocol.DecodeAssignment(bytes));
    }

    [Fact]
    public void Truncated_bytes_are_rejected_with_a_protocol_exception()
    {
        var bytes = ConsumerProtocol.EncodeSubscription(SampleSubscription(), 3);
        for (var length = 0; length < bytes.Length; length++)
            Assert.Throws<ProtocolException>(() => ConsumerProtocol.DecodeSubscription(bytes.AsMemory(0, length)));
    }

    [Fact]
    public void Encoding_an_unknown_version_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ConsumerProtocol.EncodeSubscription(SampleSubscription(), 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ConsumerProtocol.EncodeAssignment(SampleAssignment(), -1));
    }
}
