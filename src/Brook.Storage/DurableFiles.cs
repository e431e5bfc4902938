using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Brook.Storage;

/// <summary>Helpers for crash-safe small files: write to a temp file, fsync it, rename over the target, fsync the directory.</summary>
public static partial class DurableFiles
{
    private const int ReadOnlyDirectoryFlags = 0x10000; // O_RDONLY | O_DIRECTORY on Linux

    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var temp = path + ".tmp";
        try
        {
            using (var handle = File.OpenHandle(temp, FileMode.Create, FileAccess.Write))
            {
                RandomAccess.Write(handle, content, 0);
                RandomAccess.FlushToDisk(handle);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException)
        {
            // A half-written temp file would hold space on a full disk; the target is untouched.
            File.Delete(temp);
            throw;
        }
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Makes a rename, creation or deletion in <paramref name="directory"/> durable (no-op where directories cannot be synced).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var fd = Open(directory, OperatingSystem.IsLinux() ? ReadOnlyDirectoryFlags : 0);
        if (fd < 0) return;
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fsync(int fd);

    /// <summary>
    /// Tells the kernel that the flushed pages of [<paramref name="offset"/>, +<paramref name="length"/>) will not be
    /// needed soon, so it frees them (Linux; elsewhere nothing). Clean pages only: no data is affected, later reads
    /// come from disk.
    /// </summary>
    public static void DropCachedPages(SafeFileHandle handle, long offset, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        _ = Fadvise(handle, offset, length, FadviseDontNeed);
    }

    private const int FadviseDontNeed = 4;

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Fadvise(SafeFileHandle fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}
