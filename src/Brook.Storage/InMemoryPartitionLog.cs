using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>
/// One partition held in memory as a list of batches (one array each, never mutated once stored).
/// Thread-safety: <see cref="_lock"/> guards the batch list and offsets; it is held only to patch offsets and
/// copy a batch in, or to pick the batches a read returns (bytes are copied out after releasing it).
/// </summary>
internal sealed partial class InMemoryPartitionLog : IPartitionLog
{
    private readonly object _lock = new();
    private readonly List<byte[]> _batches = []; // ordered by offset; first may start below _logStartOffset
    private readonly AppendSignal _appendSignal = new();
    private readonly TimeProvider _time;
    private readonly ProducerStateManager _producers; // guarded by _lock
    private long _logStartOffset;
    private long _logEndOffset;
    private long _sizeInBytes;
    private long _firstUnstableOffset = long.MaxValue; // of the oldest open transaction; written under _lock
    private bool _deleted;

    public InMemoryPartitionLog(string topic, int partition, TimeProvider time, long producerIdExpirationMs)
    {
        Topic = topic;
        Partition = partition;
        _time = time;
        _producers = new ProducerStateManager(producerIdExpirationMs);
    }

    public string Topic { get; }

    public int Partition { get; }

    public long LogStartOffset => Volatile.Read(ref _logStartOffset);

    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    public long HighWatermark => LogEndOffset;

    public long LastStableOffset => Math.Min(Volatile.Read(ref _firstUnstableOffset), HighWatermark);

    public long SizeInBytes => Volatile.Read(ref _sizeInBytes);

    public ValueTask<AppendResult> AppendAsync(Memory<byte> batches, AppendOptions options, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        AppendResult result;
        lock (_lock)
        {
            if (_deleted) throw new StorageException($"Partition {Topic}-{Partition} has been deleted.");
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var check = _producers.Check(batches.Span, now);
            if (check.Status != AppendStatus.Appended) return ValueTask.FromResult(ProducerStateManager.Outcome(check, options, _logStartOffset));
            var appended = BatchOps.AssignOffsets(batches.Span, _logEndOffset, options);
            var span = batches.Span;
            var position = 0;
            while (position < span.Length)
            {
                var size = BatchOps.CompleteBatchSize(span[position..]);
                _batches.Add(span.Slice(position, size).ToArray());
                position += size;
            }
            _sizeInBytes += span.Length;
            _producers.OnAppended(span, now);
            Volatile.Write(ref _firstUnstableOffset, _producers.FirstUnstableOffset ?? long.MaxValue);
            Volatile.Write(ref _logEndOffset, appended.LastOffset + 1);
            var appendTime = options.TimestampType == TimestampType.LogAppendTime ? options.LogAppendTime : -1;
            result = new AppendResult(appended.BaseOffset, appended.LastOffset, appendTime, _logStartOffset);
        }
        _appendSignal.Signal();
        return ValueTask.FromResult(result);
    }

    public ValueTask<ReadResult> ReadAsync(long offset, int maxBytes, bool minOneBatch, long maxOffset, CancellationToken cancellationToken = default)
    {
        var selected = new List<byte[]>();
        long start, end;
        var total = 0;
        lock (_lock)
        {
            start = _logStartOffset;
            end = _logEndOffset;
            if (offset < start || offset > end) throw new OffsetOutOfRangeException(offset, start, end);
            for (var i = FindBatchIndex(offset); i < _batches.Count; i++)
            {
                var batch = _batches[i];
                var header = new RecordBatchHeader(batch);
                if (header.LastOffset >= maxOffset) break;
                if (total + batch.Length > maxBytes && !(minOneBatch && selected.Count == 0)) break;
                selected.Add(batch);
                total += batch.Length;
            }
        }
        var buffer = new PooledBuffer(total);
        var position = 0;
        foreach (var batch in selected)
        {
            batch.CopyTo(buffer.Array, position);
            position += batch.Length;
        }
        return ValueTask.FromResult(new ReadResult(buffer.Array.AsMemory(0, total), end, start, end, buffer));
    }

    public ValueTask<TimestampOffset?> FindOffsetByTimestampAsync(long timestamp, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            for (var i = FindBatchIndex(_logStartOffset); i < _batches.Count; i++)
            {
                var found = BatchOps.FindInBatch(_batches[i], timestamp);
                if (found is { } hit) return ValueTask.FromResult<TimestampOffset?>(hit with { Offset = Math.Max(hit.Offset, _logStartOffset) });
            }
        }
        return ValueTask.FromResult<TimestampOffset?>(null);
    }

    public ValueTask<TimestampOffset?> FindMaxTimestampAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            byte[]? best = null;
            var bestTimestamp = long.MinValue;
            for (var i = FindBatchIndex(_logStartOffset); i < _batches.Count; i++)
            {
                var info = BatchOps.ReadInfo(_batches[i]);
                if (best is null || info.MaxTimestamp > bestTimestamp)
                {
                    best = _batches[i];
                    bestTimestamp = info.MaxTimestamp;
                }
            }
            if (best is null) return ValueTask.FromResult<TimestampOffset?>(null);
            var max = BatchOps.MaxInBatch(best);
            return ValueTask.FromResult<TimestampOffset?>(max with { Offset = Math.Max(max.Offset, _logStartOffset) });
        }
    }

    public ValueTask<long> DeleteRecordsBeforeAsync(long offset, CancellationToken cancellationToken = default)
    {
        long newStart;
        lock (_lock)
        {
            var highWatermark = _logEndOffset;
            if (offset < 0) offset = highWatermark; // -1 asks for "up to the high watermark"
            if (offset > highWatermark) throw new OffsetOutOfRangeException(offset, _logStartOffset, highWatermark);
            newStart = Math.Max(_logStartOffset, offset);
            Volatile.Write(ref _logStartOffset, newStart);
            DropBatchesBelow(newStart);
        }
        _appendSignal.Signal();
        return ValueTask.FromResult(newStart);
    }

    public Task WaitForAppendAsync(CancellationToken cancellationToken) => _appendSignal.WaitAsync(cancellationToken);

    public IReadOnlyList<AbortedTransaction> AbortedTransactions(long fromOffset, long upperBoundOffset) =>
        _producers.AbortedBetween(fromOffset, upperBoundOffset);

    public ValueTask<IReadOnlyList<ProducerInfo>> DescribeProducersAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock) return ValueTask.FromResult<IReadOnlyList<ProducerInfo>>(_producers.Describe(_time.GetUtcNow().ToUnixTimeMilliseconds()));
    }

    /// <summary>Deletes whole batches from the head while <paramref name="shouldDelete"/> holds; returns how many went.</summary>
    internal int DeleteOldestBatchesWhile(Func<BatchInfo, long, bool> shouldDelete)
    {
        var deleted = 0;
        lock (_lock)
        {
            while (_batches.Count > 0)
            {
                var info = BatchOps.ReadInfo(_batches[0]);
                if (!shouldDelete(info, _sizeInBytes)) break;
                _sizeInBytes -= info.Size;
                _batches.RemoveAt(0);
                Volatile.Write(ref _logStartOffset, Math.Max(_logStartOffset, info.LastOffset + 1));
                deleted++;
            }
        }
        return deleted;
    }

    internal void MarkDeleted()
    {
        lock (_lock)
        {
            _deleted = true;
            _batches.Clear();
            _sizeInBytes = 0;
        }
        _appendSignal.Signal();
    }

    /// <summary>Index of the batch containing <paramref name="offset"/>, or of the first batch after it. Caller holds the lock.</summary>
    private int FindBatchIndex(long offset)
    {
        int low = 0, high = _batches.Count - 1, answer = _batches.Count;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (new RecordBatchHeader(_batches[mid]).LastOffset >= offset)
            {
                answer = mid;
                high = mid - 1;
            }
            else
            {
                low = mid + 1;
            }
        }
        return answer;
    }

    private void DropBatchesBelow(long offset)
    {
        var count = 0;
        while (count < _batches.Count && new RecordBatchHeader(_batches[count]).LastOffset < offset)
        {
            _sizeInBytes -= _batches[count].Length;
            count++;
        }
        _batches.RemoveRange(0, count);
    }
}
