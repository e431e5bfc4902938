using Brook.Protocol.Messages;
using ErrorCode = Brook.Protocol.ErrorCode;

namespace Brook.Broker.Tests;

/// <summary>
/// A connection reads its next produce request while the previous one waits for its fsync. What must hold: requests
/// take effect in the order sent (offsets, idempotent sequences), other requests wait for the produces before them,
/// and every response comes back in request order.
/// </summary>
public sealed class PipelinedProduceTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-pipelined-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task Produce_requests_sent_back_to_back_take_effect_and_are_answered_in_order()
    {
        // On disk with Brook's default fsync per append, so each produce really waits for a flush.
        await using var broker = await BrookBroker.StartAsync(new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = _dataDir });
        await Clients.CreateTopicAsync(broker, "piped", 1);
        await Clients.CreateTopicAsync(broker, "piped-idempotent", 1);
        using var client = await RawClient.ConnectAsync(broker);
        var init = await client.SendAsync<InitProducerIdResponse>(new InitProducerIdRequest { TransactionTimeoutMs = 60_000, ProducerId = -1, ProducerEpoch = -1 }, 4);

        const int Requests = 30;
        const int PerBatch = 3;
        var sent = new List<(int CorrelationId, bool Idempotent)>();
        for (var i = 0; i < Requests; i++)
        {
            // Alternate plain and idempotent batches; the idempotent sequences must arrive in order to be accepted.
            var idempotent = i % 2 == 1;
            var batch = idempotent ? RawProduce.Batch(init.ProducerId, init.ProducerEpoch, i / 2 * PerBatch, PerBatch) : RawProduce.Batch(-1, -1, i / 2 * PerBatch, PerBatch);
            sent.Add((await client.SendOnlyAsync(RawProduce.Request(idempotent ? "piped-idempotent" : "piped", batch), 9), idempotent));
        }
        // A request of another kind behind them sees all their effects.
        var listOffsets = await client.SendOnlyAsync(new ListOffsetsRequest
        {
            ReplicaId = -1,
            Topics = [new ListOffsetsRequest.ListOffsetsTopic { Name = "piped", Partitions = [new ListOffsetsRequest.ListOffsetsPartition { PartitionIndex = 0, Timestamp = -1 }] }],
        }, 7);

        var expectedOffset = new Dictionary<bool, long> { [false] = 0, [true] = 0 };
        foreach (var (correlationId, idempotent) in sent)
        {
            var partition = (await client.ReceiveAsync<ProduceResponse>(correlationId, 9)).Responses[0].PartitionResponses[0];
            Assert.Equal((short)ErrorCode.None, partition.ErrorCode);
            Assert.Equal(expectedOffset[idempotent], partition.BaseOffset);
            expectedOffset[idempotent] += PerBatch;
        }
        var end = (await client.ReceiveAsync<ListOffsetsResponse>(listOffsets, 7)).Topics[0].Partitions[0];
        Assert.Equal(Requests / 2 * PerBatch, end.Offset);
    }
}
