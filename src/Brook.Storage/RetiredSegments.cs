using Microsoft.Win32.SafeHandles;

namespace Brook.Storage;

/// <summary>
/// Segments a partition no longer lists (deleted by retention or DeleteRecords, or replaced by the cleaner) whose bytes
/// stay readable for file.delete.delay.ms, as in Kafka: a reader that picked such a segment before it went keeps a
/// working handle, and a deleted segment's files wait under a <c>.deleted</c> suffix until the delay has passed. On
/// open, <c>.deleted</c> files left by a crash are removed at once. Thread-safety: all members lock.
/// </summary>
internal sealed class RetiredSegments
{
    public const string DeletedSuffix = ".deleted";

    private readonly object _lock = new();
    private readonly List<(SafeFileHandle[] Handles, string[] Files, long DueMs)> _entries = [];

    /// <summary>Keeps <paramref name="handles"/> open and <paramref name="files"/> on disk until <paramref name="dueMs"/>.</summary>
    public void Add(SafeFileHandle[] handles, string[] files, long dueMs)
    {
        lock (_lock) _entries.Add((handles, files, dueMs));
    }

    /// <summary>Closes the handles and deletes the files of every entry due at <paramref name="nowMs"/>; returns how many went.</summary>
    public int RemoveDue(long nowMs) => Remove(e => e.DueMs <= nowMs);

    /// <summary>Closes every handle and deletes every file (the partition is closing; no reader remains).</summary>
    public void RemoveAll() => Remove(_ => true);

    /// <summary>Deletes the <c>.deleted</c> files of a partition directory (left by a crash before their delay passed).</summary>
    public static void DeleteLeftovers(string directory)
    {
        foreach (var leftover in Directory.EnumerateFiles(directory, "*" + DeletedSuffix)) File.Delete(leftover);
    }

    private int Remove(Predicate<(SafeFileHandle[] Handles, string[] Files, long DueMs)> due)
    {
        List<(SafeFileHandle[] Handles, string[] Files, long DueMs)> gone;
        lock (_lock)
        {
            gone = _entries.FindAll(due);
            if (gone.Count == 0) return 0;
            _entries.RemoveAll(due);
        }
        foreach (var (handles, files, _) in gone)
        {
            foreach (var handle in handles) handle.Dispose();
            foreach (var file in files)
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                    // Left for DeleteLeftovers on the next open.
                }
            }
        }
        return gone.Count;
    }
}
