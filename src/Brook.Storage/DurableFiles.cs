using System.Runtime.InteropServices;

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

    [LibraryImport("libc", EntryPoint = "close")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Close(int fd);
}
