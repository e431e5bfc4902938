using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Brook.Broker;

namespace Brook.Server.Tests;

/// <summary>Each fatal start error is one line on stderr saying what to do, with its own exit code, and no stack trace.</summary>
public sealed class StartErrorTests
{
    [Fact]
    public async Task An_http_port_in_use_names_the_endpoint_and_the_http_option()
    {
        using var dir = new TempDirectory();
        using var taken = Occupy(out var port);
        var error = await FailingStartAsync(dir.Path, StartExitCode.HttpListenerUnavailable,
            "--data-dir", Path.Combine(dir.Path, "data"), "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", $"http://127.0.0.1:{port}");
        Assert.Contains($"http://127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.Contains("in use", error, StringComparison.Ordinal);
        Assert.Contains("--http", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_kafka_port_in_use_is_reported_with_the_kafka_listener_address()
    {
        using var dir = new TempDirectory();
        using var taken = Occupy(out var port);
        var error = await FailingStartAsync(dir.Path, StartExitCode.KafkaListenerUnavailable,
            "--data-dir", Path.Combine(dir.Path, "data"), "--listeners", $"PLAINTEXT://127.0.0.1:{port}", "--http", "http://127.0.0.1:0");
        Assert.Contains($"PLAINTEXT://127.0.0.1:{port}", error, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", error, StringComparison.Ordinal);
        Assert.Contains("--listeners", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_data_directory_that_is_a_file_is_refused()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "data");
        await File.WriteAllTextAsync(file, "not a directory");
        var error = await FailingStartAsync(dir.Path, StartExitCode.DataDirectoryUnusable, "--data-dir", file, "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "none");
        Assert.Contains($"{file} is a file", error, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error, StringComparison.Ordinal);
    }

    [ReadOnlyMountFact]
    public async Task A_read_only_file_system_is_refused()
    {
        using var dir = new TempDirectory();
        var mount = Path.Combine(dir.Path, "ro");
        Directory.CreateDirectory(mount);
        Assert.True(ReadOnlyMountFactAttribute.Run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", mount).Ok);
        try
        {
            var error = await FailingStartAsync(dir.Path, StartExitCode.DataDirectoryUnusable, "--data-dir", mount, "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "none");
            Assert.Contains(mount, error, StringComparison.Ordinal);
            Assert.Contains("Read-only file system", error, StringComparison.Ordinal);
            Assert.Contains("writable", error, StringComparison.Ordinal);
        }
        finally
        {
            ReadOnlyMountFactAttribute.Run("umount", "-l", mount);
        }
    }

    [Fact]
    public async Task A_listener_without_a_name_shows_the_form_it_needs()
    {
        using var dir = new TempDirectory();
        var error = await FailingStartAsync(dir.Path, StartExitCode.InvalidConfiguration, "--listeners", "127.0.0.1:29092", "--http", "none");
        Assert.Contains("NAME://HOST:PORT", error, StringComparison.Ordinal);
        Assert.Contains("PLAINTEXT://127.0.0.1:29092", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "data")), "a refused configuration created the data directory");
    }

    [Fact]
    public async Task The_stack_trace_of_a_start_error_goes_to_the_debug_log()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "data");
        await File.WriteAllTextAsync(file, "");
        await using var server = await ServerProcess.RunToExitAsync(dir.Path, "--data-dir", file, "--http", "none", "--log-level", "debug");
        Assert.Equal((int)StartExitCode.DataDirectoryUnusable, server.ExitCode);
        Assert.Contains("FatalStartException", server.Stdout, StringComparison.Ordinal);
        Assert.Contains(" at Brook.Broker.DataDirectoryLock.Acquire", server.Stdout, StringComparison.Ordinal);
    }

    /// <summary>Runs the server to its failure; asserts the exit code, one line on stderr and no stack trace anywhere; returns the line.</summary>
    private static async Task<string> FailingStartAsync(string workingDirectory, StartExitCode expected, params string[] args)
    {
        await using var server = await ServerProcess.RunToExitAsync(workingDirectory, args);
        var context = $"exit {server.ExitCode}\nstdout:\n{server.Stdout}\nstderr:\n{server.Stderr}";
        Assert.True((int)expected == server.ExitCode, context);
        var lines = server.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, context);
        Assert.StartsWith("brook-server: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", server.Stdout + server.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", server.Stdout + server.Stderr, StringComparison.Ordinal);
        return lines[0];
    }

    /// <summary>Holds a loopback port, as another program would.</summary>
    private static TcpListener Occupy(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }
}

/// <summary>A fact that runs only where a read-only tmpfs can be mounted (root or CAP_SYS_ADMIN), and says why it was skipped otherwise.</summary>
public sealed class ReadOnlyMountFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    public ReadOnlyMountFactAttribute()
    {
        if (Unavailable.Value is { } reason) Skip = reason;
    }

    public static (bool Ok, string Output) Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardError.ReadToEnd() + process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode == 0, output.Trim());
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "tmpfs mounts need Linux.";
        var path = Path.Combine(Path.GetTempPath(), "brook-ro-probe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        try
        {
            var (ok, output) = Run("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", path);
            if (!ok) return $"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {output}";
            Run("umount", "-l", path);
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"cannot run mount: {e.Message}";
        }
        finally
        {
            Directory.Delete(path);
        }
    }
}
