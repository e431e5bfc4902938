using Brook.Protocol.Messages;
using Confluent.Kafka;
using ErrorCode = Brook.Protocol.ErrorCode;

namespace Brook.Broker.Tests;

/// <summary>KIP-227 incremental fetch sessions, driven with Brook's codec (librdkafka and kafkajs fetch without sessions).</summary>
public sealed class FetchSessionTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrookBroker.StartAsync();
        await Clients.CreateTopicAsync(_broker, "sessions", 2);
    }

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private async Task ProduceAsync(int partition, int count)
    {
        using var producer = Clients.Producer(_broker);
        for (var i = 0; i < count; i++)
            await producer.ProduceAsync(new TopicPartition("sessions", partition), new Message<string, string> { Key = "k", Value = "v" + i });
    }

    private static FetchRequest Fetch(int sessionId, int epoch, params (int Partition, long Offset)[] partitions) => new()
    {
        MaxWaitMs = 50,
        MinBytes = 0,
        MaxBytes = 1 << 20,
        SessionId = sessionId,
        SessionEpoch = epoch,
        Topics = partitions.Length == 0 ? [] :
        [
            new FetchRequest.FetchTopic
            {
                Topic = "sessions",
                Partitions = partitions.Select(p => new FetchRequest.FetchPartition { Partition = p.Partition, FetchOffset = p.Offset, PartitionMaxBytes = 1 << 20 }).ToList(),
            },
        ],
    };

    private static List<int> PartitionsIn(FetchResponse response) => response.Responses.SelectMany(t => t.Partitions.Select(p => p.PartitionIndex)).ToList();

    [Fact]
    public async Task An_incremental_fetch_returns_only_partitions_with_news()
    {
        await ProduceAsync(0, 3);
        using var client = await RawClient.ConnectAsync(_broker);

        var full = await client.SendAsync<FetchResponse>(Fetch(0, 0, (0, 0), (1, 0)), 12);
        Assert.Equal((short)ErrorCode.None, full.ErrorCode);
        Assert.NotEqual(0, full.SessionId);
        Assert.Equal([0, 1], PartitionsIn(full));
        Assert.True(full.Responses[0].Partitions[0].Records!.Value.Length > 0);

        // Nothing changed on partition 1; partition 0's position moves to 3, the client says so.
        var quiet = await client.SendAsync<FetchResponse>(Fetch(full.SessionId, 1, (0, 3)), 12);
        Assert.Equal(full.SessionId, quiet.SessionId);
        Assert.Empty(PartitionsIn(quiet));

        await ProduceAsync(1, 2);
        var news = await client.SendAsync<FetchResponse>(Fetch(full.SessionId, 2), 12);
        Assert.Equal([1], PartitionsIn(news));
        Assert.Equal(2, news.Responses[0].Partitions[0].HighWatermark);
        Assert.True(news.Responses[0].Partitions[0].Records!.Value.Length > 0);
    }

    [Fact]
    public async Task Wrong_epochs_and_unknown_sessions_are_refused_and_closed_sessions_are_gone()
    {
        using var client = await RawClient.ConnectAsync(_broker);
        var full = await client.SendAsync<FetchResponse>(Fetch(0, 0, (0, 0)), 11);
        Assert.NotEqual(0, full.SessionId);

        var wrongEpoch = await client.SendAsync<FetchResponse>(Fetch(full.SessionId, 5), 11);
        Assert.Equal((short)ErrorCode.InvalidFetchSessionEpoch, wrongEpoch.ErrorCode);

        var unknown = await client.SendAsync<FetchResponse>(Fetch(full.SessionId + 1, 1), 11);
        Assert.Equal((short)ErrorCode.FetchSessionIdNotFound, unknown.ErrorCode);

        var closing = await client.SendAsync<FetchResponse>(Fetch(full.SessionId, -1, (0, 0)), 11);
        Assert.Equal(0, closing.SessionId);
        var afterClose = await client.SendAsync<FetchResponse>(Fetch(full.SessionId, 1), 11);
        Assert.Equal((short)ErrorCode.FetchSessionIdNotFound, afterClose.ErrorCode);
    }

    [Fact]
    public async Task Forgotten_partitions_leave_the_session()
    {
        using var client = await RawClient.ConnectAsync(_broker);
        var full = await client.SendAsync<FetchResponse>(Fetch(0, 0, (0, 0), (1, 0)), 12);
        var forget = Fetch(full.SessionId, 1);
        forget.ForgottenTopicsData = [new FetchRequest.ForgottenTopic { Topic = "sessions", Partitions = [1] }];
        await client.SendAsync<FetchResponse>(forget, 12);

        await ProduceAsync(1, 1);
        await ProduceAsync(0, 1);
        var next = await client.SendAsync<FetchResponse>(Fetch(full.SessionId, 2), 12);
        Assert.Equal([0], PartitionsIn(next));
    }

    [Fact]
    public async Task Sessions_work_with_topic_ids()
    {
        var topicId = _broker.Store.GetTopic("sessions")!.TopicId;
        await ProduceAsync(1, 4);
        using var client = await RawClient.ConnectAsync(_broker);
        var request = Fetch(0, 0, (1, 0));
        request.Topics[0].TopicId = topicId;
        var full = await client.SendAsync<FetchResponse>(request, 16);
        Assert.Equal(topicId, full.Responses[0].TopicId);
        Assert.Equal(4, full.Responses[0].Partitions[0].HighWatermark);

        await ProduceAsync(1, 1);
        var next = await client.SendAsync<FetchResponse>(Fetch(full.SessionId, 1), 16);
        Assert.Equal(topicId, next.Responses[0].TopicId);
        Assert.Equal(5, next.Responses[0].Partitions[0].HighWatermark);
    }
}
