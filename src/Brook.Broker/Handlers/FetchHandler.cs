using Brook.Broker.Fetching;
using Brook.Broker.Security;
using Brook.Broker.Telemetry;
using Brook.Protocol;
using Brook.Protocol.Messages;
using Brook.Storage;

namespace Brook.Broker.Handlers;

/// <summary>
/// Fetch (key 1), versions 4+ (record batch v2). v4: isolation level, last stable offset; v5: log start offset;
/// v7: incremental fetch sessions (KIP-227); v9: current leader epoch; v11: rack; v12: flexible; v13: topic ids.
/// isolation_level 1 (read_committed) reads only below the last stable offset and gets the aborted transactions
/// overlapping what it reads. A fetch with less than min_bytes waits (asynchronously) for appends or max_wait_ms, whichever comes first.
/// Needs READ on each topic (CLUSTER_ACTION for a follower's fetch), checked on every read of the session's partitions.
/// </summary>
public sealed class FetchHandler(ILogStore store, TimeProvider time, BrokerMetrics metrics, FetchSessionCache sessions)
    : RequestHandler<FetchRequest, FetchResponse>
{
    private const int FinalEpoch = -1;
    private const int InitialEpoch = 0;

    protected override async ValueTask<FetchResponse?> HandleAsync(RequestContext context, FetchRequest request, CancellationToken cancellationToken)
    {
        var useIds = context.ApiVersion >= 13;
        FetchSession? session = null;
        var incremental = false;
        if (context.ApiVersion >= 7)
        {
            var (error, resolved, isIncremental) = ResolveSession(request, useIds);
            if (error != ErrorCode.None)
            {
                metrics.ErrorReturned("Fetch", error);
                return new FetchResponse { ErrorCode = (short)error, SessionId = 0 };
            }
            session = resolved;
            incremental = isIncremental;
        }
        var targets = session?.Partitions ?? Targets(request, useIds);

        var deadline = time.GetUtcNow().AddMilliseconds(Math.Max(0, request.MaxWaitMs));
        while (true)
        {
            // Wake-ups are armed before the high watermarks are read, so an append landing in between is not missed.
            using var wake = new CancellationTokenSource();
            var waits = new List<Task>();
            var read = await ReadOnceAsync(context, request, targets, useIds, incremental, waits, wake.Token, cancellationToken).ConfigureAwait(false);
            var remaining = deadline - time.GetUtcNow();
            if (read.Bytes >= request.MinBytes || remaining <= TimeSpan.Zero || read.Readable == 0 || cancellationToken.IsCancellationRequested)
            {
                await wake.CancelAsync().ConfigureAwait(false);
                return Complete(read, session);
            }
            context.Dispose(); // release the buffers of a read that is not sent
            waits.Add(Task.Delay(remaining, time, cancellationToken));
            await Task.WhenAny(waits).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested) return Complete(read, session);
        }
    }

    private FetchResponse Complete(ReadOutcome read, FetchSession? session)
    {
        // Only what is actually sent becomes the session's baseline for the next incremental response.
        foreach (var (target, data) in read.Included)
        {
            target.Sent = true;
            target.SentHighWatermark = data.HighWatermark;
            target.SentLastStableOffset = data.LastStableOffset;
            target.SentLogStartOffset = data.LogStartOffset;
        }
        read.Response.SessionId = session?.Id ?? 0;
        foreach (var topic in read.Response.Responses)
        {
            var name = topic.Topic.Length > 0 ? topic.Topic : store.GetTopic(topic.TopicId)?.Name ?? "";
            foreach (var p in topic.Partitions)
            {
                metrics.Fetched(name, p.Records is { } records ? records.Span : default);
                if (p.ErrorCode != 0) metrics.ErrorReturned("Fetch", (ErrorCode)p.ErrorCode);
            }
        }
        return read.Response;
    }

    /// <summary>
    /// KIP-227: session id 0 with epoch -1 is a sessionless fetch; epoch 0 opens a session (closing the named one);
    /// epoch -1 with a session id closes it; a positive epoch continues the session incrementally.
    /// </summary>
    private (ErrorCode Error, FetchSession? Session, bool Incremental) ResolveSession(FetchRequest request, bool useIds)
    {
        var id = request.SessionId;
        var epoch = request.SessionEpoch;
        if (epoch == FinalEpoch)
        {
            if (id != 0) sessions.Remove(id);
            return (ErrorCode.None, null, false);
        }
        if (epoch == InitialEpoch)
        {
            if (id != 0) sessions.Remove(id);
            var created = sessions.Create();
            created?.Partitions.AddRange(Targets(request, useIds));
            return (ErrorCode.None, created, false);
        }
        var session = id == 0 ? null : sessions.Get(id);
        if (session is null) return (id == 0 ? ErrorCode.InvalidFetchSessionEpoch : ErrorCode.FetchSessionIdNotFound, null, false);
        if (epoch != session.NextEpoch) return (ErrorCode.InvalidFetchSessionEpoch, null, false);

        foreach (var target in Targets(request, useIds))
        {
            var existing = session.Find(target.Topic, target.TopicId, target.Partition, useIds);
            if (existing is null)
            {
                session.Partitions.Add(target);
                continue;
            }
            existing.FetchOffset = target.FetchOffset;
            existing.MaxBytes = target.MaxBytes;
        }
        foreach (var forgotten in request.ForgottenTopicsData)
        {
            var topicName = useIds ? store.GetTopic(forgotten.TopicId)?.Name ?? "" : forgotten.Topic;
            foreach (var partition in forgotten.Partitions)
            {
                var existing = session.Find(topicName, forgotten.TopicId, partition, useIds);
                if (existing is not null) session.Partitions.Remove(existing);
            }
        }
        session.NextEpoch = epoch == int.MaxValue ? 1 : epoch + 1;
        return (ErrorCode.None, session, true);
    }

    private List<FetchTarget> Targets(FetchRequest request, bool useIds)
    {
        var targets = new List<FetchTarget>();
        foreach (var topic in request.Topics)
        {
            var name = useIds ? store.GetTopic(topic.TopicId)?.Name ?? "" : topic.Topic;
            foreach (var partition in topic.Partitions)
            {
                targets.Add(new FetchTarget(name, topic.TopicId, partition.Partition)
                {
                    FetchOffset = partition.FetchOffset,
                    MaxBytes = partition.PartitionMaxBytes,
                });
            }
        }
        return targets;
    }

    private sealed record ReadOutcome(FetchResponse Response, long Bytes, int Readable, List<(FetchTarget Target, FetchResponse.PartitionData Data)> Included);

    private async ValueTask<ReadOutcome> ReadOnceAsync(
        RequestContext context, FetchRequest request, List<FetchTarget> targets, bool useIds, bool incremental,
        List<Task> waits, CancellationToken wakeToken, CancellationToken cancellationToken)
    {
        var response = new FetchResponse();
        var included = new List<(FetchTarget, FetchResponse.PartitionData)>();
        long totalBytes = 0;
        var readable = 0;
        var maxBytes = request.MaxBytes <= 0 ? int.MaxValue : request.MaxBytes;
        var readCommitted = request.IsolationLevel == 1;
        var readAccess = new TopicAccess(context, AclOperation.Read, follower: request.ReplicaId >= 0 || (request.ReplicaState?.ReplicaId ?? -1) >= 0);
        FetchResponse.FetchableTopicResponse? topicResponse = null;
        foreach (var target in targets)
        {
            var result = new FetchResponse.PartitionData { PartitionIndex = target.Partition, HighWatermark = -1, LastStableOffset = -1, LogStartOffset = -1 };
            var metadata = useIds ? store.GetTopic(target.TopicId) : store.GetTopic(target.Topic);
            var log = metadata is null ? null : store.GetPartition(metadata.Name, target.Partition);
            if (!(useIds && metadata is null) && !readAccess.IsAllowed(metadata?.Name ?? target.Topic))
            {
                result.ErrorCode = (short)ErrorCode.TopicAuthorizationFailed;
            }
            else if (log is null)
            {
                result.ErrorCode = (short)(useIds && metadata is null ? ErrorCode.UnknownTopicId : ErrorCode.UnknownTopicOrPartition);
            }
            else
            {
                readable++;
                var appended = log.WaitForAppendAsync(wakeToken);
                var highWatermark = log.HighWatermark;
                var lastStable = Math.Min(log.LastStableOffset, highWatermark);
                // read_committed sees only decided offsets; the consumer drops aborted data using the list sent with it.
                var visibleEnd = readCommitted ? lastStable : highWatermark;
                result.HighWatermark = highWatermark;
                result.LastStableOffset = lastStable;
                result.LogStartOffset = log.LogStartOffset;
                // Kafka sends null, not an empty list, to read_uncommitted consumers.
                result.AbortedTransactions = readCommitted ? [] : null;
                if (target.FetchOffset < log.LogStartOffset || target.FetchOffset > log.LogEndOffset)
                {
                    result.ErrorCode = (short)ErrorCode.OffsetOutOfRange;
                }
                else if (target.FetchOffset >= visibleEnd || totalBytes >= maxBytes)
                {
                    if (target.FetchOffset >= visibleEnd) waits.Add(appended);
                    result.Records = ReadOnlyMemory<byte>.Empty;
                }
                else
                {
                    var budget = (int)Math.Min(Math.Max(0, target.MaxBytes), maxBytes - totalBytes);
                    try
                    {
                        // KIP-74: the first partition with data returns at least one whole batch so a large batch cannot stall the consumer.
                        var data = await log.ReadAsync(target.FetchOffset, budget, minOneBatch: totalBytes == 0, visibleEnd, cancellationToken).ConfigureAwait(false);
                        context.ReleaseAfterResponse(data);
                        result.Records = data.Records;
                        totalBytes += data.Records.Length;
                        if (readCommitted && !data.Records.IsEmpty)
                        {
                            foreach (var aborted in log.AbortedTransactions(target.FetchOffset, visibleEnd))
                                result.AbortedTransactions!.Add(new FetchResponse.AbortedTransaction { ProducerId = aborted.ProducerId, FirstOffset = aborted.FirstOffset });
                        }
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

            // An incremental response carries only partitions with data, errors or moved offsets.
            var changed = !target.Sent || result.ErrorCode != 0 || result.Records is { Length: > 0 }
                || result.HighWatermark != target.SentHighWatermark || result.LastStableOffset != target.SentLastStableOffset
                || result.LogStartOffset != target.SentLogStartOffset;
            if (incremental && !changed) continue;
            result.Records ??= ReadOnlyMemory<byte>.Empty;
            var sameTopic = topicResponse is not null && (useIds ? topicResponse.TopicId == target.TopicId : topicResponse.Topic == target.Topic);
            if (!sameTopic)
            {
                topicResponse = new FetchResponse.FetchableTopicResponse { Topic = target.Topic, TopicId = target.TopicId };
                response.Responses.Add(topicResponse);
            }
            topicResponse!.Partitions.Add(result);
            included.Add((target, result));
        }
        return new ReadOutcome(response, totalBytes, readable, included);
    }
}
