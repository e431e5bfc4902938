using System.Diagnostics;

namespace Brook.Storage.Tests;

/// <summary>
/// A size-limited tmpfs mounted on a fresh temp directory, for tests that need a disk that fills up. Mounting needs
/// root (or CAP_SYS_ADMIN); <see cref="TmpfsFactAttribute"/> skips the test where that is refused.
/// </summary>
public sealed class TmpfsMount : IDisposable
{
    private TmpfsMount(string path)
    {
        Path = path;
    }

    public string Path { get; }

    /// <summary>Why mounting is impossible here, or null when a tmpfs can be mounted.</summary>
    public static string? Unavailable => LazyUnavailable.Value;

    private static readonly Lazy<string?> LazyUnavailable = new(Probe);

    public static TmpfsMount Create(long sizeBytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "brook-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        var (ok, output) = Run("mount", "-t", "tmpfs", "-o", $"size={sizeBytes}", "tmpfs", path);
        if (!ok)
        {
            Directory.Delete(path);
            throw new InvalidOperationException($"mount -t tmpfs failed: {output}");
        }
        return new TmpfsMount(path);
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "tmpfs mounts need Linux.";
        try
        {
            using var probe = Create(1 << 20);
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {e.Message}";
        }
    }

    private static (bool Ok, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode == 0, output.Trim());
    }
}

/// <summary>A fact that runs only where a tmpfs can be mounted, and says why it was skipped otherwise.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (TmpfsMount.Unavailable is { } reason) Skip = reason;
    }
}
