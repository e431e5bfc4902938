using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests.Messages;

/// <summary>Test cases over every API, direction and version Brook's codec supports.</summary>
public static class MessageCases
{
    public static ApiDescriptor Api(string name) => ApiCatalog.All.Single(a => a.Name == name);

    public static IApiMessage New(string api, bool request) => request ? Api(api).NewRequest() : Api(api).NewResponse();

    /// <summary>(api name, request?, version) for every version of every API.</summary>
    public static TheoryData<string, bool, short> EveryVersion()
    {
        var data = new TheoryData<string, bool, short>();
        foreach (var api in ApiCatalog.All)
        {
            for (var v = api.LowestVersion; v <= api.HighestVersion; v++)
            {
                data.Add(api.Name, true, v);
                data.Add(api.Name, false, v);
            }
        }
        return data;
    }

    /// <summary>(api name, request?, version) for every flexible version of every API.</summary>
    public static TheoryData<string, bool, short> EveryFlexibleVersion()
    {
        var data = new TheoryData<string, bool, short>();
        foreach (var api in ApiCatalog.All)
        {
            for (var v = Math.Max(api.LowestVersion, api.FirstFlexibleVersion); v <= api.HighestVersion; v++)
            {
                data.Add(api.Name, true, (short)v);
                data.Add(api.Name, false, (short)v);
            }
        }
        return data;
    }

    public static byte[] Encode(IProtocolStruct message, short version)
    {
        using var writer = new ProtocolWriter();
        message.Write(writer, version);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Stable per case, so a failure reproduces.</summary>
    public static int Seed(string api, bool request, short version, int round) =>
        (api.Aggregate(17, (h, c) => (h * 31) + c) * 7919) + (request ? 1 : 2) * 104729 + (version * 1009) + round;
}
