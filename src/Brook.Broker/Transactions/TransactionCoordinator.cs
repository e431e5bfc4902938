using System.Collections.Concurrent;
using Brook.Broker.Groups;
using Brook.Broker.Producers;
using Brook.Protocol;
using Brook.Protocol.Records;
using Brook.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Brook.Broker.Transactions;

/// <summary>
/// The transaction coordinator of this node (it coordinates every transactional id). Each transactional id has a
/// <see cref="TransactionMetadata"/>: producer id and epoch, state and the partitions of the open transaction. That state
/// changes only by applying records first appended to the compacted topic __transaction_state, and at start the same
/// <see cref="Apply"/> replays that log, so a restart resumes exactly where the records left off; a transaction found
/// in PrepareCommit/PrepareAbort is finished (its markers written again, which is harmless).
/// Ending a transaction: PrepareCommit/PrepareAbort is stored, a COMMIT/ABORT control batch is written to every
/// partition of the transaction (for __consumer_offsets partitions through the group coordinator, which then commits or
/// drops the transaction's pending offsets), then CompleteCommit/CompleteAbort is stored.
/// Fencing: a new producer instance (InitProducerId) bumps the epoch; an open transaction of the old epoch is aborted
/// with markers at the bumped epoch, so partitions reject the old epoch from then on. A transaction open longer than its
/// timeout is aborted the same way.
/// Thread-safety: each transactional id has its own async lock held across the appends of one operation; readers
/// (produce verification, Describe/List) read the immutable metadata without it. Time comes from the injected clock.
/// </summary>
public sealed partial class TransactionCoordinator
{
    public const string TopicName = "__transaction_state";
    /// <summary>Single node: the coordinator is never replaced, so its epoch stays 0.</summary>
    public const int CoordinatorEpoch = 0;

    private readonly ConcurrentDictionary<string, TransactionEntry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, string> _byProducerId = new();
    private readonly ILogStore _store;
    private readonly ProducerIdManager _producerIds;
    private readonly GroupCoordinator _groups;
    private readonly TimeProvider _time;
    private readonly long _maxTimeoutMs;
    private readonly long _idExpirationMs;
    private readonly int _topicPartitions;
    private int _partitionCount;
    private volatile bool _loaded;
    private readonly ILogger _logger;

    public TransactionCoordinator(ILogStore store, ProducerIdManager producerIds, GroupCoordinator groups, BrokerConfig config, TimeProvider time,
        ILogger<TransactionCoordinator>? logger = null)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _store = store;
        _producerIds = producerIds;
        _groups = groups;
        _time = time;
        _maxTimeoutMs = ConfigLong(config, "transaction.max.timeout.ms", 900_000);
        _idExpirationMs = ConfigLong(config, "transactional.id.expiration.ms", 604_800_000);
        _topicPartitions = config.GetInt("transaction.state.log.num.partitions", 4);
        CheckInterval = TimeSpan.FromMilliseconds(ConfigLong(config, "transaction.abort.timed.out.transaction.cleanup.interval.ms", 10_000));
    }

    /// <summary>How often timed-out transactions are looked for (transaction.abort.timed.out.transaction.cleanup.interval.ms).</summary>
    public TimeSpan CheckInterval { get; }

    public bool IsLoaded => _loaded;

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Creates __transaction_state when missing, replays it, then finishes transactions left half-ended.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken = default)
    {
        _partitionCount = await InternalTopicReplay.LoadAsync(_store, TopicName, _topicPartitions, (key, value) =>
        {
            if (TransactionRecordCodec.Decode(key, value) is { } record) Apply(record.TransactionalId, record.Metadata);
        }, cancellationToken).ConfigureAwait(false);
        _loaded = true;
        foreach (var entry in _entries.Values.Where(e => e.Metadata is { IsCompleting: true }).ToList())
        {
            await entry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (entry.Metadata is { IsCompleting: true } pending) await FinishAsync(entry, pending, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                entry.Lock.Release();
            }
        }
    }

    /// <summary>Kafka's placement of a transactional id on a partition of __transaction_state (Java's String.hashCode).</summary>
    public int PartitionFor(string transactionalId) => GroupCoordinator.PartitionFor(transactionalId, _partitionCount);

    // ---------------------------------------------------------------- records

    /// <summary>The only way state changes, live (after the append) and when replaying. Caller holds the id's lock, or is the load.</summary>
    private void Apply(string transactionalId, TransactionMetadata? metadata)
    {
        var entry = _entries.GetOrAdd(transactionalId, id => new TransactionEntry());
        if (entry.Metadata is { } old && old.ProducerId != metadata?.ProducerId)
            _byProducerId.TryRemove(new KeyValuePair<long, string>(old.ProducerId, transactionalId));
        entry.Metadata = metadata;
        if (metadata is not null) _byProducerId[metadata.ProducerId] = transactionalId;
    }

    private async Task PersistAsync(string transactionalId, TransactionMetadata? metadata, CancellationToken cancellationToken)
    {
        var log = _store.GetPartition(TopicName, PartitionFor(transactionalId)) ?? throw new StorageException($"{TopicName} is missing.");
        var (key, value) = TransactionRecordCodec.Encode(transactionalId, metadata);
        using var builder = new RecordBatchBuilder(CompressionType.None);
        builder.Append(NowMs, key, value);
        await log.AppendAsync(builder.ToArray(), new AppendOptions(TimestampType.CreateTime, NowMs, 0), cancellationToken).ConfigureAwait(false);
        Apply(transactionalId, metadata);
    }

    // ---------------------------------------------------------------- operations

    /// <summary>
    /// InitProducerId with a transactional id. A new id gets a fresh producer id at epoch 0; a known one keeps its producer
    /// id and gets the next epoch (a new producer id once the epoch is exhausted), which fences the previous instance.
    /// An open transaction is aborted first, with markers at a bumped epoch. A request carrying an id and epoch (KIP-360)
    /// must name the current ones, or the ones its own last bump replaced (a retry, answered with the current ones).
    /// </summary>
    public async Task<ProducerIdAndEpoch> InitProducerIdAsync(string transactionalId, int timeoutMs, long expectedProducerId, short expectedEpoch, CancellationToken cancellationToken)
    {
        if (!_loaded) return ProducerIdAndEpoch.Fail(ErrorCode.CoordinatorLoadInProgress, "The transaction coordinator is loading.");
        if (transactionalId.Length == 0) return ProducerIdAndEpoch.Fail(ErrorCode.InvalidRequest, "The transactional id may not be empty.");
        if (timeoutMs <= 0 || timeoutMs > _maxTimeoutMs)
        {
            return ProducerIdAndEpoch.Fail(ErrorCode.InvalidTransactionTimeout,
                $"Transaction timeout {timeoutMs} ms is outside (0, {_maxTimeoutMs}] (transaction.max.timeout.ms).");
        }
        var entry = _entries.GetOrAdd(transactionalId, _ => new TransactionEntry());
        await entry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = NowMs;
            var current = entry.Metadata;
            if (current is null)
            {
                var created = new TransactionMetadata(transactionalId, _producerIds.AllocateProducerId(), 0, -1, -1, timeoutMs, TransactionState.Empty, [], -1, now);
                await PersistAsync(transactionalId, created, cancellationToken).ConfigureAwait(false);
                return new ProducerIdAndEpoch(ErrorCode.None, created.ProducerId, created.Epoch);
            }
            var hasExpected = expectedProducerId >= 0;
            if (hasExpected && !(expectedProducerId == current.ProducerId && expectedEpoch == current.Epoch))
            {
                if (expectedProducerId == current.PreviousProducerId && expectedEpoch == current.PreviousEpoch && current.State != TransactionState.Ongoing && !current.IsCompleting)
                    return new ProducerIdAndEpoch(ErrorCode.None, current.ProducerId, current.Epoch);
                LogFencedRefused(transactionalId, expectedProducerId, expectedEpoch, current.ProducerId, current.Epoch);
                return ProducerIdAndEpoch.Fail(ErrorCode.ProducerFenced,
                    $"Producer {expectedProducerId} epoch {expectedEpoch} is not the current one of transactional id '{transactionalId}'.");
            }
            if (current.IsCompleting) current = await FinishAsync(entry, current, cancellationToken).ConfigureAwait(false);
            if (current.State == TransactionState.Ongoing)
            {
                // The instance that opened the transaction is fenced by the abort's bumped epoch; the new one continues with it.
                current = await EndAsync(entry, current with { Epoch = FenceEpoch(current.Epoch) }, commit: false, cancellationToken).ConfigureAwait(false);
                LogFenced(transactionalId, current.ProducerId, current.Epoch, "its open transaction aborted");
                if (current.IsCompleting) return ProducerIdAndEpoch.Fail(ErrorCode.ConcurrentTransactions, "Aborting the previous transaction is still in progress.");
                var resumed = current with
                {
                    PreviousProducerId = hasExpected ? expectedProducerId : -1,
                    PreviousEpoch = hasExpected ? expectedEpoch : (short)-1,
                    TimeoutMs = timeoutMs,
                    State = TransactionState.Empty,
                    LastUpdateTimestamp = now,
                };
                await PersistAsync(transactionalId, resumed, cancellationToken).ConfigureAwait(false);
                return new ProducerIdAndEpoch(ErrorCode.None, resumed.ProducerId, resumed.Epoch);
            }
            if (current.IsCompleting) return ProducerIdAndEpoch.Fail(ErrorCode.ConcurrentTransactions, "The previous transaction is still completing.");
            var exhausted = current.Epoch >= short.MaxValue - 1;
            var bumped = current with
            {
                ProducerId = exhausted ? _producerIds.AllocateProducerId() : current.ProducerId,
                Epoch = exhausted ? (short)0 : (short)(current.Epoch + 1),
                PreviousProducerId = hasExpected ? current.ProducerId : -1,
                PreviousEpoch = hasExpected ? current.Epoch : (short)-1,
                TimeoutMs = timeoutMs,
                State = TransactionState.Empty,
                Partitions = [],
                StartTimestamp = -1,
                LastUpdateTimestamp = now,
            };
            await PersistAsync(transactionalId, bumped, cancellationToken).ConfigureAwait(false);
            LogFenced(transactionalId, bumped.ProducerId, bumped.Epoch, $"producer {current.ProducerId} epoch {current.Epoch} can no longer write");
            return new ProducerIdAndEpoch(ErrorCode.None, bumped.ProducerId, bumped.Epoch);
        }
        catch (StorageException e)
        {
            return ProducerIdAndEpoch.Fail(ErrorCode.CoordinatorNotAvailable, e.Message);
        }
        finally
        {
            entry.Lock.Release();
        }
    }

    /// <summary>AddPartitionsToTxn / AddOffsetsToTxn: the partitions join the producer's transaction, which opens if needed.</summary>
    public async Task<ErrorCode> AddPartitionsAsync(string transactionalId, long producerId, short epoch, IReadOnlyCollection<TxnPartition> partitions, CancellationToken cancellationToken)
    {
        if (!_loaded) return ErrorCode.CoordinatorLoadInProgress;
        if (!_entries.TryGetValue(transactionalId, out var entry)) return ErrorCode.InvalidProducerIdMapping;
        await entry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (error, current) = Validate(entry, producerId, epoch);
            if (error != ErrorCode.None) return error;
            if (current!.IsCompleting) current = await FinishAsync(entry, current, cancellationToken).ConfigureAwait(false);
            if (current.IsCompleting) return ErrorCode.ConcurrentTransactions;
            var ongoing = current.State == TransactionState.Ongoing;
            if (ongoing && partitions.All(current.Partitions.Contains)) return ErrorCode.None;
            var now = NowMs;
            var updated = current with
            {
                State = TransactionState.Ongoing,
                Partitions = (ongoing ? current.Partitions : []).Union(partitions).Order(TxnPartitionOrder.Instance).ToList(),
                StartTimestamp = ongoing ? current.StartTimestamp : now,
                LastUpdateTimestamp = now,
            };
            await PersistAsync(transactionalId, updated, cancellationToken).ConfigureAwait(false);
            return ErrorCode.None;
        }
        catch (StorageException)
        {
            return ErrorCode.CoordinatorNotAvailable;
        }
        finally
        {
            entry.Lock.Release();
        }
    }

    /// <summary>AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction.</summary>
    public Task<ErrorCode> AddOffsetsAsync(string transactionalId, long producerId, short epoch, string groupId, CancellationToken cancellationToken) =>
        _groups.IsLoaded
            ? AddPartitionsAsync(transactionalId, producerId, epoch, [new TxnPartition(GroupCoordinator.TopicName, _groups.OffsetsPartitionFor(groupId))], cancellationToken)
            : Task.FromResult(ErrorCode.CoordinatorLoadInProgress);

    /// <summary>EndTxn: commits or aborts the open transaction; a retry of a completed end answers success again.</summary>
    public async Task<ErrorCode> EndTransactionAsync(string transactionalId, long producerId, short epoch, bool commit, CancellationToken cancellationToken)
    {
        if (!_loaded) return ErrorCode.CoordinatorLoadInProgress;
        if (!_entries.TryGetValue(transactionalId, out var entry)) return ErrorCode.InvalidProducerIdMapping;
        await entry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (error, current) = Validate(entry, producerId, epoch);
            if (error != ErrorCode.None) return error;
            switch (current!.State)
            {
                case TransactionState.Ongoing:
                    return (await EndAsync(entry, current, commit, cancellationToken).ConfigureAwait(false)).IsCompleting ? ErrorCode.ConcurrentTransactions : ErrorCode.None;
                case TransactionState.PrepareCommit or TransactionState.PrepareAbort:
                    if (current.State == TransactionState.PrepareCommit != commit) return ErrorCode.InvalidTxnState;
                    return (await FinishAsync(entry, current, cancellationToken).ConfigureAwait(false)).IsCompleting ? ErrorCode.ConcurrentTransactions : ErrorCode.None;
                case TransactionState.CompleteCommit:
                    return commit ? ErrorCode.None : ErrorCode.InvalidTxnState;
                case TransactionState.CompleteAbort:
                    return commit ? ErrorCode.InvalidTxnState : ErrorCode.None;
                default:
                    return ErrorCode.InvalidTxnState;
            }
        }
        catch (StorageException)
        {
            return ErrorCode.CoordinatorNotAvailable;
        }
        finally
        {
            entry.Lock.Release();
        }
    }

    /// <summary>
    /// Whether a transactional batch of <paramref name="producerId"/> may be written to a partition: the producer's
    /// transaction must be open at that epoch and hold the partition (INVALID_TXN_STATE otherwise, as Kafka's
    /// partition-side verification answers; an older epoch gets INVALID_PRODUCER_EPOCH).
    /// </summary>
    public ErrorCode VerifyTransactionalProduce(long producerId, short epoch, string topic, int partition)
    {
        if (!_loaded) return ErrorCode.None;
        if (!_byProducerId.TryGetValue(producerId, out var id) || !_entries.TryGetValue(id, out var entry) || entry.Metadata is not { } metadata || metadata.ProducerId != producerId)
            return ErrorCode.InvalidTxnState;
        if (epoch < metadata.Epoch) return ErrorCode.InvalidProducerEpoch;
        if (epoch != metadata.Epoch || metadata.State != TransactionState.Ongoing || !metadata.Partitions.Contains(new TxnPartition(topic, partition)))
            return ErrorCode.InvalidTxnState;
        return ErrorCode.None;
    }

    /// <summary>
    /// Aborts transactions open longer than their timeout (bumping the epoch, which fences the producer's old epoch),
    /// finishes transactions whose markers could not be written, and forgets transactional ids unused for
    /// transactional.id.expiration.ms.
    /// </summary>
    public async Task CheckTimeoutsAsync(CancellationToken cancellationToken = default)
    {
        if (!_loaded) return;
        foreach (var (id, entry) in _entries)
        {
            if (entry.Metadata is not { } seen || !IsDue(seen, NowMs)) continue;
            await entry.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var now = NowMs;
                if (entry.Metadata is not { } current || !IsDue(current, now)) continue;
                if (current.IsCompleting)
                {
                    await FinishAsync(entry, current, cancellationToken).ConfigureAwait(false);
                }
                else if (current.State == TransactionState.Ongoing)
                {
                    // The producer may recover through KIP-360 (its epoch counts as the one replaced by this bump).
                    var fenced = current with { Epoch = FenceEpoch(current.Epoch), PreviousProducerId = current.ProducerId, PreviousEpoch = current.Epoch };
                    await EndAsync(entry, fenced, commit: false, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await PersistAsync(id, null, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (StorageException)
            {
                // Retried on the next check.
            }
            finally
            {
                entry.Lock.Release();
            }
        }
    }

    // ---------------------------------------------------------------- queries

    /// <summary>The state of one transactional id, or null when it has none.</summary>
    public TransactionMetadata? Describe(string transactionalId) => _entries.TryGetValue(transactionalId, out var entry) ? entry.Metadata : null;

    /// <summary>Every transactional id with state, ordered by id.</summary>
    public IReadOnlyList<TransactionMetadata> List() =>
        _entries.Values.Select(e => e.Metadata).OfType<TransactionMetadata>().OrderBy(m => m.TransactionalId, StringComparer.Ordinal).ToList();

    // ---------------------------------------------------------------- internals

    private static (ErrorCode Error, TransactionMetadata? Current) Validate(TransactionEntry entry, long producerId, short epoch)
    {
        if (entry.Metadata is not { } current || current.ProducerId != producerId) return (ErrorCode.InvalidProducerIdMapping, null);
        if (current.Epoch != epoch) return (ErrorCode.ProducerFenced, null);
        return (ErrorCode.None, current);
    }

    private bool IsDue(TransactionMetadata metadata, long now) =>
        metadata.IsCompleting
        || (metadata.State == TransactionState.Ongoing && now - metadata.StartTimestamp >= metadata.TimeoutMs)
        || (metadata.State != TransactionState.Ongoing && now - metadata.LastUpdateTimestamp >= _idExpirationMs);

    private static short FenceEpoch(short epoch) => epoch < short.MaxValue ? (short)(epoch + 1) : epoch;

    /// <summary>Stores the decision, then writes the markers and completes; returns the state reached. Caller holds the lock.</summary>
    private async Task<TransactionMetadata> EndAsync(TransactionEntry entry, TransactionMetadata current, bool commit, CancellationToken cancellationToken)
    {
        var prepared = current with { State = commit ? TransactionState.PrepareCommit : TransactionState.PrepareAbort, LastUpdateTimestamp = NowMs };
        await PersistAsync(prepared.TransactionalId, prepared, cancellationToken).ConfigureAwait(false);
        return await FinishAsync(entry, prepared, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the markers of a prepared transaction and stores its completion. When a marker cannot be written the
    /// state stays prepared (returned as is) and the periodic check tries again. Caller holds the lock.
    /// </summary>
    private async Task<TransactionMetadata> FinishAsync(TransactionEntry entry, TransactionMetadata prepared, CancellationToken cancellationToken)
    {
        var commit = prepared.State == TransactionState.PrepareCommit;
        try
        {
            await Task.WhenAll(prepared.Partitions.Select(p => WriteMarkerAsync(p, prepared, commit, cancellationToken))).ConfigureAwait(false);
        }
        catch (StorageException)
        {
            return prepared;
        }
        var completed = prepared with
        {
            State = commit ? TransactionState.CompleteCommit : TransactionState.CompleteAbort,
            Partitions = [],
            LastUpdateTimestamp = NowMs,
        };
        await PersistAsync(completed.TransactionalId, completed, cancellationToken).ConfigureAwait(false);
        return entry.Metadata ?? completed;
    }

    private async Task WriteMarkerAsync(TxnPartition partition, TransactionMetadata transaction, bool commit, CancellationToken cancellationToken)
    {
        if (partition.Topic == GroupCoordinator.TopicName)
        {
            await _groups.CompleteTransactionAsync(partition.Partition, transaction.ProducerId, transaction.Epoch, CoordinatorEpoch, commit, cancellationToken).ConfigureAwait(false);
            return;
        }
        // A partition deleted since it joined the transaction has nothing left to mark.
        if (_store.GetPartition(partition.Topic, partition.Partition) is not { } log) return;
        var now = NowMs;
        var marker = ControlRecords.BuildTransactionMarker(commit, transaction.ProducerId, transaction.Epoch, CoordinatorEpoch, now);
        await log.AppendAsync(marker, new AppendOptions(TimestampType.CreateTime, now, 0), cancellationToken).ConfigureAwait(false);
    }

    private static long ConfigLong(BrokerConfig config, string name, long fallback) =>
        config.Get(name) is { } text && long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : fallback;

    /// <summary>One transactional id: its lock and its current state (null once forgotten).</summary>
    private sealed class TransactionEntry
    {
        private TransactionMetadata? _metadata;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        public TransactionMetadata? Metadata
        {
            get => Volatile.Read(ref _metadata);
            set => Volatile.Write(ref _metadata, value);
        }
    }

    private sealed class TxnPartitionOrder : IComparer<TxnPartition>
    {
        public static readonly TxnPartitionOrder Instance = new();

        public int Compare(TxnPartition x, TxnPartition y)
        {
            var byTopic = string.CompareOrdinal(x.Topic, y.Topic);
            return byTopic != 0 ? byTopic : x.Partition.CompareTo(y.Partition);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Transactional id '{TransactionalId}' initialized by a new producer instance (producer {ProducerId} epoch {Epoch}); earlier instances are fenced: {Consequence}")]
    private partial void LogFenced(string transactionalId, long producerId, short epoch, string consequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused fenced producer {ProducerId} epoch {Epoch} of transactional id '{TransactionalId}' (current: producer {CurrentProducerId} epoch {CurrentEpoch})")]
    private partial void LogFencedRefused(string transactionalId, long producerId, short epoch, long currentProducerId, short currentEpoch);
}
