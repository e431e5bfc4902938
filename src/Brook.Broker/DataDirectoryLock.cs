using System.Globalization;

namespace Brook.Broker;

/// <summary>
/// An exclusive lock on a data directory, held while the broker runs, as Kafka locks each log directory: a second broker
/// on the same directory (another process, or another embedded broker in this one) is refused before it opens or writes
/// anything there. The lock is an advisory flock on DATA/.lock, released by the kernel when the process ends however it
/// ends, so a kill -9 leaves no stale lock. Its holder's pid is written beside it (DATA/.lock.pid) for the refusal message:
/// the locked file itself cannot be read by another process.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string LockFileName = ".lock";

    public const string PidFileName = ".lock.pid";

    private readonly FileStream _lock;

    private DataDirectoryLock(FileStream handle)
    {
        _lock = handle;
    }

    /// <summary>Creates the directory when missing and locks it; throws <see cref="FatalStartException"/> when it cannot.</summary>
    public static DataDirectoryLock Acquire(string directory)
    {
        directory = Path.GetFullPath(directory);
        if (File.Exists(directory))
        {
            throw new FatalStartException(StartExitCode.DataDirectoryUnusable,
                $"the data directory {directory} is a file; give --data-dir a directory (it is created when missing)");
        }
        FileStream handle;
        try
        {
            Directory.CreateDirectory(directory);
            // FileShare.None is an exclusive, non-blocking flock on Unix (and a sharing lock on Windows).
            handle = new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (IsSharingViolation(ex))
        {
            var holder = ReadHolder(directory);
            throw new FatalStartException(StartExitCode.DataDirectoryLocked,
                $"the data directory {directory} is in use by another Brook broker ({holder}); stop it, or give this one another --data-dir", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FatalStartException(StartExitCode.DataDirectoryUnusable,
                $"cannot write to the data directory {directory}: {ex.Message.TrimEnd('.')}; give --data-dir a writable directory", ex);
        }
        try
        {
            File.WriteAllText(Path.Combine(directory, PidFileName), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The pid only serves the refusal message; a full disk must not keep the broker from restarting on its data.
        }
        return new DataDirectoryLock(handle);
    }

    // EWOULDBLOCK from flock surfaces as an IOException with HResult 11 (EAGAIN) on Linux; Windows reports a sharing violation.
    private static bool IsSharingViolation(IOException ex) => ex.HResult is 11 or 35 or unchecked((int)0x80070020);

    private static string ReadHolder(string directory)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(directory, PidFileName)).Trim();
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)
                ? pid == Environment.ProcessId ? $"this process, pid {pid}" : $"pid {pid}"
                : "pid unknown";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "pid unknown";
        }
    }

    public void Dispose() => _lock.Dispose();
}
