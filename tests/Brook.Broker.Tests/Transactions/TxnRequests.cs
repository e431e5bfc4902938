using Brook.Protocol.Messages;
using Brook.Protocol.Records;

namespace Brook.Broker.Tests.Transactions;

/// <summary>The transactional protocol spoken through <see cref="RawClient"/>, one request at a time.</summary>
internal sealed class TxnRequests(RawClient client, string transactionalId)
{
    public long ProducerId { get; private set; } = -1;

    public short Epoch { get; private set; } = -1;

    private int _sequence;

    /// <summary>Continues as a producer that got its id and epoch earlier (before a broker restart).</summary>
    public void Resume(long producerId, short epoch, int nextSequence)
    {
        ProducerId = producerId;
        Epoch = epoch;
        _sequence = nextSequence;
    }

    public async Task<short> InitAsync(int timeoutMs = 60_000)
    {
        var response = await client.SendAsync<InitProducerIdResponse>(
            new InitProducerIdRequest { TransactionalId = transactionalId, TransactionTimeoutMs = timeoutMs }, 4);
        if (response.ErrorCode == 0)
        {
            ProducerId = response.ProducerId;
            Epoch = response.ProducerEpoch;
            _sequence = 0;
        }
        return response.ErrorCode;
    }

    public async Task<short> AddPartitionAsync(string topic, int partition = 0, short version = 3)
    {
        var response = await client.SendAsync<AddPartitionsToTxnResponse>(new AddPartitionsToTxnRequest
        {
            V3AndBelowTransactionalId = transactionalId,
            V3AndBelowProducerId = ProducerId,
            V3AndBelowProducerEpoch = Epoch,
            V3AndBelowTopics = [new AddPartitionsToTxnRequest.AddPartitionsToTxnTopic { Name = topic, Partitions = [partition] }],
        }, version);
        return response.ResultsByTopicV3AndBelow.Single().ResultsByPartition.Single().PartitionErrorCode;
    }

    public async Task<short> AddOffsetsAsync(string groupId) =>
        (await client.SendAsync<AddOffsetsToTxnResponse>(new AddOffsetsToTxnRequest
        {
            TransactionalId = transactionalId,
            ProducerId = ProducerId,
            ProducerEpoch = Epoch,
            GroupId = groupId,
        }, 3)).ErrorCode;

    public async Task<short> CommitOffsetAsync(string groupId, string topic, long offset) =>
        (await client.SendAsync<TxnOffsetCommitResponse>(new TxnOffsetCommitRequest
        {
            TransactionalId = transactionalId,
            GroupId = groupId,
            ProducerId = ProducerId,
            ProducerEpoch = Epoch,
            Topics =
            [
                new TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic
                {
                    Name = topic,
                    Partitions = [new TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition { PartitionIndex = 0, CommittedOffset = offset }],
                },
            ],
        }, 3)).Topics.Single().Partitions.Single().ErrorCode;

    /// <summary>Produces <paramref name="values"/> as one transactional batch; returns the partition's error code.</summary>
    public async Task<short> ProduceAsync(string topic, params string[] values)
    {
        using var builder = new RecordBatchBuilder { ProducerId = ProducerId, ProducerEpoch = Epoch, BaseSequence = _sequence, IsTransactional = true };
        foreach (var value in values) builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "k"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(value));
        var error = await ProduceBatchAsync(client, topic, builder.ToArray());
        if (error == 0) _sequence += values.Length;
        return error;
    }

    public async Task<short> EndAsync(bool commit, short version = 3) =>
        (await client.SendAsync<EndTxnResponse>(new EndTxnRequest
        {
            TransactionalId = transactionalId,
            ProducerId = ProducerId,
            ProducerEpoch = Epoch,
            Committed = commit,
        }, version)).ErrorCode;

    /// <summary>Produces plain (non-transactional, no producer id) records.</summary>
    public static async Task<short> ProducePlainAsync(RawClient client, string topic, params string[] values)
    {
        using var builder = new RecordBatchBuilder();
        foreach (var value in values) builder.Append(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), "k"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(value));
        return await ProduceBatchAsync(client, topic, builder.ToArray());
    }

    private static async Task<short> ProduceBatchAsync(RawClient client, string topic, byte[] records)
    {
        var response = await client.SendAsync<ProduceResponse>(new ProduceRequest
        {
            Acks = -1,
            TimeoutMs = 5000,
            TopicData = [new ProduceRequest.TopicProduceData { Name = topic, PartitionData = [new ProduceRequest.PartitionProduceData { Index = 0, Records = records }] }],
        }, 9);
        return response.Responses[0].PartitionResponses[0].ErrorCode;
    }

    /// <summary>OffsetFetch v7 for one partition: (error, committed offset).</summary>
    public static async Task<(short Error, long Offset)> FetchOffsetAsync(RawClient client, string groupId, string topic, bool requireStable)
    {
        var response = await client.SendAsync<OffsetFetchResponse>(new OffsetFetchRequest
        {
            GroupId = groupId,
            Topics = [new OffsetFetchRequest.OffsetFetchRequestTopic { Name = topic, PartitionIndexes = [0] }],
            RequireStable = requireStable,
        }, 7);
        var partition = response.Topics.Single().Partitions.Single();
        return (partition.ErrorCode, partition.CommittedOffset);
    }
}
