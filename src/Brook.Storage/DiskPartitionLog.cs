using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Brook.Protocol.Records;

namespace Brook.Storage;

/// <summary>
/// One partition on disk: directory <c>&lt;data&gt;/&lt;topic&gt;-&lt;partition&gt;/</c> holding segments (see
/// <see cref="LogSegment"/>) and <c>partition.checkpoint</c> ("logStartOffset recoveryPoint", written atomically).
/// Thread-safety: appends, rolls, retention and DeleteRecords hold <see cref="_appendLock"/>; the segment list is an
/// immutable snapshot swapped under it, so reads never wait, and a segment taken out of it stays readable for
/// file.delete.delay.ms (<see cref="RetiredSegments"/>). Offsets and sizes are published with volatile writes
/// after the bytes are written. Durability follows flush.messages/flush.ms: flush.messages=1 fsyncs each append with
/// group commit (appenders waiting at the same time share one fsync); the high watermark only passes data once the
/// policy's promise holds for it.
/// Idempotent-producer state (<see cref="ProducerStateManager"/>) is checked and updated under the append lock. It is
/// saved to <c>&lt;offset&gt;.snapshot</c> (state as of that offset) when a segment rolls and on a clean close; on open
/// the newest snapshot at or below the log end is loaded and the headers of the batches after it are replayed (with
/// no usable snapshot every batch header is read). Open transactions and the aborted-transaction index live in the
/// same state: durable through the snapshots, with transaction markers after the last snapshot read whole on replay.
/// </summary>
internal sealed class DiskPartitionLog : IPartitionLog
{
    private const string CheckpointFileName = "partition.checkpoint";
    private const string SnapshotExtension = ".snapshot";
    private const int SnapshotsKept = 2;
    private const int MaxReadAttempts = 100;

    private readonly DiskLogStore _store;
    private readonly SemaphoreSlim _appendLock = new(1, 1);
    private readonly AppendSignal _appendSignal = new();
    private readonly ProducerStateManager _producers; // guarded by the append lock
    private readonly object _flushLock = new();
    private List<(long Target, TaskCompletionSource Done)> _flushWaiters = [];
    private bool _flushing;
    private long _flushedOffset; // every offset below is on disk (fsynced)
    private long _lastFlushTime;
    private ImmutableArray<LogSegment> _segments;
    private LogConfig _config;
    private long _logStartOffset;
    private long _logEndOffset;
    private long _highWatermark;
    private long _firstUnstableOffset = long.MaxValue; // of the oldest open transaction; written under the append lock
    private bool _closed;
    private int _cleaning;
    private readonly RetiredSegments _retired = new();

    private DiskPartitionLog(DiskLogStore store, string topic, int partition, string directory, LogConfig config)
    {
        _store = store;
        Topic = topic;
        Partition = partition;
        Directory = directory;
        _config = config;
        _producers = new ProducerStateManager(store.ProducerIdExpirationMs);
        _lastFlushTime = store.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
    }

    public string Topic { get; }

    public int Partition { get; }

    public string Directory { get; }

    public LogConfig Config
    {
        get => Volatile.Read(ref _config);
        set => Volatile.Write(ref _config, value);
    }

    public long LogStartOffset => Volatile.Read(ref _logStartOffset);

    public long LogEndOffset => Volatile.Read(ref _logEndOffset);

    public long HighWatermark => Volatile.Read(ref _highWatermark);

    public long LastStableOffset => Math.Min(Volatile.Read(ref _firstUnstableOffset), HighWatermark);

    public long SizeInBytes => Segments.Sum(s => s.Size);

    internal ImmutableArray<LogSegment> Segments => ImmutableInterlocked.InterlockedCompareExchange(ref _segments, default, default);

    internal long RecoveryPoint => Volatile.Read(ref _flushedOffset);

    internal long ProducerIdExpirationMs => _store.ProducerIdExpirationMs;

    /// <summary>Opens (or creates) the partition directory, recovering segments after the recovery point unless the store shut down cleanly.</summary>
    public static DiskPartitionLog Open(DiskLogStore store, string topic, int partition, string directory, LogConfig config, bool cleanShutdown)
    {
        System.IO.Directory.CreateDirectory(directory);
        var log = new DiskPartitionLog(store, topic, partition, directory, config);
        foreach (var leftover in System.IO.Directory.EnumerateFiles(directory, "*.tmp")) File.Delete(leftover);
        RetiredSegments.DeleteLeftovers(directory);
        LogCleaner.DeleteStaging(directory);
        var (logStart, recoveryPoint) = log.ReadCheckpoint();
        var baseOffsets = System.IO.Directory.EnumerateFiles(directory, "*.log")
            .Select(f => LogSegment.TryParseBaseOffset(f, out var b) ? b : -1)
            .Where(b => b >= 0).Order().ToList();
        var segments = ImmutableArray.CreateBuilder<LogSegment>();
        var corruptionFound = false;
        for (var i = 0; i < baseOffsets.Count; i++)
        {
            var baseOffset = baseOffsets[i];
            var stem = Path.Combine(directory, LogSegment.FileStem(baseOffset));
            if (corruptionFound)
            {
                // Everything after a corrupt batch is unreachable: offsets must stay contiguous.
                var size = new FileInfo(stem + ".log").Length;
                foreach (var extension in new[] { ".log", ".index", ".timeindex" }) File.Delete(stem + extension);
                store.Recovery.Add(new RecoveryRepair(topic, partition, LogSegment.FileStem(baseOffset) + ".log", baseOffset, null, size,
                    "segment follows a corrupt one, so its offsets can no longer be reached"));
                continue;
            }
            var isLast = i == baseOffsets.Count - 1;
            var nextBase = isLast ? long.MaxValue : baseOffsets[i + 1];
            var recover = !cleanShutdown && nextBase > recoveryPoint;
            var segment = LogSegment.Load(directory, baseOffset, recover, config.IndexIntervalBytes, active: isLast, store.NowMs, out var truncated);
            if (recover) store.Recovery.Scanned();
            var segmentName = LogSegment.FileStem(baseOffset) + ".log";
            if (truncated > 0)
            {
                store.Recovery.Add(new RecoveryRepair(topic, partition, segmentName, segment.NextOffset,
                    segment.DroppedLastOffset ?? (isLast ? null : nextBase - 1), truncated, segment.TruncationReason ?? "invalid data at the end"));
            }
            else if (segment.IndexesRebuilt)
            {
                store.Recovery.Add(new RecoveryRepair(topic, partition, segmentName, -1, null, 0, "index files missing or inconsistent, rebuilt from the log"));
            }
            if (truncated > 0 && !isLast)
            {
                corruptionFound = true;
                segment.CloseForAppends();
                segments.Add(LogSegment.Load(directory, baseOffset, recover: false, config.IndexIntervalBytes, active: true, store.NowMs, out _));
                continue;
            }
            segments.Add(segment);
        }
        if (segments.Count == 0) segments.Add(LogSegment.CreateActive(directory, Math.Max(logStart, 0), store.NowMs));
        log._segments = segments.ToImmutable();
        var end = log._segments[^1].NextOffset;
        if (log._segments[^1].IsEmpty) end = log._segments[^1].BaseOffset;
        log._logEndOffset = end;
        log._logStartOffset = Math.Clamp(logStart, log._segments[0].BaseOffset, end);
        log._highWatermark = end;
        log._flushedOffset = cleanShutdown ? end : Math.Min(recoveryPoint, end);
        log.LoadProducerState();
        return log;
    }

    public async ValueTask<AppendResult> AppendAsync(Memory<byte> batches, AppendOptions options, CancellationToken cancellationToken = default)
    {
        var staged = await AppendStagedAsync(batches, options, cancellationToken).ConfigureAwait(false);
        await staged.Committed.ConfigureAwait(false);
        return staged.Result;
    }

    public async ValueTask<StagedAppend> AppendStagedAsync(Memory<byte> batches, AppendOptions options, CancellationToken cancellationToken = default)
    {
        AppendedBatches appended;
        bool mustFlush;
        long logStart;
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed) throw new StorageException($"Partition {Topic}-{Partition} has been deleted or its store closed.");
            var now = _store.NowMs;
            var check = _producers.Check(batches.Span, now);
            if (check.Status != AppendStatus.Appended) return new(ProducerStateManager.Outcome(check, options, _logStartOffset), Task.CompletedTask);
            var config = Config;
            try
            {
                // A failed roll or write leaves the log as it was (see RollLocked and LogSegment.Append), so the
                // partition takes appends again once the disk has room.
                var active = _segments[^1];
                if (ShouldRoll(active, batches.Length, config)) active = RollLocked();
                appended = BatchOps.AssignOffsets(batches.Span, _logEndOffset, options);
                if (appended.LastOffset - active.BaseOffset > int.MaxValue && !active.IsEmpty) active = RollLocked();
                active.Append(batches.Span, config.IndexIntervalBytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StorageException($"Writing to {Topic}-{Partition} failed: {e.Message}", e);
            }
            _producers.OnAppended(batches.Span, now);
            Volatile.Write(ref _firstUnstableOffset, _producers.FirstUnstableOffset ?? long.MaxValue);
            Volatile.Write(ref _logEndOffset, appended.LastOffset + 1);
            mustFlush = appended.LastOffset + 1 - Volatile.Read(ref _flushedOffset) >= config.FlushMessages;
            logStart = _logStartOffset;
        }
        finally
        {
            _appendLock.Release();
        }
        var appendTime = options.TimestampType == TimestampType.LogAppendTime ? options.LogAppendTime : -1;
        var result = new AppendResult(appended.BaseOffset, appended.LastOffset, appendTime, logStart);
        if (mustFlush) return new(result, CommitAsync(appended.LastOffset + 1));
        AdvanceHighWatermark(appended.LastOffset + 1);
        return new(result, Task.CompletedTask);
    }

    /// <summary>Durable before visible: the high watermark passes the batches only once an fsync covered them.</summary>
    private async Task CommitAsync(long end)
    {
        await FlushAsync(end).ConfigureAwait(false);
        AdvanceHighWatermark(end);
    }

    public ValueTask<ReadResult> ReadAsync(long offset, int maxBytes, bool minOneBatch, long maxOffset, CancellationToken cancellationToken = default)
    {
        return RetryOnSegmentChange(() => ValueTask.FromResult(ReadOnce(offset, maxBytes, minOneBatch, maxOffset)));
    }

    public ValueTask<TimestampOffset?> FindOffsetByTimestampAsync(long timestamp, CancellationToken cancellationToken = default)
    {
        return RetryOnSegmentChange(() => ValueTask.FromResult(FindOffsetByTimestamp(timestamp)));
    }

    public ValueTask<TimestampOffset?> FindMaxTimestampAsync(CancellationToken cancellationToken = default)
    {
        return RetryOnSegmentChange(() => ValueTask.FromResult(FindMaxTimestamp()));
    }

    /// <summary>
    /// Runs a lock-free read, retrying when a segment it used was deleted, replaced by the cleaner (retired just before
    /// the new list is published) or had its cached handle evicted. Each cause clears within one swap, so retries are
    /// bounded; a spin wait lets the swapping thread finish.
    /// </summary>
    private T RetryOnSegmentChange<T>(Func<T> read)
    {
        var spinner = new SpinWait();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return read();
            }
            catch (Exception e) when (e is ObjectDisposedException or FileNotFoundException && !_closed && attempt < MaxReadAttempts)
            {
                spinner.SpinOnce();
            }
        }
    }

    public async ValueTask<long> DeleteRecordsBeforeAsync(long offset, CancellationToken cancellationToken = default)
    {
        long newStart;
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            var highWatermark = HighWatermark;
            if (offset < 0) offset = highWatermark; // -1 asks for "up to the high watermark"
            if (offset > highWatermark) throw new OffsetOutOfRangeException(offset, _logStartOffset, highWatermark);
            newStart = Math.Max(_logStartOffset, offset);
            if (newStart != _logStartOffset)
            {
                // Durable before visible: a start that could not be saved would come back after a restart.
                try
                {
                    WriteCheckpoint(newStart);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new StorageException($"Saving the log start of {Topic}-{Partition} failed: {e.Message}", e);
                }
                Volatile.Write(ref _logStartOffset, newStart);
                DeleteSegmentsLocked(_segments.TakeWhile((s, i) => i < _segments.Length - 1 && _segments[i + 1].BaseOffset <= newStart).ToList());
            }
        }
        finally
        {
            _appendLock.Release();
        }
        _appendSignal.Signal();
        return newStart;
    }

    public Task WaitForAppendAsync(CancellationToken cancellationToken) => _appendSignal.WaitAsync(cancellationToken);

    public IReadOnlyList<AbortedTransaction> AbortedTransactions(long fromOffset, long upperBoundOffset) =>
        _producers.AbortedBetween(fromOffset, upperBoundOffset);

    public async ValueTask<IReadOnlyList<ProducerInfo>> DescribeProducersAsync(CancellationToken cancellationToken = default)
    {
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _producers.Describe(_store.NowMs);
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>Deletes whole segments past retention.ms / retention.bytes (cleanup.policy delete) and those below the log start; returns how many.</summary>
    public async Task<int> EnforceRetentionAsync(CancellationToken cancellationToken = default)
    {
        _retired.RemoveDue(_store.NowMs);
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed) return 0;
            var config = Config;
            var now = _store.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
            var segments = _segments;
            var doomed = new List<LogSegment>();
            // Segments wholly below the log start (after DeleteRecords) go regardless of policy.
            var i = 0;
            while (i < segments.Length - 1 && segments[i + 1].BaseOffset <= _logStartOffset) doomed.Add(segments[i++]);
            if (config.DeletesByRetention)
            {
                if (config.RetentionMs >= 0)
                {
                    while (i < segments.Length && !segments[i].IsEmpty && now - segments[i].MaxTimestamp > config.RetentionMs) doomed.Add(segments[i++]);
                }
                if (config.RetentionBytes >= 0)
                {
                    var excess = segments.Skip(i).Sum(s => s.Size) - config.RetentionBytes;
                    while (i < segments.Length - 1 && excess - segments[i].Size >= 0)
                    {
                        excess -= segments[i].Size;
                        doomed.Add(segments[i++]);
                    }
                }
            }
            if (doomed.Count == 0) return 0;
            // Deleting the active segment leaves an empty one at the log end, as a roll would.
            if (doomed.Count == segments.Length) RollLocked();
            DeleteSegmentsLocked(doomed);
            var newStart = Math.Max(_logStartOffset, _segments[0].BaseOffset);
            Volatile.Write(ref _logStartOffset, newStart);
            WriteCheckpoint();
            return doomed.Count;
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>Fsyncs when flush.ms has passed since the last flush and data is pending (the interval policy).</summary>
    public Task FlushIfDueAsync(long nowMs)
    {
        var config = Config;
        if (config.FlushMs == long.MaxValue || LogEndOffset <= Volatile.Read(ref _flushedOffset)) return Task.CompletedTask;
        if (nowMs - Volatile.Read(ref _lastFlushTime) < config.FlushMs) return Task.CompletedTask;
        return FlushAsync(LogEndOffset);
    }

    /// <summary>
    /// Group commit: completes once an fsync that started after every offset below <paramref name="target"/> was
    /// written has finished. One flusher runs at a time; appenders arriving meanwhile share its next fsync.
    /// </summary>
    public Task FlushAsync(long target)
    {
        lock (_flushLock)
        {
            if (_flushedOffset >= target) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _flushWaiters.Add((target, done));
            if (!_flushing)
            {
                _flushing = true;
                _ = Task.Run(RunFlushes);
            }
            return done.Task;
        }
    }

    /// <summary>
    /// Closes write handles after a final flush and records a clean recovery point. Returns false when flushing or
    /// saving failed (a full or failing disk): the store then must not mark the shutdown clean, so the next open recovers.
    /// </summary>
    public async Task<bool> CloseAsync(bool flush)
    {
        var clean = true;
        await _appendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_closed) return true;
            _closed = true;
            var segments = _segments;
            if (flush)
            {
                try
                {
                    segments[^1].CloseForAppends(flush: true);
                    lock (_flushLock) _flushedOffset = _logEndOffset;
                    WriteCheckpoint();
                    WriteProducerSnapshot();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    segments[^1].CloseForAppends(flush: false);
                    clean = false;
                }
            }
            else
            {
                segments[^1].CloseForAppends(flush: false);
            }
            foreach (var segment in segments) _store.Handles.Evict(segment);
            _retired.RemoveAll();
        }
        finally
        {
            _appendLock.Release();
        }
        _appendSignal.Signal();
        return clean;
    }

    /// <summary>Runs <paramref name="action"/> holding the append lock (used by the cleaner to swap segments).</summary>
    internal async Task<T> WithAppendLockAsync<T>(Func<T> action, CancellationToken cancellationToken)
    {
        await _appendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            return action();
        }
        finally
        {
            _appendLock.Release();
        }
    }

    /// <summary>
    /// Retires a segment the cleaner is about to replace (before its path is reused), keeping its handles open for
    /// file.delete.delay.ms so in-flight readers can finish; caller holds the append lock.
    /// </summary>
    internal void RetireReplaced(LogSegment original)
    {
        var handle = original.RetireKeepingHandle();
        Microsoft.Win32.SafeHandles.SafeFileHandle[] handles = _store.Handles.Detach(original) is { } cached ? [handle, cached] : [handle];
        _retired.Add(handles, [], _store.NowMs + Config.FileDeleteDelayMs);
    }

    internal bool TryBeginCleaning() => Interlocked.CompareExchange(ref _cleaning, 1, 0) == 0;

    internal void EndCleaning() => Volatile.Write(ref _cleaning, 0);

    /// <summary>Replaces the segment list; caller holds the append lock.</summary>
    internal void PublishSegments(ImmutableArray<LogSegment> segments) => ImmutableInterlocked.InterlockedExchange(ref _segments, segments);

    private bool ShouldRoll(LogSegment active, int incomingBytes, LogConfig config)
    {
        if (active.IsEmpty) return false;
        if (active.Size + incomingBytes > config.SegmentBytes) return true;
        if (active.IndexEntryCount * LogSegment.OffsetEntrySize + LogSegment.OffsetEntrySize > config.SegmentIndexBytes) return true;
        var now = _store.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var jitter = config.SegmentJitterMs > 0 ? (long)((uint)HashCode.Combine(Topic, Partition, active.BaseOffset) % (ulong)Math.Min(config.SegmentJitterMs, config.SegmentMs)) : 0;
        return now - active.CreatedMs > config.SegmentMs - jitter;
    }

    /// <summary>
    /// Closes the active segment (flushed, so older segments never need an fsync again) and starts one at the log end.
    /// If creating or flushing fails the old segment stays active and nothing is published. The checkpoint and producer
    /// snapshot only shorten the next recovery, so failing to write them (a full disk) does not fail the roll.
    /// </summary>
    private LogSegment RollLocked()
    {
        var old = _segments[^1];
        var next = LogSegment.CreateActive(Directory, _logEndOffset, _store.NowMs);
        try
        {
            old.CloseForAppends(flush: true, _store.PageCacheRetainBytes);
        }
        catch
        {
            next.DeleteFiles();
            throw;
        }
        lock (_flushLock) _flushedOffset = Math.Max(_flushedOffset, _logEndOffset);
        PublishSegments(_segments.Add(next));
        DurableFiles.SyncDirectory(Directory);
        try
        {
            WriteCheckpoint();
            WriteProducerSnapshot();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Recovery scans from the older recovery point and replays producer state from an older snapshot.
        }
        return next;
    }

    private void DeleteSegmentsLocked(List<LogSegment> doomed)
    {
        if (doomed.Count == 0) return;
        var set = doomed.ToHashSet();
        PublishSegments(_segments.RemoveAll(set.Contains));
        // Renamed now and removed after file.delete.delay.ms: readers that picked a segment before keep reading it.
        var due = _store.NowMs + Config.FileDeleteDelayMs;
        foreach (var segment in doomed)
        {
            var (handle, files) = segment.RetireForDeletion();
            var cached = _store.Handles.Detach(segment);
            _retired.Add([.. new[] { handle, cached }.OfType<Microsoft.Win32.SafeHandles.SafeFileHandle>()], files, due);
        }
        DurableFiles.SyncDirectory(Directory);
        _retired.RemoveDue(_store.NowMs);
    }

    private void AdvanceHighWatermark(long offset)
    {
        long current;
        do
        {
            current = Volatile.Read(ref _highWatermark);
            if (current >= offset) return;
        }
        while (Interlocked.CompareExchange(ref _highWatermark, offset, current) != current);
        _appendSignal.Signal();
    }

    private void RunFlushes()
    {
        while (true)
        {
            List<(long Target, TaskCompletionSource Done)> waiters;
            lock (_flushLock)
            {
                if (_flushWaiters.Count == 0)
                {
                    _flushing = false;
                    return;
                }
                waiters = _flushWaiters;
                _flushWaiters = [];
            }
            // Read the end before choosing the segment: data below it is in this segment or in one flushed at roll.
            var covered = Volatile.Read(ref _logEndOffset);
            var active = Segments[^1];
            try
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                active.Flush(_store.PageCacheRetainBytes);
                StorageMetrics.FlushCompleted(started);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var failure = new StorageException($"Flushing {Topic}-{Partition} failed: {e.Message}", e);
                foreach (var waiter in waiters) waiter.Done.TrySetException(failure);
                continue;
            }
            lock (_flushLock) _flushedOffset = Math.Max(_flushedOffset, covered);
            Volatile.Write(ref _lastFlushTime, _store.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
            foreach (var waiter in waiters) waiter.Done.TrySetResult();
        }
    }

    private ReadResult ReadOnce(long offset, int maxBytes, bool minOneBatch, long maxOffset)
    {
        var start = LogStartOffset;
        var end = LogEndOffset;
        var highWatermark = HighWatermark;
        if (offset < start || offset > end) throw new OffsetOutOfRangeException(offset, start, end);
        var segments = Segments;
        var index = SegmentIndexFor(segments, offset);
        while (index < segments.Length - 1 && offset >= segments[index].NextOffset) index++;
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        var ranges = new List<(Microsoft.Win32.SafeHandles.SafeFileHandle Handle, long Position, int Length)>();
        var total = 0L;
        var full = false;
        // Whole batches from consecutive segments until a limit is hit.
        for (; index < segments.Length && !full; index++)
        {
            var segment = segments[index];
            var segmentEnd = segment.Size;
            var handle = _store.Handles.Get(segment);
            var position = segment.PositionForOffset(offset);
            while (LogSegment.TryReadHeader(handle, position, segmentEnd, header))
            {
                var h = new RecordBatchHeader(header);
                if (h.LastOffset >= offset) break;
                position += h.TotalSize;
            }
            var first = position;
            while (LogSegment.TryReadHeader(handle, position, segmentEnd, header))
            {
                var h = new RecordBatchHeader(header);
                if (h.LastOffset >= maxOffset || h.LastOffset >= end || (total + h.TotalSize > maxBytes && !(minOneBatch && total == 0)))
                {
                    full = true;
                    break;
                }
                total += h.TotalSize;
                position += h.TotalSize;
            }
            if (position > first) ranges.Add((handle, first, (int)(position - first)));
        }
        var buffer = new PooledBuffer((int)total);
        try
        {
            var written = 0;
            foreach (var (handle, position, length) in ranges)
            {
                var read = 0;
                while (read < length)
                {
                    var n = RandomAccess.Read(handle, buffer.Array.AsSpan(written + read, length - read), position + read);
                    if (n == 0) throw new StorageException($"Segment of {Topic}-{Partition} ended early.");
                    read += n;
                }
                written += length;
            }
            return new ReadResult(buffer.Array.AsMemory(0, (int)total), highWatermark, start, end, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private TimestampOffset? FindOffsetByTimestamp(long timestamp)
    {
        var start = LogStartOffset;
        var segments = Segments;
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        for (var i = SegmentIndexFor(segments, start); i < segments.Length; i++)
        {
            var segment = segments[i];
            if (segment.MaxTimestamp < timestamp) continue;
            var handle = _store.Handles.Get(segment);
            var end = segment.Size;
            var position = segment.PositionForOffset(Math.Max(start, segment.OffsetToScanForTimestamp(timestamp)));
            while (LogSegment.TryReadHeader(handle, position, end, header))
            {
                var h = new RecordBatchHeader(header);
                if (h.LastOffset >= start && h.MaxTimestamp >= timestamp)
                {
                    var found = BatchOps.FindInBatch(ReadBatch(handle, position, h.TotalSize), timestamp);
                    if (found is { } hit) return hit with { Offset = Math.Max(hit.Offset, start) };
                }
                position += h.TotalSize;
            }
        }
        return null;
    }

    private TimestampOffset? FindMaxTimestamp()
    {
        var start = LogStartOffset;
        if (start >= LogEndOffset) return null;
        var segments = Segments;
        LogSegment? best = null;
        for (var i = SegmentIndexFor(segments, start); i < segments.Length; i++)
        {
            if (!segments[i].IsEmpty && (best is null || segments[i].MaxTimestamp > best.MaxTimestamp)) best = segments[i];
        }
        if (best is null) return null;
        var handle = _store.Handles.Get(best);
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        var target = best.MaxTimestamp;
        var position = best.PositionForOffset(best.OffsetToScanForTimestamp(target));
        var end = best.Size;
        while (LogSegment.TryReadHeader(handle, position, end, header))
        {
            var h = new RecordBatchHeader(header);
            if (h.MaxTimestamp == target)
            {
                var max = BatchOps.MaxInBatch(ReadBatch(handle, position, h.TotalSize));
                return max with { Offset = Math.Max(max.Offset, start) };
            }
            position += h.TotalSize;
        }
        return null;
    }

    private static byte[] ReadBatch(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long position, int size)
    {
        var bytes = new byte[size];
        var read = 0;
        while (read < size)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(read), position + read);
            if (n == 0) throw new StorageException("Segment ended inside a batch.");
            read += n;
        }
        return bytes;
    }

    /// <summary>Index of the last segment whose base offset is at or below <paramref name="offset"/> (0 if none).</summary>
    private static int SegmentIndexFor(ImmutableArray<LogSegment> segments, long offset)
    {
        int low = 0, high = segments.Length - 1, found = 0;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (segments[mid].BaseOffset <= offset)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }
        return found;
    }

    /// <summary>Saves the producer state as of the log end; caller holds the append lock (or is opening the log).</summary>
    private void WriteProducerSnapshot()
    {
        var end = _logEndOffset;
        _producers.PruneAborted(_logStartOffset);
        DurableFiles.WriteAtomically(SnapshotPath(end), _producers.ToSnapshot(end));
        foreach (var old in SnapshotOffsets().OrderDescending().Skip(SnapshotsKept)) File.Delete(SnapshotPath(old));
    }

    /// <summary>Loads the newest usable snapshot and replays the batch headers after it.</summary>
    private void LoadProducerState()
    {
        var end = _logEndOffset;
        var from = -1L;
        foreach (var offset in SnapshotOffsets().OrderDescending())
        {
            // A snapshot beyond the log end describes batches lost in recovery.
            if (offset > end)
            {
                File.Delete(SnapshotPath(offset));
                continue;
            }
            if (from < 0 && _producers.TryLoadSnapshot(File.ReadAllBytes(SnapshotPath(offset)), out var loaded) && loaded == offset) from = offset;
        }
        if (from < 0) from = _segments[0].BaseOffset;
        var now = _store.NowMs;
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        foreach (var segment in _segments)
        {
            if (segment.NextOffset <= from || segment.IsEmpty) continue;
            var handle = _store.Handles.Get(segment);
            var position = segment.PositionForOffset(from);
            var segmentEnd = segment.Size;
            while (LogSegment.TryReadHeader(handle, position, segmentEnd, header))
            {
                var h = new RecordBatchHeader(header);
                // Replayed producers count as active from now: the log holds producer timestamps, not append times.
                // A transaction marker is read whole: whether it commits or aborts is in its record.
                if (h.LastOffset >= from) _producers.Replay(h.IsControl ? ReadBatch(handle, position, h.TotalSize) : header, now);
                position += h.TotalSize;
            }
        }
        _firstUnstableOffset = _producers.FirstUnstableOffset ?? long.MaxValue;
    }

    private IEnumerable<long> SnapshotOffsets() =>
        System.IO.Directory.EnumerateFiles(Directory, "*" + SnapshotExtension)
            .Select(f => LogSegment.TryParseBaseOffset(f, out var offset) ? offset : -1)
            .Where(o => o >= 0)
            .ToList();

    private string SnapshotPath(long offset) => Path.Combine(Directory, LogSegment.FileStem(offset) + SnapshotExtension);

    private (long LogStart, long RecoveryPoint) ReadCheckpoint()
    {
        var path = Path.Combine(Directory, CheckpointFileName);
        if (!File.Exists(path)) return (0, 0);
        var parts = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length == 2 && long.TryParse(parts[0], CultureInfo.InvariantCulture, out var start) && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var recovery)
            ? (start, recovery)
            : (0, 0);
    }

    private void WriteCheckpoint(long? logStartOffset = null)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{logStartOffset ?? _logStartOffset} {Volatile.Read(ref _flushedOffset)}\n");
        DurableFiles.WriteAtomically(Path.Combine(Directory, CheckpointFileName), Encoding.ASCII.GetBytes(text));
    }
}
