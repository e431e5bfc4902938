using Brook.Broker.Telemetry;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// Fetch (key 1), versions 4+ (record batch v2). v4: isolation level, last stable offset; v5: log start offset;
/// v7: fetch sessions (this broker declines to create them: session id 0, full fetches, which clients support);
/// v9: current leader epoch; v11: rack; v12: flexible; v13: topic ids instead of names.
/// A fetch that has less than min_bytes waits (asynchronously) for appends or max_wait_ms, whichever comes first.
/// </summary>
public sealed class FetchHandler(ILogStore store, TimeProvider time, BrokerMetrics metrics) : RequestHandler<FetchRequest, FetchResponse>
{
    protected override async ValueTask<FetchResponse?> HandleAsync(RequestContext context, FetchRequest request, CancellationToken cancellationToken)
    {
        var useIds = context.ApiVersion >= 13;
        var deadline = time.GetUtcNow().AddMilliseconds(Math.Max(0, request.MaxWaitMs));
        while (true)
        {
            // Arm the wake-up before reading so an append that lands between the read and the wait is not missed.
            using var wake = new CancellationTokenSource();
            var waits = new List<Task>();
            var (response, bytes, partitions) = await ReadOnceAsync(context, request, useIds, waits, wake.Token, cancellationToken).ConfigureAwait(false);
            var remaining = deadline - time.GetUtcNow();
            if (bytes >= request.MinBytes || remaining <= TimeSpan.Zero || partitions == 0 || cancellationToken.IsCancellationRequested)
            {
                await wake.CancelAsync().ConfigureAwait(false);
                Record(response);
                return response;
            }
            context.Dispose(); // release buffers of the empty read before waiting
            waits.Add(Task.Delay(remaining, time, cancellationToken));
            await Task.WhenAny(waits).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested)
            {
                Record(response);
                return response;
            }
        }
    }

    private void Record(FetchResponse response)
    {
        foreach (var topic in response.Responses)
        {
            var name = topic.Topic.Length > 0 ? topic.Topic : store.GetTopic(topic.TopicId)?.Name ?? "";
            foreach (var p in topic.Partitions)
            {
                metrics.Fetched(name, p.Records?.Length ?? 0);
                if (p.ErrorCode != 0) metrics.ErrorReturned("Fetch", (ErrorCode)p.ErrorCode);
            }
        }
    }

    private async ValueTask<(FetchResponse Response, long Bytes, int Partitions)> ReadOnceAsync(
        RequestContext context, FetchRequest request, bool useIds, List<Task> waits, CancellationToken wakeToken, CancellationToken cancellationToken)
    {
        var response = new FetchResponse { SessionId = 0 };
        long totalBytes = 0;
        var partitionCount = 0;
        var maxBytes = request.MaxBytes <= 0 ? int.MaxValue : request.MaxBytes;
        var readCommitted = request.IsolationLevel == 1;
        foreach (var topic in request.Topics)
        {
            var metadata = useIds ? store.GetTopic(topic.TopicId) : store.GetTopic(topic.Topic);
            var topicResponse = new FetchResponse.FetchableTopicResponse { Topic = topic.Topic, TopicId = topic.TopicId };
            response.Responses.Add(topicResponse);
            foreach (var partition in topic.Partitions)
            {
                var result = new FetchResponse.PartitionData { PartitionIndex = partition.Partition, HighWatermark = -1, LastStableOffset = -1, LogStartOffset = -1 };
                topicResponse.Partitions.Add(result);
                var log = metadata is null ? null : store.GetPartition(metadata.Name, partition.Partition);
                if (log is null)
                {
                    result.ErrorCode = (short)(useIds && metadata is null ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition);
                    continue;
                }
                partitionCount++;
                var highWatermark = log.HighWatermark;
                result.HighWatermark = highWatermark;
                result.LastStableOffset = highWatermark;
                result.LogStartOffset = log.LogStartOffset;
                if (readCommitted) result.AbortedTransactions = [];
                if (partition.FetchOffset < log.LogStartOffset || partition.FetchOffset > log.LogEndOffset)
                {
                    result.ErrorCode = (short)ErrorCode.OffsetOutOfRange;
                    continue;
                }
                if (partition.FetchOffset >= highWatermark || totalBytes >= maxBytes)
                {
                    if (partition.FetchOffset >= highWatermark) waits.Add(log.WaitForAppendAsync(wakeToken));
                    result.Records = ReadOnlyMemory<byte>.Empty;
                    continue;
                }
                var budget = (int)Math.Min(Math.Max(0, partition.PartitionMaxBytes), maxBytes - totalBytes);
                try
                {
                    // KIP-74: the first partition with data returns at least one whole batch so a large batch cannot stall the consumer.
                    var read = await log.ReadAsync(partition.FetchOffset, budget, minOneBatch: totalBytes == 0, highWatermark, cancellationToken).ConfigureAwait(false);
                    context.ReleaseAfterResponse(read);
                    result.Records = read.Records;
                    totalBytes += read.Records.Length;
                }
                catch (OffsetOutOfRangeException)
                {
                    result.ErrorCode = (short)ErrorCode.OffsetOutOfRange;
                }
                catch (StorageException)
                {
                    result.ErrorCode = (short)ErrorCode.KafkaStorageError;
                }
            }
        }
        return (response, totalBytes, partitionCount);
    }
}
