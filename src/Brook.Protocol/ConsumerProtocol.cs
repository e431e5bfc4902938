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
    public static byte[] EncodeSubscription(ConsumerProtocolSubscription subscription, short version = ConsumerProtocolSubscription.HighestSupportedVersion) =>
        Encode(subscription, version, ConsumerProtocolSubscription.LowestSupportedVersion, ConsumerProtocolSubscription.HighestSupportedVersion);

    public static ConsumerProtocolSubscription DecodeSubscription(ReadOnlyMemory<byte> data) => DecodeSubscription(data, out _);

    /// <param name="data">The metadata bytes of the "consumer" protocol.</param>
    /// <param name="version">The version found on the wire (possibly newer than the one used to read).</param>
    public static ConsumerProtocolSubscription DecodeSubscription(ReadOnlyMemory<byte> data, out short version) =>
        Decode<ConsumerProtocolSubscription>(data, out version, ConsumerProtocolSubscription.LowestSupportedVersion, ConsumerProtocolSubscription.HighestSupportedVersion, "subscription");

    public static byte[] EncodeAssignment(ConsumerProtocolAssignment assignment, short version = ConsumerProtocolAssignment.HighestSupportedVersion) =>
        Encode(assignment, version, ConsumerProtocolAssignment.LowestSupportedVersion, ConsumerProtocolAssignment.HighestSupportedVersion);

    public static ConsumerProtocolAssignment DecodeAssignment(ReadOnlyMemory<byte> data) => DecodeAssignment(data, out _);

    /// <param name="data">The assignment bytes of the "consumer" protocol.</param>
    /// <param name="version">The version found on the wire (possibly newer than the one used to read).</param>
    public static ConsumerProtocolAssignment DecodeAssignment(ReadOnlyMemory<byte> data, out short version) =>
        Decode<ConsumerProtocolAssignment>(data, out version, ConsumerProtocolAssignment.LowestSupportedVersion, ConsumerProtocolAssignment.HighestSupportedVersion, "assignment");

    private static byte[] Encode(IProtocolStruct value, short version, short lowest, short highest)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckEncodable(version, lowest, highest);
        using var writer = new ProtocolWriter();
        writer.WriteInt16(version);
        value.Write(writer, version);
        return writer.WrittenSpan.ToArray();
    }

    private static T Decode<T>(ReadOnlyMemory<byte> data, out short version, short lowest, short highest, string what)
        where T : IProtocolStruct, new()
    {
        var reader = new ProtocolReader(data);
        version = reader.ReadInt16();
        var value = new T();
        value.Read(ref reader, ReadableVersion(version, lowest, highest, what));
        return value;
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
