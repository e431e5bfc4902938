using System.Buffers.Binary;

namespace Brook.Protocol.Tests.Captured;

/// <summary>
/// Frames captured from kcat (librdkafka), Confluent.Kafka (librdkafka) and kafkajs decode with Brook's codecs at
/// the captured version, consume every byte, and encode back to exactly the captured bytes.
/// </summary>
public class CapturedRoundTripTests
{
    [Theory]
    [MemberData(nameof(CapturedFrames.RequestFiles), MemberType = typeof(CapturedFrames))]
    public void Captured_request_decodes_completely_and_reencodes_identically(string file)
    {
        var frame = CapturedFrame.Load(file);
        Assert.True(frame.Api.Supports(frame.Version), $"{file}: Brook does not support {frame.Api.Name} v{frame.Version}");
        var (header, _, body) = frame.Decode();

        Assert.NotNull(header);
        Assert.Equal(frame.Api.Key, header.ApiKey);
        Assert.Equal(frame.Version, header.ApiVersion);
        Assert.Equal(frame.ClientLabel, header.ClientId);

        using var writer = new ProtocolWriter();
        header.Write(writer, frame.HeaderVersion);
        body.Write(writer, frame.Version);
        Assert.Equal(frame.Bytes, writer.WrittenSpan.ToArray());
    }

    [Theory]
    [MemberData(nameof(CapturedFrames.ResponseFiles), MemberType = typeof(CapturedFrames))]
    public void Captured_response_decodes_completely_and_reencodes_identically(string file)
    {
        var frame = CapturedFrame.Load(file);
        var (_, header, body) = frame.Decode();

        Assert.NotNull(header);
        var request = CapturedFrame.Load(CapturedFrames.RequestOf(file));
        Assert.Equal(RequestHeader.Peek(request.Bytes).CorrelationId, header.CorrelationId);

        using var writer = new ProtocolWriter();
        header.Write(writer, frame.HeaderVersion);
        body.Write(writer, frame.Version);
        Assert.Equal(frame.Bytes, writer.WrittenSpan.ToArray());
    }

    [Fact]
    public void Every_captured_request_has_its_response_and_each_pair_shares_a_correlation_id()
    {
        var requests = CapturedFrames.Files(".req.bin").ToList();
        Assert.NotEmpty(requests);
        Assert.Equal(requests.Count, CapturedFrames.Files(".resp.bin").Count());
        foreach (var request in requests)
        {
            var response = request[..^".req.bin".Length] + ".resp.bin";
            Assert.True(File.Exists(Path.Combine(CapturedFrames.Directory, response)), $"{request} has no {response}");
            var requestBytes = File.ReadAllBytes(Path.Combine(CapturedFrames.Directory, request));
            var responseBytes = File.ReadAllBytes(Path.Combine(CapturedFrames.Directory, response));
            Assert.Equal(RequestHeader.Peek(requestBytes).CorrelationId, BinaryPrimitives.ReadInt32BigEndian(responseBytes));
        }
    }

    [Fact]
    public void File_names_match_the_request_headers()
    {
        foreach (var frame in CapturedFrames.Requests())
            Assert.StartsWith($"{frame.ClientLabel}-{frame.Api.Name}-v{frame.Version}-", frame.File, StringComparison.Ordinal);
    }
}
