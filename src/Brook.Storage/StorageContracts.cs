using Brook.Protocol;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>
/// The broker's view of storage, in Kafka's terms: topics made of partitions, each an append-only log of
/// record batches kept as bytes. Two implementations pass the same test suite: on disk and in memory.
/// Thread-safety: every member may be called concurrently.
/// </summary>
public interface ILogStore : IAsyncDisposable
{
    /// <summary>Every topic, including internal ones (names starting with "__").</summary>
    IReadOnlyList<TopicMetadata> ListTopics();

    TopicMetadata? GetTopic(string name);

    TopicMetadata? GetTopic(KafkaUuid topicId);

    /// <summary>Creates a topic with its partitions; configs are already validated by the caller.</summary>
    ValueTask<StoreResult<TopicMetadata>> CreateTopicAsync(string name, int partitionCount, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken = default);

    /// <summary>Deletes the topic and its data.</summary>
    ValueTask<StoreStatus> DeleteTopicAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Grows the topic to <paramref name="newPartitionCount"/> partitions.</summary>
    ValueTask<StoreResult<TopicMetadata>> AddPartitionsAsync(string name, int newPartitionCount, CancellationToken cancellationToken = default);

    /// <summary>Replaces the topic's explicitly set configs (entries absent from the map revert to defaults).</summary>
    ValueTask<StoreResult<TopicMetadata>> SetTopicConfigsAsync(string name, IReadOnlyDictionary<string, string> configs, CancellationToken cancellationToken = default);

    /// <summary>The log of one partition, or null when the topic or partition does not exist.</summary>
    IPartitionLog? GetPartition(string topic, int partition);

    /// <summary>
    /// Replaces the broker-level settings topics fall back to (log.retention.hours, message.max.bytes, ...), as a dynamic
    /// broker config change does; every partition's effective config follows at once. Values are already validated.
    /// </summary>
    ValueTask UpdateBrokerConfigsAsync(IReadOnlyDictionary<string, string> brokerConfigs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every topic config with its effective value and source (topic override, broker setting or Kafka default) for
    /// DescribeConfigs; empty when the topic does not exist.
    /// </summary>
    IReadOnlyList<ConfigEntry> DescribeTopicConfigs(string topic) =>
        GetTopic(topic) is { } metadata ? TopicConfigs.Describe(new Dictionary<string, string>(), metadata.Configs) : [];
}

/// <summary>Durable description of a topic.</summary>
public sealed record TopicMetadata(string Name, KafkaUuid TopicId, int PartitionCount, IReadOnlyDictionary<string, string> Configs)
{
    public bool IsInternal => Name.StartsWith("__", StringComparison.Ordinal);
}

public enum StoreStatus
{
    Ok,
    TopicAlreadyExists,
    UnknownTopic,
    InvalidPartitions,
    StorageError,
}

public readonly record struct StoreResult<T>(StoreStatus Status, T? Value, string? Message = null)
{
    public static StoreResult<T> Success(T value) => new(StoreStatus.Ok, value);

    public static StoreResult<T> Failure(StoreStatus status, string? message = null) => new(status, default, message);
}

/// <summary>
/// One partition's log. Appends are serialized per partition; reads never wait for appends and see a batch
/// only once its append completed (the end offset is published after the write).
/// </summary>
public interface IPartitionLog
{
    string Topic { get; }

    int Partition { get; }

    /// <summary>First offset still readable.</summary>
    long LogStartOffset { get; }

    /// <summary>The offset the next appended record will get.</summary>
    long LogEndOffset { get; }

    /// <summary>Offsets below this are visible to consumers. Single node: equal to <see cref="LogEndOffset"/> once an append has completed.</summary>
    long HighWatermark { get; }

    /// <summary>
    /// Offsets below this are decided: no transaction that is still open started below it. The first offset of the
    /// oldest ongoing transaction, else the high watermark. read_committed consumers read only below it.
    /// </summary>
    long LastStableOffset { get; }

    /// <summary>Bytes of log data held for this partition.</summary>
    long SizeInBytes { get; }

    /// <summary>
    /// Appends one or more whole record batches (magic 2, already validated by the caller). Offsets are assigned
    /// by patching each batch's base offset in <paramref name="batches"/>; with LogAppendTime the max timestamp
    /// and CRC are patched too. Completes when the data is as durable as the partition's flush policy promises.
    /// Batches carrying a producer id are checked against the partition's producer state in the same serialized
    /// step as the write: duplicates and sequence/epoch errors are reported in <see cref="AppendResult.Status"/>.
    /// </summary>
    ValueTask<AppendResult> AppendAsync(Memory<byte> batches, AppendOptions options, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="AppendAsync"/> in two steps: completes once the batches are written in the partition's order (offsets
    /// assigned, producer state checked), with <see cref="StagedAppend.Committed"/> completing when they are as durable
    /// as the flush policy promises and visible to readers. A connection can then take its next produce request while
    /// this one's fsync runs, and both share it (group commit).
    /// </summary>
    async ValueTask<StagedAppend> AppendStagedAsync(Memory<byte> batches, AppendOptions options, CancellationToken cancellationToken = default) =>
        new(await AppendAsync(batches, options, cancellationToken).ConfigureAwait(false), Task.CompletedTask);

    /// <summary>
    /// Reads whole batches starting with the one containing <paramref name="offset"/>, up to <paramref name="maxBytes"/>;
    /// when <paramref name="minOneBatch"/> the first batch is returned even if larger. Only data below
    /// <paramref name="maxOffset"/> (exclusive, normally the high watermark) is returned.
    /// The caller disposes the result to release its buffer.
    /// </summary>
    ValueTask<ReadResult> ReadAsync(long offset, int maxBytes, bool minOneBatch, long maxOffset, CancellationToken cancellationToken = default);

    /// <summary>The first offset whose record timestamp is at or after <paramref name="timestamp"/>, or null when none is.</summary>
    ValueTask<TimestampOffset?> FindOffsetByTimestampAsync(long timestamp, CancellationToken cancellationToken = default);

    /// <summary>The offset and timestamp of the record with the largest timestamp, or null when the log is empty.</summary>
    ValueTask<TimestampOffset?> FindMaxTimestampAsync(CancellationToken cancellationToken = default);

    /// <summary>Moves the log start offset forward to <paramref name="offset"/> (DeleteRecords); returns the new start.</summary>
    ValueTask<long> DeleteRecordsBeforeAsync(long offset, CancellationToken cancellationToken = default);

    /// <summary>Completes the next time data is appended (or the log is truncated/deleted); used by long-poll fetches.</summary>
    Task WaitForAppendAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Aborted transactions whose data may lie in [<paramref name="fromOffset"/>, <paramref name="upperBoundOffset"/>):
    /// those that ended (abort marker) at or after the start and began before the bound. Oldest first.
    /// </summary>
    IReadOnlyList<AbortedTransaction> AbortedTransactions(long fromOffset, long upperBoundOffset);

    /// <summary>The producers this partition keeps state for (DescribeProducers).</summary>
    ValueTask<IReadOnlyList<ProducerInfo>> DescribeProducersAsync(CancellationToken cancellationToken = default);
}

/// <summary>A transaction that was aborted: its producer, its first data offset and the offset of its abort marker.</summary>
public readonly record struct AbortedTransaction(long ProducerId, long FirstOffset, long LastOffset);

/// <summary>What a partition knows of one producer; <see cref="CurrentTxnStartOffset"/> is -1 outside a transaction.</summary>
public readonly record struct ProducerInfo(long ProducerId, short Epoch, int LastSequence, long LastTimestamp, int CoordinatorEpoch, long CurrentTxnStartOffset);

public readonly record struct AppendOptions(TimestampType TimestampType, long LogAppendTime, int LeaderEpoch);

/// <summary>
/// Where the appended batches landed. With <see cref="AppendStatus.Duplicate"/> nothing was written and the offsets
/// are those of the earlier identical batch; with a producer error nothing was written and the offsets are -1.
/// </summary>
public readonly record struct AppendResult(long BaseOffset, long LastOffset, long LogAppendTime, long LogStartOffset, AppendStatus Status = AppendStatus.Appended, string? Message = null)
{
    public static AppendResult Rejected(AppendStatus status, string? message, long logStartOffset) => new(-1, -1, -1, logStartOffset, status, message);
}

/// <summary>An append written in order; <see cref="Committed"/> completes when it is durable and visible, or faults with a <see cref="StorageException"/>.</summary>
public readonly record struct StagedAppend(AppendResult Result, Task Committed);

/// <summary>What an append did, given the idempotent-producer state of the partition (batches with a producer id).</summary>
public enum AppendStatus
{
    /// <summary>The batches were written.</summary>
    Appended,
    /// <summary>A retry of a batch among the producer's last five; nothing written, the original offsets returned.</summary>
    Duplicate,
    /// <summary>The batch's producer epoch is older than the partition's (fenced by a newer producer instance).</summary>
    InvalidProducerEpoch,
    /// <summary>The batch's sequence does not follow the producer's last one (a gap, or a new epoch not starting at 0).</summary>
    OutOfOrderSequence,
}

public readonly record struct TimestampOffset(long Timestamp, long Offset);

/// <summary>Bytes read from a log: whole batches, possibly none. Dispose releases the pooled buffer.</summary>
public sealed class ReadResult : IDisposable
{
    private readonly IDisposable? _owner;

    public ReadResult(ReadOnlyMemory<byte> records, long highWatermark, long logStartOffset, long logEndOffset, IDisposable? owner)
    {
        Records = records;
        HighWatermark = highWatermark;
        LogStartOffset = logStartOffset;
        LogEndOffset = logEndOffset;
        _owner = owner;
    }

    public ReadOnlyMemory<byte> Records { get; }

    public long HighWatermark { get; }

    public long LogStartOffset { get; }

    public long LogEndOffset { get; }

    public void Dispose() => _owner?.Dispose();
}

/// <summary>The offset asked for is outside [log start, log end].</summary>
public sealed class OffsetOutOfRangeException(long offset, long logStart, long logEnd)
    : Exception($"Offset {offset} is outside the log range [{logStart}, {logEnd}].")
{
    public long Offset { get; } = offset;
}

/// <summary>Writing to disk failed (full disk, I/O error); the partition keeps serving reads.</summary>
public sealed class StorageException(string message, Exception? inner = null) : Exception(message, inner);
