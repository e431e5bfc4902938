using Brook.Broker.Telemetry;
using Brook.Protocol;
using Brook.Protocol.Records;
using Brook.Storage;

namespace Brook.Broker.Topics;

/// <summary>Result of appending one partition's records from a Produce request.</summary>
public readonly record struct AppendOutcome(ErrorCode Error, string? Message, long BaseOffset, long LogAppendTime, long LogStartOffset, int? BatchIndex)
{
    public static AppendOutcome Fail(ErrorCode error, string? message = null, int? batchIndex = null) => new(error, message, -1, -1, -1, batchIndex);
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

        var validation = RecordBatchValidator.Validate(records, RecordValidationOptions.ForProduce(produceVersion, MaxDecompressedBatchBytes, settings.IsCompacted));
        if (!validation.IsValid) return AppendOutcome.Fail(validation.ErrorCode, validation.Reason, 0);
        // A transactional batch goes only to a partition its open transaction holds (Kafka's produce-side verification).
        if (validation.IsTransactional && validation.ProducerId >= 0
            && transactions.VerifyTransactionalProduce(validation.ProducerId, validation.ProducerEpoch, topicName, partition) is var txnError and not ErrorCode.None)
            return AppendOutcome.Fail(txnError, $"Producer {validation.ProducerId} epoch {validation.ProducerEpoch} has no open transaction holding {topicName}-{partition}.");
        if (validation.Bytes > settings.MaxMessageBytes)
            return AppendOutcome.Fail(ErrorCode.MessageTooLarge, $"Record batch of {validation.Bytes} bytes exceeds max.message.bytes {settings.MaxMessageBytes}.", 0);

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (settings.MessageTimestampType == TimestampType.CreateTime && validation.MaxTimestamp >= 0
            && (now - validation.MaxTimestamp > settings.MessageTimestampBeforeMaxMs || validation.MaxTimestamp - now > settings.MessageTimestampAfterMaxMs))
            return AppendOutcome.Fail(ErrorCode.InvalidTimestamp, $"Timestamp {validation.MaxTimestamp} is outside the range the topic accepts around {now}.", 0);

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
