using Brook.Broker.Telemetry;
using Brook.Protocol;
using Brook.Protocol.Records;
using Brook.Storage;

namespace Brook.Broker.Topics;

/// <summary>One refused record of a produced batch, for the response's record_errors (KIP-467).</summary>
public readonly record struct RecordErrorMessage(int BatchIndex, string Message);

/// <summary>Result of appending one partition's records from a Produce request.</summary>
public readonly record struct AppendOutcome(ErrorCode Error, string? Message, long BaseOffset, long LogAppendTime, long LogStartOffset, IReadOnlyList<RecordErrorMessage>? RecordErrors)
{
    public static AppendOutcome Fail(ErrorCode error, string? message = null, IReadOnlyList<RecordErrorMessage>? recordErrors = null) => new(error, message, -1, -1, -1, recordErrors);
}

/// <summary>
/// A partition's produce outcome once its records are written in order; <see cref="Committed"/> completes when they are
/// durable and visible, or faults with a <see cref="StorageException"/> (then the outcome is KAFKA_STORAGE_ERROR).
/// </summary>
public readonly record struct StagedOutcome(AppendOutcome Outcome, Task Committed)
{
    public static implicit operator StagedOutcome(AppendOutcome outcome) => new(outcome, Task.CompletedTask);

    /// <summary>Waits for the commit and returns the final outcome.</summary>
    public async ValueTask<AppendOutcome> CompleteAsync()
    {
        try
        {
            await Committed.ConfigureAwait(false);
            return Outcome;
        }
        catch (StorageException ex)
        {
            return AppendOutcome.Fail(ErrorCode.KafkaStorageError, ex.Message);
        }
    }
}

/// <summary>
/// The produce path for one partition: validates the batch (framing, CRC, codec, every record parses), applies the
/// topic's size and timestamp rules, recompresses when the topic's compression.type asks for another codec, and
/// appends the batch as bytes. Transactional batches are accepted only inside their producer's open transaction.
/// Expected failures are returned as error codes. The result is staged: written in order first, durable later.
/// </summary>
public sealed class PartitionWriter(ILogStore store, BrokerConfig config, TimeProvider time, BrokerMetrics metrics, Transactions.TransactionCoordinator transactions)
{
    /// <summary>Most bytes one batch may decompress to; a bound against compression bombs.</summary>
    public const int MaxDecompressedBatchBytes = 64 * 1024 * 1024;

    public async ValueTask<StagedOutcome> AppendAsync(string topicName, int partition, Memory<byte> records, short acks, short produceVersion, CancellationToken cancellationToken)
    {
        var topic = store.GetTopic(topicName);
        var log = topic is null ? null : store.GetPartition(topicName, partition);
        if (topic is null || log is null) return AppendOutcome.Fail(ErrorCode.UnknownTopicOrPartition, $"This server does not host {topicName}-{partition}.");
        var settings = config.ForTopic(topic);
        if (acks == -1 && settings.MinInSyncReplicas > 1)
            return AppendOutcome.Fail(ErrorCode.NotEnoughReplicas, $"min.insync.replicas is {settings.MinInSyncReplicas} but only 1 replica exists.");

        // CreateTime timestamps are checked per record, so a refused one is named in the response (as are keyless records of a compacted topic).
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var createTime = settings.MessageTimestampType == TimestampType.CreateTime;
        var minTimestamp = createTime ? SaturatingSubtract(now, settings.MessageTimestampBeforeMaxMs) : long.MinValue;
        var maxTimestamp = createTime ? SaturatingAdd(now, settings.MessageTimestampAfterMaxMs) : long.MaxValue;
        var validation = RecordBatchValidator.Validate(records,
            RecordValidationOptions.ForProduce(produceVersion, MaxDecompressedBatchBytes, settings.IsCompacted, minTimestamp, maxTimestamp));
        if (validation.RecordErrors is { Count: > 0 } refused) return RefusedRecords(validation, refused, topicName, partition, minTimestamp, maxTimestamp);
        if (!validation.IsValid) return AppendOutcome.Fail(validation.ErrorCode, validation.Reason);
        // A transactional batch goes only to a partition its open transaction holds (Kafka's produce-side verification).
        if (validation.IsTransactional && validation.ProducerId >= 0
            && transactions.VerifyTransactionalProduce(validation.ProducerId, validation.ProducerEpoch, topicName, partition) is var txnError and not ErrorCode.None)
            return AppendOutcome.Fail(txnError, $"Producer {validation.ProducerId} epoch {validation.ProducerEpoch} has no open transaction holding {topicName}-{partition}.");
        if (validation.Bytes > settings.MaxMessageBytes)
            return AppendOutcome.Fail(ErrorCode.MessageTooLarge, $"Record batch of {validation.Bytes} bytes exceeds max.message.bytes {settings.MaxMessageBytes}.");

        if (TargetCodec(settings.CompressionType) is { } target && target != validation.Compression)
            records = RecordBatchRecompressor.Recompress(records, target, MaxDecompressedBatchBytes);

        var options = new AppendOptions(settings.MessageTimestampType, now, 0);
        try
        {
            var (appended, committed) = await log.AppendStagedAsync(records, options, cancellationToken).ConfigureAwait(false);
            switch (appended.Status)
            {
                case AppendStatus.InvalidProducerEpoch:
                    // Kafka answers a stale epoch on produce with INVALID_PRODUCER_EPOCH (abortable), not PRODUCER_FENCED.
                    return AppendOutcome.Fail(ErrorCode.InvalidProducerEpoch, appended.Message);
                case AppendStatus.OutOfOrderSequence:
                    return AppendOutcome.Fail(ErrorCode.OutOfOrderSequenceNumber, appended.Message);
                case AppendStatus.Appended:
                    metrics.Appended(topicName, validation.Bytes, validation.RecordCount);
                    break;
            }
            // A duplicate is a success carrying the offsets the batch got the first time.
            return new StagedOutcome(new AppendOutcome(ErrorCode.None, null, appended.BaseOffset,
                settings.MessageTimestampType == TimestampType.LogAppendTime ? appended.LogAppendTime : -1, appended.LogStartOffset, null), committed);
        }
        catch (StorageException ex)
        {
            return AppendOutcome.Fail(ErrorCode.KafkaStorageError, ex.Message);
        }
    }

    /// <summary>
    /// Kafka's answer to a batch with refused records: every refused record's index and reason in record_errors, so the
    /// producer fails those records and may retry the others, and a partition error message naming the first three.
    /// </summary>
    private static AppendOutcome RefusedRecords(RecordValidationResult validation, IReadOnlyList<RecordError> refused, string topic, int partition, long minTimestamp, long maxTimestamp)
    {
        var errors = refused.Select(e => new RecordErrorMessage(e.BatchIndex, e.Kind == RecordErrorKind.MissingKey
            ? $"Compacted topic cannot accept message without key in topic partition {topic}-{partition}."
            : $"Timestamp {e.Timestamp} of message with offset {e.BatchIndex} is out of range. The timestamp should be within [{minTimestamp}, {maxTimestamp}]")).ToList();
        var message = validation.ErrorCode == ErrorCode.InvalidTimestamp
            ? "One or more records have been rejected due to invalid timestamp"
            : $"One or more records have been rejected due to {errors.Count} record errors in total, and only showing the first three errors at most: "
              + $"[{string.Join(", ", errors.Take(3).Select(e => $"RecordError(batchIndex={e.BatchIndex}, message='{e.Message}')"))}]";
        return AppendOutcome.Fail(validation.ErrorCode, message, errors);
    }

    // The bounds are often Long.MAX_VALUE ms (Kafka's "no limit"), so now - bound must not wrap around.
    private static long SaturatingSubtract(long value, long amount) => amount >= 0 && value < long.MinValue + amount ? long.MinValue : value - amount;

    private static long SaturatingAdd(long value, long amount) => amount >= 0 && value > long.MaxValue - amount ? long.MaxValue : value + amount;

    /// <summary>The codec a topic stores its batches in, or null when it keeps the producer's.</summary>
    private static CompressionType? TargetCodec(string compressionType) => compressionType switch
    {
        "uncompressed" => CompressionType.None,
        "gzip" => CompressionType.Gzip,
        "snappy" => CompressionType.Snappy,
        "lz4" => CompressionType.Lz4,
        "zstd" => CompressionType.Zstd,
        _ => null,
    };
}
