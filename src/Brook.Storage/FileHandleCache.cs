using Microsoft.Win32.SafeHandles;

namespace Brook.Storage;

/// <summary>
/// A small LRU of read-only handles to segment log files, shared by every partition of a store so that thousands
/// of segments never hold thousands of open files. Keyed by segment instance (a rewritten segment is a new key).
/// Thread-safety: all members lock; an evicted handle is disposed while a read may still use it, which is safe
/// because <see cref="SafeFileHandle"/> defers the close until in-flight calls release it — the reader then sees
/// <see cref="ObjectDisposedException"/> on its next call and retries.
/// </summary>
internal sealed class FileHandleCache : IDisposable
{
    private readonly object _lock = new();
    private readonly int _capacity;
    private readonly Dictionary<LogSegment, LinkedListNode<(LogSegment Segment, SafeFileHandle Handle)>> _entries = [];
    private readonly LinkedList<(LogSegment Segment, SafeFileHandle Handle)> _recency = new(); // most recent first

    public FileHandleCache(int capacity)
    {
        _capacity = Math.Max(1, capacity);
    }

    public SafeFileHandle Get(LogSegment segment)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(segment, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Handle;
            }
        }
        if (segment.IsRetired) return RetiredHandle(segment);
        // Opened outside the lock; a racing opener for the same segment just loses and closes its handle.
        var handle = File.OpenHandle(segment.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (segment.IsRetired)
        {
            // Retired while opening: the path may already name the bytes that replaced the segment's.
            handle.Dispose();
            return RetiredHandle(segment);
        }
        lock (_lock)
        {
            if (_entries.TryGetValue(segment, out var existing))
            {
                handle.Dispose();
                return existing.Value.Handle;
            }
            _entries[segment] = _recency.AddFirst((segment, handle));
            while (_entries.Count > _capacity)
            {
                var last = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(last.Value.Segment);
                last.Value.Handle.Dispose();
            }
            return handle;
        }
    }

    /// <summary>Removes the segment's handle from the cache without closing it (a reader may still be using it); the caller owns it now.</summary>
    public SafeFileHandle? Detach(LogSegment segment)
    {
        lock (_lock)
        {
            if (!_entries.Remove(segment, out var node)) return null;
            _recency.Remove(node);
            return node.Value.Handle;
        }
    }

    public void Evict(LogSegment segment)
    {
        lock (_lock)
        {
            if (!_entries.Remove(segment, out var node)) return;
            _recency.Remove(node);
            node.Value.Handle.Dispose();
        }
    }

    private static SafeFileHandle RetiredHandle(LogSegment segment) => segment.RetiredHandle ?? throw new ObjectDisposedException(segment.LogPath);

    public int Count
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var (_, handle) in _recency) handle.Dispose();
            _recency.Clear();
            _entries.Clear();
        }
    }
}
