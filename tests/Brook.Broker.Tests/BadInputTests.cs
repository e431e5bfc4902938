using System.Buffers.Binary;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Protocol.Records;

namespace Brook.Broker.Tests;

public sealed class BadInputTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(_broker, "target", 1);
    }

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private static byte[] Batch(CompressionType codec = CompressionType.None)
    {
        var builder = new RecordBatchBuilder(codec);
        for (var i = 0; i < 10; i++)
            builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "k"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes("value-" + i), []);
        return builder.ToArray();
    }

    private static ProduceRequest Produce(byte[] records) => new()
    {
        Acks = -1,
        TimeoutMs = 5000,
        TopicData = [new ProduceRequest.TopicProduceData { Name = "target", PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = records }] }],
    };

    [Fact]
    public async Task A_batch_with_a_bad_crc_is_refused_and_nothing_is_appended()
    {
        var records = Batch();
        records[^1] ^= 0x55; // a record byte, covered by the CRC
        using var client = await RawClient.ConnectAsync(_broker);
        var response = await client.SendAsync<ProduceResponse>(Produce(records), 9);
        Assert.Equal((short)ErrorCode.CorruptMessage, response.Responses[0].PartitionResponses[0].ErrorCode);
        Assert.Equal(0, _broker.Store.GetPartition("target", 0)!.LogEndOffset);

        // The same connection keeps working.
        var ok = await client.SendAsync<ProduceResponse>(Produce(Batch()), 9);
        Assert.Equal((short)ErrorCode.None, ok.Responses[0].PartitionResponses[0].ErrorCode);
        Assert.Equal(10, _broker.Store.GetPartition("target", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task A_batch_whose_records_do_not_parse_is_an_invalid_record()
    {
        var records = Batch();
        // Claim one more record than the batch holds, keeping the CRC valid.
        BinaryPrimitives.WriteInt32BigEndian(records.AsSpan(RecordBatchHeader.RecordCountPosition), 11);
        BinaryPrimitives.WriteInt32BigEndian(records.AsSpan(RecordBatchHeader.LastOffsetDeltaPosition), 10);
        RecordBatchHeader.UpdateCrc(records);
        using var client = await RawClient.ConnectAsync(_broker);
        var response = await client.SendAsync<ProduceResponse>(Produce(records), 11);
        Assert.Equal((short)ErrorCode.InvalidRecord, response.Responses[0].PartitionResponses[0].ErrorCode);
        Assert.Equal(0, _broker.Store.GetPartition("target", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task An_oversized_frame_closes_only_its_own_connection()
    {
        using var bystander = await RawClient.ConnectAsync(_broker);
        await bystander.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 2);

        using var attacker = await RawClient.ConnectAsync(_broker);
        var frame = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(frame, int.MaxValue);
        await attacker.SendRawAsync(frame);
        Assert.Null(await attacker.ReadFrameAsync());

        var stillServed = await bystander.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest(), 2);
        Assert.Equal((short)ErrorCode.None, stillServed.ErrorCode);
    }

    [Fact]
    public async Task Garbage_and_unknown_api_keys_close_the_connection()
    {
        using var garbage = await RawClient.ConnectAsync(_broker);
        var frame = new byte[20];
        BinaryPrimitives.WriteInt32BigEndian(frame, 16);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(4), 3); // Metadata
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(6), 12);
        frame.AsSpan(12).Fill(0xFF); // truncated, invalid lengths
        await garbage.SendRawAsync(frame);
        Assert.Null(await garbage.ReadFrameAsync());

        using var unknown = await RawClient.ConnectAsync(_broker);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(4), 999);
        await unknown.SendRawAsync(frame);
        Assert.Null(await unknown.ReadFrameAsync());
    }

    [Fact]
    public async Task An_api_versions_request_of_an_unknown_version_gets_the_supported_range()
    {
        using var client = await RawClient.ConnectAsync(_broker);
        using var writer = new ProtocolWriter();
        writer.WriteInt32(0);
        new RequestHeader { ApiKey = ApiKeys.ApiVersions, ApiVersion = 99, CorrelationId = 7, ClientId = "future" }.Write(writer, 2);
        writer.WriteUVarint(0);
        writer.PatchInt32(0, writer.Length - 4);
        await client.SendRawAsync(writer.WrittenMemory);
        var frame = await client.ReadFrameAsync();
        Assert.NotNull(frame);
        var reader = new ProtocolReader(frame);
        Assert.Equal(7, reader.ReadInt32()); // response header v0
        var response = new ApiVersionsResponse();
        response.Read(ref reader, 0);
        Assert.Equal((short)ErrorCode.UnsupportedVersion, response.ErrorCode);
        Assert.Contains(response.ApiKeys, k => k.ApiKey == ApiKeys.ApiVersions && k.MaxVersion == 4);
    }

    [Fact]
    public async Task A_topic_with_a_compression_type_stores_batches_in_that_codec()
    {
        await Clients.CreateTopicAsync(_broker, "stored-zstd", 1, new Dictionary<string, string> { ["compression.type"] = "zstd" });
        using var client = await RawClient.ConnectAsync(_broker);
        var request = Produce(Batch(CompressionType.Gzip));
        request.TopicData[0].Name = "stored-zstd";
        var response = await client.SendAsync<ProduceResponse>(request, 9);
        Assert.Equal((short)ErrorCode.None, response.Responses[0].PartitionResponses[0].ErrorCode);

        var log = _broker.Store.GetPartition("stored-zstd", 0)!;
        using var read = await log.ReadAsync(0, 1 << 20, true, log.HighWatermark);
        Assert.Equal(CompressionType.Zstd, new RecordBatchHeader(read.Records.Span).Compression);
        var received = Clients.ConsumeAll(_broker, "stored-zstd", 1, expected: 10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => "value-" + i), received.Select(r => r.Message.Value));
    }
}
