using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using Brook.Protocol.Records;
using Microsoft.Win32.SafeHandles;

namespace Brook.Storage;

/// <summary>
/// One segment of a partition log. On disk, in the partition directory, named by the 20-digit base offset:
/// <list type="bullet">
/// <item><c>.log</c>: record batches exactly as appended (offsets patched), back to back.</item>
/// <item><c>.index</c>: sparse offset index, 8-byte entries (relative base offset int32 BE, file position int32 BE),
/// one per <c>index.interval.bytes</c> of log; positions and offsets strictly increase.</item>
/// <item><c>.timeindex</c>: 12-byte entries (max timestamp so far int64 BE, relative offset int32 BE) written with the
/// offset index whenever the max timestamp grew; every record before the entry's offset has a timestamp at or below it.</item>
/// </list>
/// A deleted segment's files carry a <c>.deleted</c> suffix until file.delete.delay.ms has passed.
/// Indexes are also held in memory. Thread-safety: appends, rolls and truncation are made by the partition's
/// single appender; readers use <see cref="Size"/> (published after the bytes are written) and take
/// <see cref="_indexLock"/> briefly for index lookups. The write handles exist only while the segment is active.
/// </summary>
internal sealed class LogSegment
{
    public const int OffsetEntrySize = 8;
    public const int TimeEntrySize = 12;
    private const int ScanChunk = 1 << 20;

    private readonly object _indexLock = new();
    private readonly object _writerLock = new(); // guards the write handles against flush/close races
    private int[] _indexRelative = new int[8];
    private int[] _indexPosition = new int[8];
    private int _indexCount;
    private long[] _timeTimestamp = new long[8];
    private int[] _timeRelative = new int[8];
    private int _timeCount;

    private long _size;
    private long _nextOffset;
    private long _maxTimestamp = -1;
    private long _batchOfMaxTimestamp = -1;
    private long _firstBatchTimestamp = -1;
    private int _bytesSinceIndexEntry;
    private SafeFileHandle? _log;
    private SafeFileHandle? _offsetIndexWriter;
    private SafeFileHandle? _timeIndexWriter;
    private bool _retired;
    private bool _acceptsAppends; // set while active; write handles are opened lazily by the appender

    private LogSegment(string directory, long baseOffset)
    {
        BaseOffset = baseOffset;
        _nextOffset = baseOffset;
        var stem = Path.Combine(directory, FileStem(baseOffset));
        LogPath = stem + ".log";
        IndexPath = stem + ".index";
        TimeIndexPath = stem + ".timeindex";
    }

    public long BaseOffset { get; }

    public string LogPath { get; private set; }

    public string IndexPath { get; private set; }

    public string TimeIndexPath { get; private set; }

    /// <summary>
    /// Set once the segment was replaced (compaction) or deleted; its path may now name other bytes, so no new
    /// handle may be opened for it. Readers holding an old snapshot retry with a fresh one.
    /// </summary>
    public bool IsRetired => Volatile.Read(ref _retired);

    /// <summary>Bytes of whole batches readers may see.</summary>
    public long Size => Volatile.Read(ref _size);

    /// <summary>Offset after the last batch (equals <see cref="BaseOffset"/> when empty).</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);

    /// <summary>Largest batch max timestamp in the segment, -1 when empty.</summary>
    public long MaxTimestamp => Volatile.Read(ref _maxTimestamp);

    /// <summary>Base offset of the batch holding <see cref="MaxTimestamp"/>.</summary>
    public long BatchOfMaxTimestamp => Volatile.Read(ref _batchOfMaxTimestamp);

    /// <summary>Max timestamp of the first batch, -1 when empty.</summary>
    public long FirstBatchTimestamp => Volatile.Read(ref _firstBatchTimestamp);

    /// <summary>
    /// When the segment was created by the store's clock (for a loaded segment: its file's creation time, capped at now).
    /// segment.ms counts from here rather than from record timestamps, which producers control.
    /// </summary>
    public long CreatedMs { get; private init; }

    public int IndexEntryCount
    {
        get
        {
            lock (_indexLock) return _indexCount;
        }
    }

    public bool IsEmpty => Size == 0;

    public static string FileStem(long baseOffset) => baseOffset.ToString("D20", CultureInfo.InvariantCulture);

    public static bool TryParseBaseOffset(string fileName, out long baseOffset) =>
        long.TryParse(Path.GetFileNameWithoutExtension(fileName), NumberStyles.None, CultureInfo.InvariantCulture, out baseOffset) &&
        Path.GetFileNameWithoutExtension(fileName).Length == 20;

    /// <summary>Creates an empty active segment, replacing any files left with that base offset.</summary>
    public static LogSegment CreateActive(string directory, long baseOffset, long nowMs)
    {
        var segment = new LogSegment(directory, baseOffset) { CreatedMs = nowMs };
        foreach (var path in new[] { segment.LogPath, segment.IndexPath, segment.TimeIndexPath })
        {
            using var created = File.OpenHandle(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        }
        segment._acceptsAppends = true;
        return segment;
    }

    /// <summary>Why the last scan stopped before the end of the file (torn write, CRC mismatch, ...), or null.</summary>
    public string? TruncationReason { get; private set; }

    /// <summary>After a load that cut bytes off: the last offset of the first batch cut, when its header was readable.</summary>
    public long? DroppedLastOffset { get; private set; }

    /// <summary>The load found the index files missing or inconsistent and rebuilt them from the log.</summary>
    public bool IndexesRebuilt { get; private set; }

    /// <summary>
    /// Loads an existing segment. With <paramref name="recover"/> every batch is checked (length, magic, CRC), a torn
    /// or corrupt tail is cut off and the indexes are rebuilt; otherwise the index files are trusted after a sanity
    /// check and rebuilt only when missing or inconsistent. Returns the bytes truncated.
    /// </summary>
    public static LogSegment Load(string directory, long baseOffset, bool recover, int indexIntervalBytes, bool active, long nowMs, out long truncatedBytes)
    {
        var stem = Path.Combine(directory, FileStem(baseOffset));
        var created = Math.Min(nowMs, new DateTimeOffset(File.GetCreationTimeUtc(stem + ".log")).ToUnixTimeMilliseconds());
        var segment = new LogSegment(directory, baseOffset) { CreatedMs = created };
        using (var handle = File.OpenHandle(segment.LogPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
            var length = RandomAccess.GetLength(handle);
            long validEnd;
            var indexesTrusted = !recover && segment.TryLoadIndexes(length);
            segment.IndexesRebuilt = !recover && !indexesTrusted;
            if (indexesTrusted)
            {
                // Only the tail after the last index entry needs reading to know the segment's end and max timestamp.
                long tailStart;
                lock (segment._indexLock) tailStart = segment._indexCount == 0 ? 0 : segment._indexPosition[segment._indexCount - 1];
                validEnd = segment.Scan(handle, tailStart, length, checkCrc: false, indexIntervalBytes, buildIndex: false);
            }
            else
            {
                segment.ClearIndexes();
                validEnd = segment.Scan(handle, 0, length, checkCrc: recover, indexIntervalBytes, buildIndex: true);
                segment.TryWriteIndexFiles();
            }
            truncatedBytes = length - validEnd;
            if (truncatedBytes > 0)
            {
                // What the cut-off bytes held, when their first batch header can still be read.
                Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
                if (TryReadHeader(handle, validEnd, length, header) && new RecordBatchHeader(header) is { Magic: 2 } dropped
                    && dropped.BaseOffset >= segment.NextOffset && dropped.LastOffsetDelta >= 0)
                    segment.DroppedLastOffset = dropped.LastOffset;
                RandomAccess.SetLength(handle, validEnd);
                RandomAccess.FlushToDisk(handle);
            }
            segment._size = validEnd;
            if (segment.FirstBatchTimestamp < 0 && validEnd > 0) segment._firstBatchTimestamp = segment.ReadFirstBatchTimestamp(handle);
        }
        segment._acceptsAppends = active;
        return segment;
    }

    /// <summary>
    /// Writes whole batches (offsets already assigned) at the end; only the partition's appender calls this. All or
    /// nothing: when a write fails (a full disk), the files are cut back and the in-memory state restored, so the
    /// segment stays consistent and the next append can succeed once space is free.
    /// </summary>
    public void Append(ReadOnlySpan<byte> batches, int indexIntervalBytes)
    {
        if (!_acceptsAppends) throw new InvalidOperationException("Segment is not active.");
        // Write handles open on first use so that idle partitions hold no files open.
        if (_log is null) OpenWriters();
        var log = _log!;
        var start = _size;
        if (start + batches.Length > int.MaxValue) throw new StorageException("Segment would exceed 2 GiB.");
        var before = SaveTracking();
        try
        {
            RandomAccess.Write(log, batches, start);
            var position = 0;
            while (position < batches.Length)
            {
                var size = BatchOps.CompleteBatchSize(batches[position..]);
                Track(BatchOps.ReadInfo(batches[position..]), start + position, indexIntervalBytes, writeIndexFiles: true);
                position += size;
            }
        }
        catch (IOException)
        {
            RollBack(before, start);
            throw;
        }
        Volatile.Write(ref _size, start + batches.Length);
    }

    private TrackingState SaveTracking()
    {
        lock (_indexLock)
            return new(_indexCount, _timeCount, _nextOffset, _maxTimestamp, _batchOfMaxTimestamp, _firstBatchTimestamp, _bytesSinceIndexEntry);
    }

    /// <summary>Undoes a failed append: nothing past <paramref name="size"/> was published, so readers never saw it.</summary>
    private void RollBack(TrackingState state, long size)
    {
        lock (_indexLock)
        {
            _indexCount = state.IndexCount;
            _timeCount = state.TimeCount;
        }
        Volatile.Write(ref _nextOffset, state.NextOffset);
        Volatile.Write(ref _maxTimestamp, state.MaxTimestamp);
        Volatile.Write(ref _batchOfMaxTimestamp, state.BatchOfMaxTimestamp);
        Volatile.Write(ref _firstBatchTimestamp, state.FirstBatchTimestamp);
        _bytesSinceIndexEntry = state.BytesSinceIndexEntry;
        try
        {
            // Shrinking needs no space. Index entries past the restored counts would describe bytes that are gone.
            lock (_writerLock)
            {
                if (_log is { } log) RandomAccess.SetLength(log, size);
                if (_offsetIndexWriter is { } index) RandomAccess.SetLength(index, (long)state.IndexCount * OffsetEntrySize);
                if (_timeIndexWriter is { } time) RandomAccess.SetLength(time, (long)state.TimeCount * TimeEntrySize);
            }
        }
        catch (IOException)
        {
            // Appends overwrite from the published size; recovery cuts an unpublished tail and rebuilds bad indexes.
        }
    }

    private readonly record struct TrackingState(int IndexCount, int TimeCount, long NextOffset, long MaxTimestamp, long BatchOfMaxTimestamp, long FirstBatchTimestamp, int BytesSinceIndexEntry);

    /// <summary>File position of the batch to start scanning from for <paramref name="offset"/> (an index entry at or before it).</summary>
    public long PositionForOffset(long offset)
    {
        var relative = offset - BaseOffset;
        if (relative <= 0) return 0;
        lock (_indexLock)
        {
            var i = UpperBound(_indexRelative, _indexCount, relative > int.MaxValue ? int.MaxValue : (int)relative) - 1;
            return i < 0 ? 0 : _indexPosition[i];
        }
    }

    /// <summary>An offset from which scanning finds the first record with timestamp at or after <paramref name="timestamp"/>.</summary>
    public long OffsetToScanForTimestamp(long timestamp)
    {
        lock (_indexLock)
        {
            // Largest entry with a smaller timestamp: nothing before its offset can match.
            int low = 0, high = _timeCount - 1, found = -1;
            while (low <= high)
            {
                var mid = (low + high) >>> 1;
                if (_timeTimestamp[mid] < timestamp)
                {
                    found = mid;
                    low = mid + 1;
                }
                else
                {
                    high = mid - 1;
                }
            }
            return found < 0 ? BaseOffset : BaseOffset + _timeRelative[found];
        }
    }

    /// <summary>
    /// Fsyncs the log file if the segment is active; safe to call concurrently with <see cref="CloseForAppends"/>.
    /// With <paramref name="keepCachedBytes"/> >= 0, the now-clean pages more than that far behind the end leave the
    /// page cache (see <see cref="DropCacheBehind"/>).
    /// </summary>
    public void Flush(long keepCachedBytes = -1)
    {
        lock (_writerLock)
        {
            if (_log is not { } log) return;
            var flushedSize = Size;
            RandomAccess.FlushToDisk(log);
            DropCacheBehind(log, flushedSize, keepCachedBytes);
        }
    }

    /// <summary>
    /// Gives the page cache back the flushed part of the log file older than the newest <paramref name="keepCachedBytes"/>
    /// (in steps of at least 1 MiB). Readers of the tail still find it cached; the kernel reuses the freed pages for new
    /// appends instead of taking fresh memory, which on virtual machines is several times dearer to write into.
    /// </summary>
    private void DropCacheBehind(SafeFileHandle log, long flushedSize, long keepCachedBytes)
    {
        if (keepCachedBytes < 0) return;
        var dropTo = flushedSize - keepCachedBytes;
        if (dropTo - _cacheDroppedTo < DropCacheStep) return;
        DurableFiles.DropCachedPages(log, _cacheDroppedTo, dropTo - _cacheDroppedTo);
        _cacheDroppedTo = dropTo;
    }

    private const long DropCacheStep = 1 << 20;

    /// <summary>The log file's pages below this position have been handed back to the page cache.</summary>
    private long _cacheDroppedTo;

    internal long CacheDroppedTo
    {
        get
        {
            lock (_writerLock) return _cacheDroppedTo;
        }
    }

    /// <summary>
    /// Flushes all three files and closes the write handles; the segment stays readable. When a flush fails nothing is
    /// closed, so the segment still takes appends.
    /// </summary>
    public void CloseForAppends(bool flush = true, long keepCachedBytes = -1)
    {
        lock (_writerLock)
        {
            var handles = new[] { _log, _offsetIndexWriter, _timeIndexWriter };
            if (flush)
            {
                var flushedSize = Size;
                foreach (var handle in handles)
                {
                    if (handle is not null) RandomAccess.FlushToDisk(handle);
                }
                if (_log is { } log) DropCacheBehind(log, flushedSize, keepCachedBytes);
            }
            foreach (var handle in handles) handle?.Dispose();
            _log = _offsetIndexWriter = _timeIndexWriter = null;
            _acceptsAppends = false;
        }
    }

    public void Retire() => Volatile.Write(ref _retired, true);

    /// <summary>A handle on this segment's bytes kept after a replacement renamed other bytes over its path.</summary>
    public SafeFileHandle? RetiredHandle { get; private set; }

    /// <summary>
    /// Retires the segment before its path is reused, keeping one handle on the old bytes so readers holding an older
    /// segment list can finish; the owner disposes the handle after a grace period.
    /// </summary>
    public SafeFileHandle RetireKeepingHandle()
    {
        RetiredHandle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Retire();
        return RetiredHandle;
    }

    /// <summary>
    /// Moves this (closed, not yet published) segment's files into <paramref name="directory"/>, replacing the files of
    /// a segment with the same base offset. The old index files go first and the log is renamed before the new
    /// indexes, so a crash at any point leaves either old or new log bytes with missing indexes (rebuilt on open),
    /// never indexes describing other bytes.
    /// </summary>
    public void MoveFilesTo(string directory)
    {
        var stem = Path.Combine(directory, FileStem(BaseOffset));
        File.Delete(stem + ".index");
        File.Delete(stem + ".timeindex");
        File.Move(LogPath, stem + ".log", overwrite: true);
        File.Move(IndexPath, stem + ".index", overwrite: true);
        File.Move(TimeIndexPath, stem + ".timeindex", overwrite: true);
        LogPath = stem + ".log";
        IndexPath = stem + ".index";
        TimeIndexPath = stem + ".timeindex";
    }

    /// <summary>Removes the files of a segment that was never published (no reader can hold it), e.g. after a failed roll.</summary>
    public void DeleteFiles()
    {
        Retire();
        CloseForAppends(flush: false);
        File.Delete(LogPath);
        File.Delete(IndexPath);
        File.Delete(TimeIndexPath);
    }

    /// <summary>
    /// Retires the segment for deletion: keeps one handle on its bytes for readers holding an older segment list (null
    /// when the log file is already gone) and renames its files with the <see cref="RetiredSegments.DeletedSuffix"/>;
    /// returns the handle and the renamed files, which the owner removes after file.delete.delay.ms.
    /// </summary>
    public (SafeFileHandle? Handle, string[] Files) RetireForDeletion()
    {
        try
        {
            RetiredHandle = File.OpenHandle(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            RetiredHandle = null;
        }
        Retire();
        CloseForAppends(flush: false);
        var renamed = new List<string>(3);
        foreach (var path in new[] { LogPath, IndexPath, TimeIndexPath })
        {
            if (!File.Exists(path)) continue;
            File.Move(path, path + RetiredSegments.DeletedSuffix, overwrite: true);
            renamed.Add(path + RetiredSegments.DeletedSuffix);
        }
        return (RetiredHandle, renamed.ToArray());
    }

    /// <summary>Reads the first bytes of the batch at <paramref name="position"/> (header fields only).</summary>
    public static bool TryReadHeader(SafeFileHandle handle, long position, long end, Span<byte> header)
    {
        if (end - position < RecordBatchHeader.Size) return false;
        return RandomAccess.Read(handle, header[..RecordBatchHeader.Size], position) == RecordBatchHeader.Size;
    }

    private void OpenWriters()
    {
        const FileShare Share = FileShare.ReadWrite | FileShare.Delete;
        lock (_writerLock)
        {
            _log = File.OpenHandle(LogPath, FileMode.Open, FileAccess.ReadWrite, Share);
            _offsetIndexWriter = File.OpenHandle(IndexPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, Share);
            _timeIndexWriter = File.OpenHandle(TimeIndexPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, Share);
        }
    }

    /// <summary>
    /// Walks batches from <paramref name="start"/> to <paramref name="end"/>, updating offsets and timestamps (and the
    /// indexes when <paramref name="buildIndex"/>); returns where the last whole valid batch ends.
    /// </summary>
    private long Scan(SafeFileHandle handle, long start, long end, bool checkCrc, int indexIntervalBytes, bool buildIndex)
    {
        TruncationReason = null;
        var buffer = ArrayPool<byte>.Shared.Rent(ScanChunk);
        try
        {
            var position = start;
            while (position < end)
            {
                var read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - position)), position);
                var consumed = 0;
                while (true)
                {
                    var rest = buffer.AsSpan(consumed, read - consumed);
                    if (rest.Length < RecordBatchHeader.Size) break;
                    var declared = (long)BinaryPrimitives.ReadInt32BigEndian(rest[RecordBatchHeader.LengthPosition..]) + RecordBatchHeader.LogOverhead;
                    if (declared < RecordBatchHeader.Size || (sbyte)rest[RecordBatchHeader.MagicPosition] != 2)
                    {
                        TruncationReason = "corrupt batch header (bad length or magic)";
                        return position + consumed;
                    }
                    if (position + consumed + declared > end)
                    {
                        TruncationReason = "torn write (the last batch is cut short)";
                        return position + consumed;
                    }
                    if (declared > rest.Length)
                    {
                        if (declared > buffer.Length)
                        {
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = ArrayPool<byte>.Shared.Rent((int)declared);
                        }
                        break;
                    }
                    var batch = rest[..(int)declared];
                    if (checkCrc && !new RecordBatchHeader(batch).IsCrcValid)
                    {
                        TruncationReason = "CRC mismatch";
                        return position + consumed;
                    }
                    var info = BatchOps.ReadInfo(batch);
                    if (info.BaseOffset < NextOffset || info.LastOffset < info.BaseOffset)
                    {
                        TruncationReason = "offsets out of order"; // offsets must grow
                        return position + consumed;
                    }
                    if (buildIndex) Track(info, position + consumed, indexIntervalBytes, writeIndexFiles: false);
                    else TrackTail(info);
                    consumed += (int)declared;
                }
                if (consumed == 0 && read < RecordBatchHeader.Size)
                {
                    TruncationReason = "torn write (a partial batch header at the end)";
                    return position;
                }
                position += consumed;
            }
            return position;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private long ReadFirstBatchTimestamp(SafeFileHandle handle)
    {
        Span<byte> header = stackalloc byte[RecordBatchHeader.Size];
        return TryReadHeader(handle, 0, _size, header) ? new RecordBatchHeader(header).MaxTimestamp : -1;
    }

    private void TrackTail(BatchInfo info)
    {
        if (info.MaxTimestamp > _maxTimestamp)
        {
            _maxTimestamp = info.MaxTimestamp;
            _batchOfMaxTimestamp = info.BaseOffset;
        }
        _nextOffset = info.LastOffset + 1;
    }

    private void Track(BatchInfo info, long position, int indexIntervalBytes, bool writeIndexFiles)
    {
        if (_firstBatchTimestamp < 0 && position == 0) Volatile.Write(ref _firstBatchTimestamp, info.MaxTimestamp);
        if (_bytesSinceIndexEntry > indexIntervalBytes)
        {
            AddIndexEntries(info.BaseOffset, position, writeIndexFiles);
            _bytesSinceIndexEntry = 0;
        }
        _bytesSinceIndexEntry += info.Size;
        if (info.MaxTimestamp > _maxTimestamp)
        {
            Volatile.Write(ref _maxTimestamp, info.MaxTimestamp);
            Volatile.Write(ref _batchOfMaxTimestamp, info.BaseOffset);
        }
        Volatile.Write(ref _nextOffset, info.LastOffset + 1);
    }

    private void AddIndexEntries(long baseOffset, long position, bool writeFiles)
    {
        var relative = checked((int)(baseOffset - BaseOffset));
        Span<byte> entry = stackalloc byte[TimeEntrySize];
        lock (_indexLock)
        {
            Grow(ref _indexRelative, ref _indexPosition, _indexCount);
            _indexRelative[_indexCount] = relative;
            _indexPosition[_indexCount] = (int)position;
            _indexCount++;
            if (writeFiles && _offsetIndexWriter is { } indexWriter)
            {
                BinaryPrimitives.WriteInt32BigEndian(entry, relative);
                BinaryPrimitives.WriteInt32BigEndian(entry[4..], (int)position);
                RandomAccess.Write(indexWriter, entry[..OffsetEntrySize], (long)(_indexCount - 1) * OffsetEntrySize);
            }
            // The time entry describes everything before this batch, so it uses the max seen so far.
            if (_maxTimestamp >= 0 && (_timeCount == 0 || _maxTimestamp > _timeTimestamp[_timeCount - 1]))
            {
                Grow(ref _timeTimestamp, ref _timeRelative, _timeCount);
                _timeTimestamp[_timeCount] = _maxTimestamp;
                _timeRelative[_timeCount] = relative;
                _timeCount++;
                if (writeFiles && _timeIndexWriter is { } timeWriter)
                {
                    BinaryPrimitives.WriteInt64BigEndian(entry, _maxTimestamp);
                    BinaryPrimitives.WriteInt32BigEndian(entry[8..], relative);
                    RandomAccess.Write(timeWriter, entry, (long)(_timeCount - 1) * TimeEntrySize);
                }
            }
        }
    }

    private void ClearIndexes()
    {
        lock (_indexLock)
        {
            _indexCount = 0;
            _timeCount = 0;
        }
        _bytesSinceIndexEntry = 0;
        _maxTimestamp = -1;
        _batchOfMaxTimestamp = -1;
        _nextOffset = BaseOffset;
    }

    /// <summary>
    /// Saves the rebuilt indexes; on a full disk the stale files are removed instead (deleting needs no space), so the
    /// next open rebuilds them rather than trusting entries that describe other bytes. The segment still opens.
    /// </summary>
    private void TryWriteIndexFiles()
    {
        try
        {
            WriteIndexFiles();
        }
        catch (IOException)
        {
            File.Delete(IndexPath);
            File.Delete(TimeIndexPath);
        }
    }

    private void WriteIndexFiles()
    {
        lock (_indexLock)
        {
            var offsetBytes = new byte[_indexCount * OffsetEntrySize];
            for (var i = 0; i < _indexCount; i++)
            {
                BinaryPrimitives.WriteInt32BigEndian(offsetBytes.AsSpan(i * OffsetEntrySize), _indexRelative[i]);
                BinaryPrimitives.WriteInt32BigEndian(offsetBytes.AsSpan(i * OffsetEntrySize + 4), _indexPosition[i]);
            }
            var timeBytes = new byte[_timeCount * TimeEntrySize];
            for (var i = 0; i < _timeCount; i++)
            {
                BinaryPrimitives.WriteInt64BigEndian(timeBytes.AsSpan(i * TimeEntrySize), _timeTimestamp[i]);
                BinaryPrimitives.WriteInt32BigEndian(timeBytes.AsSpan(i * TimeEntrySize + 8), _timeRelative[i]);
            }
            DurableFiles.WriteAtomically(IndexPath, offsetBytes);
            DurableFiles.WriteAtomically(TimeIndexPath, timeBytes);
        }
    }

    /// <summary>Loads both index files if present and consistent with a log of <paramref name="logLength"/> bytes.</summary>
    private bool TryLoadIndexes(long logLength)
    {
        if (!File.Exists(IndexPath) || !File.Exists(TimeIndexPath)) return false;
        var offsetBytes = File.ReadAllBytes(IndexPath);
        var timeBytes = File.ReadAllBytes(TimeIndexPath);
        if (offsetBytes.Length % OffsetEntrySize != 0 || timeBytes.Length % TimeEntrySize != 0) return false;
        lock (_indexLock)
        {
            _indexCount = 0;
            _timeCount = 0;
            for (var i = 0; i < offsetBytes.Length; i += OffsetEntrySize)
            {
                var relative = BinaryPrimitives.ReadInt32BigEndian(offsetBytes.AsSpan(i));
                var position = BinaryPrimitives.ReadInt32BigEndian(offsetBytes.AsSpan(i + 4));
                var previous = _indexCount == 0 ? (-1, -1) : (_indexRelative[_indexCount - 1], _indexPosition[_indexCount - 1]);
                if (relative <= previous.Item1 || position <= previous.Item2 || position >= logLength) return false;
                Grow(ref _indexRelative, ref _indexPosition, _indexCount);
                _indexRelative[_indexCount] = relative;
                _indexPosition[_indexCount] = position;
                _indexCount++;
            }
            var lastRelative = _indexCount == 0 ? 0 : _indexRelative[_indexCount - 1];
            for (var i = 0; i < timeBytes.Length; i += TimeEntrySize)
            {
                var timestamp = BinaryPrimitives.ReadInt64BigEndian(timeBytes.AsSpan(i));
                var relative = BinaryPrimitives.ReadInt32BigEndian(timeBytes.AsSpan(i + 8));
                if ((_timeCount > 0 && timestamp <= _timeTimestamp[_timeCount - 1]) || relative < 0 || relative > lastRelative) return false;
                Grow(ref _timeTimestamp, ref _timeRelative, _timeCount);
                _timeTimestamp[_timeCount] = timestamp;
                _timeRelative[_timeCount] = relative;
                _timeCount++;
            }
            if (_timeCount > 0)
            {
                _maxTimestamp = _timeTimestamp[_timeCount - 1];
                _batchOfMaxTimestamp = BaseOffset + _timeRelative[_timeCount - 1];
            }
            _nextOffset = _indexCount == 0 ? BaseOffset : BaseOffset + _indexRelative[_indexCount - 1];
            return true;
        }
    }

    private static void Grow<TA, TB>(ref TA[] a, ref TB[] b, int count)
    {
        if (count < a.Length) return;
        Array.Resize(ref a, a.Length * 2);
        Array.Resize(ref b, b.Length * 2);
    }

    private static int UpperBound(int[] values, int count, int value)
    {
        int low = 0, high = count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (values[mid] <= value) low = mid + 1;
            else high = mid;
        }
        return low;
    }
}
