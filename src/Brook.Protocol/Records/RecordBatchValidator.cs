using System.Buffers.Binary;
using Brook.Protocol.Compression;

namespace Brook.Protocol.Records;

/// <summary>What validation of a Produce request's records concluded.</summary>
public enum RecordValidationOutcome
{
    Ok,
    /// <summary>Truncated data, an impossible batch length, a bad CRC or undecodable compressed data (CORRUPT_MESSAGE).</summary>
    Corrupt,
    /// <summary>A batch with magic 0 or 1, which produce requests from version 3 on may not carry (INVALID_RECORD).</summary>
    UnsupportedMagic,
    /// <summary>Header fields that disagree with the records, or records that do not parse (INVALID_RECORD).</summary>
    InvalidRecord,
    /// <summary>A codec id Brook does not know, or zstd where the request version does not allow it (UNSUPPORTED_COMPRESSION_TYPE).</summary>
    UnsupportedCompression,
    /// <summary>The records would decompress beyond the configured limit (RECORD_TOO_LARGE).</summary>
    DecompressedTooLarge,
    /// <summary>Records whose timestamps are outside the accepted range (INVALID_TIMESTAMP, with per-record errors).</summary>
    InvalidTimestamp,
}

/// <summary>Why one record of a batch was refused (KIP-467 per-record errors).</summary>
public enum RecordErrorKind
{
    /// <summary>A record without a key, where the topic is compacted.</summary>
    MissingKey,
    /// <summary>A CreateTime timestamp outside the topic's accepted range.</summary>
    TimestampOutOfRange,
}

/// <summary>One refused record: its index in the batch, why, and its timestamp.</summary>
public readonly record struct RecordError(int BatchIndex, RecordErrorKind Kind, long Timestamp);

/// <summary>Limits and rules for <see cref="RecordBatchValidator"/>.</summary>
public readonly record struct RecordValidationOptions(
    int MaxDecompressedBytes,
    bool AllowZstd = true,
    bool RequireSingleBatch = true,
    bool AllowControlBatches = false,
    bool RequireKeys = false,
    long MinTimestamp = long.MinValue,
    long MaxTimestamp = long.MaxValue)
{
    /// <summary>
    /// Produce request rules: zstd only from Produce version 7, exactly one batch per partition, a key on every record
    /// for a compacted topic (compaction keeps records by key, so a keyless one could never be cleaned), and record
    /// timestamps within [<paramref name="minTimestamp"/>, <paramref name="maxTimestamp"/>] (the topic's CreateTime bounds).
    /// </summary>
    public static RecordValidationOptions ForProduce(short produceVersion, int maxDecompressedBytes, bool compactedTopic = false,
        long minTimestamp = long.MinValue, long maxTimestamp = long.MaxValue) =>
        new(maxDecompressedBytes, AllowZstd: produceVersion >= 7, RequireKeys: compactedTopic, MinTimestamp: minTimestamp, MaxTimestamp: maxTimestamp);
}

/// <summary>The outcome of validating a buffer of batches, with totals over the batches validated.</summary>
public readonly record struct RecordValidationResult(
    RecordValidationOutcome Outcome,
    string? Reason,
    int BatchCount,
    int RecordCount,
    long MaxTimestamp,
    int Bytes,
    CompressionType Compression,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    bool IsTransactional,
    IReadOnlyList<RecordError>? RecordErrors = null)
{
    public bool IsValid => Outcome == RecordValidationOutcome.Ok;

    /// <summary>The Kafka error code for the partition's produce response.</summary>
    public ErrorCode ErrorCode => Outcome switch
    {
        RecordValidationOutcome.Ok => ErrorCode.None,
        RecordValidationOutcome.Corrupt => ErrorCode.CorruptMessage,
        RecordValidationOutcome.UnsupportedCompression => ErrorCode.UnsupportedCompressionType,
        RecordValidationOutcome.DecompressedTooLarge => ErrorCode.MessageTooLarge,
        RecordValidationOutcome.InvalidTimestamp => ErrorCode.InvalidTimestamp,
        _ => ErrorCode.InvalidRecord,
    };
}

/// <summary>
/// Checks the records of one partition in a Produce request before they are appended: framing, magic, CRC,
/// codec, header fields against the records, and that every record parses. Returns an outcome instead of
/// throwing; allocates only a pooled buffer for compressed batches and a message on failure.
/// </summary>
public static class RecordBatchValidator
{
    public static RecordValidationResult Validate(ReadOnlyMemory<byte> records, in RecordValidationOptions options)
    {
        var state = new Totals();
        PooledBuffer? scratch = null;
        try
        {
            var position = 0;
            while (position < records.Length)
            {
                if (options.RequireSingleBatch && state.BatchCount == 1)
                    return state.Fail(RecordValidationOutcome.InvalidRecord, "Produce requests must carry exactly one record batch per partition.");
                var rest = records[position..];
                var (outcome, reason, size) = ValidateBatch(rest, options, ref state, ref scratch);
                if (outcome != RecordValidationOutcome.Ok) return state.Fail(outcome, reason);
                if (state.RecordErrors is { } recordErrors)
                {
                    // Every record was read, so all refused ones are named (as Kafka does), not only the first.
                    var outcomeForRecords = recordErrors.Any(e => e.Kind == RecordErrorKind.TimestampOutOfRange)
                        ? RecordValidationOutcome.InvalidTimestamp : RecordValidationOutcome.InvalidRecord;
                    return state.Fail(outcomeForRecords, $"{recordErrors.Count} of the batch's records were refused.");
                }
                position += size;
            }
            if (state.BatchCount == 0) return state.Fail(RecordValidationOutcome.InvalidRecord, "No record batch.");
            return state.Result(RecordValidationOutcome.Ok, null);
        }
        finally
        {
            scratch?.Dispose();
        }
    }

    private static (RecordValidationOutcome Outcome, string? Reason, int Size) ValidateBatch(
        ReadOnlyMemory<byte> memory, in RecordValidationOptions options, ref Totals state, ref PooledBuffer? scratch)
    {
        var bytes = memory.Span;
        if (bytes.Length < RecordBatchHeader.LogOverhead)
            return (RecordValidationOutcome.Corrupt, $"{bytes.Length} trailing bytes are too few for a batch.", 0);
        var batchLength = BinaryPrimitives.ReadInt32BigEndian(bytes[RecordBatchHeader.LengthPosition..]);
        // Old-format messages keep the magic byte at the same position but can be shorter than a v2 header.
        if (batchLength is >= 5 and < RecordBatch.MinBatchLength && bytes.Length > RecordBatchHeader.MagicPosition
            && (sbyte)bytes[RecordBatchHeader.MagicPosition] is 0 or 1)
            return (RecordValidationOutcome.UnsupportedMagic, $"Record batch magic {(sbyte)bytes[RecordBatchHeader.MagicPosition]} is not accepted; only magic 2.", 0);
        if (batchLength < RecordBatch.MinBatchLength)
            return (RecordValidationOutcome.Corrupt, $"Batch length {batchLength} is below the minimum of {RecordBatch.MinBatchLength}.", 0);
        if (batchLength > bytes.Length - RecordBatchHeader.LogOverhead)
            return (RecordValidationOutcome.Corrupt, $"Batch length {batchLength} exceeds the {bytes.Length - RecordBatchHeader.LogOverhead} bytes left.", 0);
        var size = batchLength + RecordBatchHeader.LogOverhead;
        var header = new RecordBatchHeader(bytes[..size]);
        if (header.Magic is 0 or 1)
            return (RecordValidationOutcome.UnsupportedMagic, $"Record batch magic {header.Magic} is not accepted; only magic 2.", size);
        if (header.Magic != RecordBatch.CurrentMagic)
            return (RecordValidationOutcome.Corrupt, $"Record batch magic {header.Magic} is invalid.", size);
        if (!header.IsCrcValid)
            return (RecordValidationOutcome.Corrupt, "Record batch CRC does not match its contents.", size);

        var compression = header.Compression;
        if (!CompressionCodecs.IsSupported(compression))
            return (RecordValidationOutcome.UnsupportedCompression, $"Compression codec {(int)compression} is unknown.", size);
        if (compression == CompressionType.Zstd && !options.AllowZstd)
            return (RecordValidationOutcome.UnsupportedCompression, "Zstd needs Produce version 7 or later.", size);
        if (header.IsControl && !options.AllowControlBatches)
            return (RecordValidationOutcome.InvalidRecord, "Clients may not write control batches.", size);
        var recordCount = header.RecordCount;
        if (recordCount <= 0)
            return (RecordValidationOutcome.InvalidRecord, $"Record count {recordCount} is invalid.", size);
        if (header.LastOffsetDelta + 1L != recordCount)
            return (RecordValidationOutcome.InvalidRecord, $"Last offset delta {header.LastOffsetDelta} disagrees with record count {recordCount}.", size);
        // Transaction markers carry a producer id without a sequence; only data batches need one.
        if (!header.IsControl && header.ProducerId >= 0 && header.BaseSequence < 0)
            return (RecordValidationOutcome.InvalidRecord, $"Producer id {header.ProducerId} comes with invalid base sequence {header.BaseSequence}.", size);

        ReadOnlySpan<byte> section;
        var stored = memory[RecordBatchHeader.Size..size];
        if (compression == CompressionType.None)
        {
            if (stored.Length > options.MaxDecompressedBytes)
                return (RecordValidationOutcome.DecompressedTooLarge, $"Records of {stored.Length} bytes exceed the limit of {options.MaxDecompressedBytes}.", size);
            section = stored.Span;
        }
        else
        {
            scratch ??= new PooledBuffer(CompressionCodecs.InitialCapacity(stored.Length, options.MaxDecompressedBytes));
            scratch.Reset();
            var status = CompressionCodecs.TryDecompress(compression, stored, scratch, options.MaxDecompressedBytes, out var detail);
            if (status == DecompressionStatus.TooLarge)
                return (RecordValidationOutcome.DecompressedTooLarge, $"Records decompress beyond the limit of {options.MaxDecompressedBytes} bytes.", size);
            if (status != DecompressionStatus.Ok)
                return (RecordValidationOutcome.Corrupt, $"Compressed records are corrupt: {detail}", size);
            section = scratch.WrittenSpan;
        }

        var baseTimestamp = header.BaseTimestamp;
        var maxTimestamp = long.MinValue;
        var parsed = 0;
        try
        {
            foreach (var record in new RecordSection(section))
            {
                if (parsed == recordCount)
                    return (RecordValidationOutcome.InvalidRecord, $"Batch holds more records than its count of {recordCount}.", size);
                // Producers number records 0, 1, 2, ...; with the count check this also pins lastOffsetDelta.
                if (record.OffsetDelta != parsed)
                    return (RecordValidationOutcome.InvalidRecord, $"Record {parsed} has offset delta {record.OffsetDelta}.", size);
                if (options.RequireKeys && record.KeyIsNull) state.AddRecordError(new RecordError(parsed, RecordErrorKind.MissingKey, baseTimestamp + record.TimestampDelta));
                var timestamp = baseTimestamp + record.TimestampDelta;
                if (timestamp < options.MinTimestamp || timestamp > options.MaxTimestamp)
                    state.AddRecordError(new RecordError(parsed, RecordErrorKind.TimestampOutOfRange, timestamp));
                maxTimestamp = Math.Max(maxTimestamp, timestamp);
                parsed++;
            }
        }
        catch (ProtocolException ex)
        {
            return (RecordValidationOutcome.InvalidRecord, $"Record {parsed} is malformed: {ex.Message}", size);
        }
        if (parsed != recordCount)
            return (RecordValidationOutcome.InvalidRecord, $"Batch declares {recordCount} records but holds {parsed}.", size);

        state.Add(header, recordCount, maxTimestamp, size);
        return (RecordValidationOutcome.Ok, null, size);
    }

    private struct Totals
    {
        public int BatchCount;
        private int _recordCount;
        private long _maxTimestamp;
        private int _bytes;
        private CompressionType _compression;
        private long _producerId;
        private short _producerEpoch;
        private int _baseSequence;
        private bool _isTransactional;

        /// <summary>Refused records found so far; allocated only when there is one.</summary>
        public List<RecordError>? RecordErrors;

        public void AddRecordError(RecordError error) => (RecordErrors ??= []).Add(error);

        public Totals()
        {
            _maxTimestamp = -1;
            _producerId = RecordBatchBuilder.NoProducerId;
            _producerEpoch = RecordBatchBuilder.NoProducerEpoch;
            _baseSequence = RecordBatchBuilder.NoSequence;
        }

        public void Add(RecordBatchHeader header, int records, long maxTimestamp, int bytes)
        {
            if (BatchCount == 0)
            {
                _compression = header.Compression;
                _producerId = header.ProducerId;
                _producerEpoch = header.ProducerEpoch;
                _baseSequence = header.BaseSequence;
                _isTransactional = header.IsTransactional;
            }
            BatchCount++;
            _recordCount += records;
            _maxTimestamp = Math.Max(_maxTimestamp, maxTimestamp);
            _bytes += bytes;
        }

        public readonly RecordValidationResult Result(RecordValidationOutcome outcome, string? reason) => new(
            outcome, reason, BatchCount, _recordCount, _maxTimestamp, _bytes, _compression, _producerId, _producerEpoch, _baseSequence, _isTransactional, RecordErrors);

        public readonly RecordValidationResult Fail(RecordValidationOutcome outcome, string? reason) => Result(outcome, reason);
    }
}
