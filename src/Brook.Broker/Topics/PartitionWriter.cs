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
/// The produce path for one partition: checks the batches (structure, CRC, size and timestamp limits of the
/// topic) without decoding records, then appends them as bytes. Expected failures are returned as error codes.
/// </summary>
public sealed class PartitionWriter(ILogStore store, BrokerConfig config, TimeProvider time)
{
    public async ValueTask<AppendOutcome> AppendAsync(string topicName, int partition, Memory<byte> records, short acks, string? transactionalId, CancellationToken cancellationToken)
    {
        var topic = store.GetTopic(topicName);
        var log = topic is null ? null : store.GetPartition(topicName, partition);
        if (topic is null || log is null) return AppendOutcome.Fail(ErrorCode.UnknownTopicOrPartition, $"This server does not host {topicName}-{partition}.");
        var settings = config.ForTopic(topic);
        if (acks == -1 && settings.MinInSyncReplicas > 1)
            return AppendOutcome.Fail(ErrorCode.NotEnoughReplicas, $"min.insync.replicas is {settings.MinInSyncReplicas} but only 1 replica exists.");
        if (records.IsEmpty) return AppendOutcome.Fail(ErrorCode.CorruptMessage, "The request carries no record batch.");

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var check = CheckBatches(records.Span, settings, now);
        if (check.Error != ErrorCode.None) return check;

        var options = new AppendOptions(settings.MessageTimestampType, now, 0);
        try
        {
            var appended = await log.AppendAsync(records, options, cancellationToken).ConfigureAwait(false);
            return new AppendOutcome(ErrorCode.None, null, appended.BaseOffset, settings.MessageTimestampType == TimestampType.LogAppendTime ? appended.LogAppendTime : -1, appended.LogStartOffset, null);
        }
        catch (StorageException ex)
        {
            return AppendOutcome.Fail(ErrorCode.KafkaStorageError, ex.Message);
        }
    }

    private static AppendOutcome CheckBatches(ReadOnlySpan<byte> records, LogConfig settings, long now)
    {
        var position = 0;
        var index = 0;
        while (position < records.Length)
        {
            var remaining = records[position..];
            if (remaining.Length < RecordBatchHeader.Size)
                return AppendOutcome.Fail(ErrorCode.CorruptMessage, "Record batch is truncated.", index);
            var header = new RecordBatchHeader(remaining);
            if (header.Magic != 2)
                return AppendOutcome.Fail(ErrorCode.UnsupportedForMessageFormat, $"Record batch magic {header.Magic} is not supported; use magic 2.", index);
            if (header.BatchLength < RecordBatchHeader.Size - RecordBatchHeader.LogOverhead || header.TotalSize > remaining.Length)
                return AppendOutcome.Fail(ErrorCode.CorruptMessage, "Record batch length does not match the data.", index);
            if (header.TotalSize > settings.MaxMessageBytes)
                return AppendOutcome.Fail(ErrorCode.MessageTooLarge, $"Record batch of {header.TotalSize} bytes exceeds max.message.bytes {settings.MaxMessageBytes}.", index);
            if (!header.IsCrcValid)
                return AppendOutcome.Fail(ErrorCode.CorruptMessage, "Record batch CRC does not match.", index);
            if (header.RecordCount <= 0 || header.LastOffsetDelta != header.RecordCount - 1)
                return AppendOutcome.Fail(ErrorCode.CorruptMessage, "Record batch count and last offset delta disagree.", index);
            if ((int)header.Compression > (int)CompressionType.Zstd)
                return AppendOutcome.Fail(ErrorCode.UnsupportedCompressionType, $"Unknown compression codec {(int)header.Compression}.", index);
            if (settings.MessageTimestampType == TimestampType.CreateTime && !header.IsControl)
            {
                var ts = header.MaxTimestamp;
                if (ts >= 0 && (now - ts > settings.MessageTimestampBeforeMaxMs || ts - now > settings.MessageTimestampAfterMaxMs))
                    return AppendOutcome.Fail(ErrorCode.InvalidTimestamp, $"Timestamp {ts} is outside the range the topic accepts around {now}.", index);
            }
            position += header.TotalSize;
            index++;
        }
        return default;
    }
}
