using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests.Captured;

/// <summary>One request or response frame captured from a real client (see Fixtures/captured/README.md).</summary>
public sealed class CapturedFrame
{
    private CapturedFrame(string file, byte[] bytes, ApiDescriptor api, short version, bool isRequest)
    {
        File = file;
        Bytes = bytes;
        Api = api;
        Version = version;
        IsRequest = isRequest;
    }

    public string File { get; }

    /// <summary>The frame as captured, without its 4-byte size prefix.</summary>
    public byte[] Bytes { get; }

    public ApiDescriptor Api { get; }

    /// <summary>The API version of the request, which a response is encoded at too.</summary>
    public short Version { get; }

    public bool IsRequest { get; }

    /// <summary>The client id the capture script set, which names the file: kcat_gzip, confluent_none, kafkajs.</summary>
    public string ClientLabel => File[..File.IndexOf('-', StringComparison.Ordinal)];

    /// <summary>kcat, confluent or kafkajs.</summary>
    public string ClientFamily => ClientLabel.Split('_')[0];

    public short HeaderVersion => IsRequest ? Api.RequestHeaderVersion(Version) : Api.ResponseHeaderVersion(Version);

    public static CapturedFrame Load(string file)
    {
        var bytes = System.IO.File.ReadAllBytes(Path.Combine(CapturedFrames.Directory, file));
        var isRequest = file.EndsWith(".req.bin", StringComparison.Ordinal);
        // A response is encoded at the version of its request: the request header says which API and version.
        var requestBytes = isRequest ? bytes : System.IO.File.ReadAllBytes(Path.Combine(CapturedFrames.Directory, CapturedFrames.RequestOf(file)));
        var (apiKey, version, _) = RequestHeader.Peek(requestBytes);
        return new CapturedFrame(file, bytes, ApiCatalog.All.Single(a => a.Key == apiKey), version, isRequest);
    }

    /// <summary>Decodes the header and body, requiring every byte to be consumed.</summary>
    public (RequestHeader? Request, ResponseHeader? Response, IApiMessage Body) Decode()
    {
        var reader = new ProtocolReader(Bytes);
        RequestHeader? requestHeader = null;
        ResponseHeader? responseHeader = null;
        if (IsRequest) (requestHeader = new RequestHeader()).Read(ref reader, HeaderVersion);
        else (responseHeader = new ResponseHeader()).Read(ref reader, HeaderVersion);
        var body = IsRequest ? Api.NewRequest() : Api.NewResponse();
        body.Read(ref reader, Version);
        Assert.True(reader.End, $"{File}: {reader.Remaining} of {Bytes.Length} bytes left unread");
        return (requestHeader, responseHeader, body);
    }

    public T Body<T>()
        where T : IApiMessage => Assert.IsType<T>(Decode().Body);

    public override string ToString() => File;
}

public static class CapturedFrames
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "Fixtures", "captured");

    public static string RequestOf(string responseFile) => responseFile[..^".resp.bin".Length] + ".req.bin";

    public static IEnumerable<string> Files(string suffix) =>
        System.IO.Directory.EnumerateFiles(Directory, "*" + suffix).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    public static IEnumerable<CapturedFrame> Requests() => Files(".req.bin").Select(CapturedFrame.Load);

    public static IEnumerable<CapturedFrame> Responses() => Files(".resp.bin").Select(CapturedFrame.Load);

    public static TheoryData<string> RequestFiles() => [.. Files(".req.bin")];

    public static TheoryData<string> ResponseFiles() => [.. Files(".resp.bin")];

    public static CapturedFrame Single(string clientLabel, string api, bool request = true) =>
        Assert.Single(request ? Requests() : Responses(), f => f.ClientLabel == clientLabel && f.Api.Name == api);
}
