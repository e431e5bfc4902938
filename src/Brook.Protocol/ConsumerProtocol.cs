using Brook.Protocol.Messages;

namespace Brook.Protocol;

/// <summary>
/// The consumer protocol: the opaque metadata and assignment bytes a classic consumer group carries in
/// JoinGroup and SyncGroup. Each is an int16 version followed by the struct at that version. A version newer
/// than Brook knows is read as the newest known one and the bytes it adds are ignored, so that newer
/// clients can still join; that only works because consumer-protocol versions only ever append fields.
/// </summary>
public static class ConsumerProtocol
{
    public static byte[] EncodeSubscription(ConsumerProtocolSubscription subscription, short version = ConsumerProtocolSubscription.HighestSupportedVersion)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        CheckEncodable(version, ConsumerProtocolSubscription.LowestSupportedVersion, ConsumerProtocolSubscription.HighestSupportedVersion);
        using var writer = new ProtocolWriter();
        writer.WriteInt16(version);
        subscription.Write(writer, version);
        return writer.WrittenSpan.ToArray();
    }

    public static ConsumerProtocolSubscription DecodeSubscription(ReadOnlyMemory<byte> data) => DecodeSubscription(data, out _);

    /// <param name="data">The metadata bytes of the "consumer" protocol.</param>
    /// <param name="version">The version found on the wire (possibly newer than the one used to read).</param>
    public static ConsumerProtocolSubscription DecodeSubscription(ReadOnlyMemory<byte> data, out short version)
    {
        var reader = new ProtocolReader(data);
        version = reader.ReadInt16();
        var readAs = ReadableVersion(version, ConsumerProtocolSubscription.LowestSupportedVersion, ConsumerProtocolSubscription.HighestSupportedVersion, "subscription");
        var subscription = new ConsumerProtocolSubscription();
        subscription.Read(ref reader, readAs);
        return subscription;
    }

    public static byte[] EncodeAssignment(ConsumerProtocolAssignment assignment, short version = ConsumerProtocolAssignment.HighestSupportedVersion)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        CheckEncodable(version, ConsumerProtocolAssignment.LowestSupportedVersion, ConsumerProtocolAssignment.HighestSupportedVersion);
        using var writer = new ProtocolWriter();
        writer.WriteInt16(version);
        assignment.Write(writer, version);
        return writer.WrittenSpan.ToArray();
    }

    public static ConsumerProtocolAssignment DecodeAssignment(ReadOnlyMemory<byte> data) => DecodeAssignment(data, out _);

    /// <param name="data">The assignment bytes of the "consumer" protocol.</param>
    /// <param name="version">The version found on the wire (possibly newer than the one used to read).</param>
    public static ConsumerProtocolAssignment DecodeAssignment(ReadOnlyMemory<byte> data, out short version)
    {
        var reader = new ProtocolReader(data);
        version = reader.ReadInt16();
        var readAs = ReadableVersion(version, ConsumerProtocolAssignment.LowestSupportedVersion, ConsumerProtocolAssignment.HighestSupportedVersion, "assignment");
        var assignment = new ConsumerProtocolAssignment();
        assignment.Read(ref reader, readAs);
        return assignment;
    }

    private static short ReadableVersion(short version, short lowest, short highest, string what)
    {
        if (version < lowest) throw new ProtocolException($"Consumer protocol {what} version {version} is not supported.");
        return Math.Min(version, highest);
    }

    private static void CheckEncodable(short version, short lowest, short highest)
    {
        if (version < lowest || version > highest)
            throw new ArgumentOutOfRangeException(nameof(version), version, $"Supported versions are {lowest}-{highest}.");
    }
}
