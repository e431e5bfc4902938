namespace Brook.Protocol;

/// <summary>A struct of the protocol that reads and writes itself at a given version.</summary>
public interface IProtocolStruct
{
    void Write(ProtocolWriter writer, short version);

    void Read(ref ProtocolReader reader, short version);
}

/// <summary>The body of a request or response of one API.</summary>
public interface IApiMessage : IProtocolStruct
{
    short ApiKey { get; }
}

/// <summary>A tagged field kept as raw bytes because this version of Brook does not know its tag.</summary>
public readonly record struct RawTaggedField(int Tag, byte[] Data);

/// <summary>One API of the protocol: its key, the versions Brook can encode, and factories for its messages.</summary>
public sealed record ApiDescriptor(
    short Key,
    string Name,
    short LowestVersion,
    short HighestVersion,
    short FirstFlexibleVersion,
    Func<IApiMessage> NewRequest,
    Func<IApiMessage> NewResponse)
{
    public bool IsFlexible(short version) => version >= FirstFlexibleVersion;

    public bool Supports(short version) => version >= LowestVersion && version <= HighestVersion;

    /// <summary>Request header version for <paramref name="version"/>: 2 when flexible, else 1.</summary>
    public short RequestHeaderVersion(short version) => IsFlexible(version) ? (short)2 : (short)1;

    /// <summary>Response header version: 1 when flexible, else 0; ApiVersions always answers with header v0.</summary>
    public short ResponseHeaderVersion(short version) => Key == Messages.ApiKeys.ApiVersions ? (short)0 : IsFlexible(version) ? (short)1 : (short)0;
}
