using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Brook.Server.Tests;

/// <summary>
/// A real brook-server child process (the build output next to the tests, run with dotnet), its stdout and stderr
/// collected line by line. Disposing kills it if it still runs.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly Lock _lines = new();

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string Stdout
    {
        get
        {
            lock (_lines) return string.Join("\n", _stdout);
        }
    }

    public string Stderr
    {
        get
        {
            lock (_lines) return string.Join("\n", _stderr);
        }
    }

    public static ServerProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    /// <summary>Starts the server with extra environment variables (BROOK_* settings).</summary>
    public static ServerProcess Start(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "brook-server.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // No BROOK_* settings of the test runner's environment leak into the server.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("BROOK_", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (server._lines) server._stdout.Add(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (server._lines) server._stderr.Add(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Runs the server to its exit (a start failure), returning its exit code; fails the test if it keeps running.</summary>
    public static Task<ServerProcess> RunToExitAsync(string workingDirectory, params string[] args) => RunToExitAsync(workingDirectory, null, args);

    /// <summary>Runs the server to its exit with extra environment variables.</summary>
    public static async Task<ServerProcess> RunToExitAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var server = Start(workingDirectory, environment, args);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await server._process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            await server.DisposeAsync();
            Assert.Fail($"brook-server {string.Join(' ', args)} did not exit; stdout:\n{server.Stdout}\nstderr:\n{server.Stderr}");
        }
        return server;
    }

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    /// <summary>Waits until a stdout line matches <paramref name="pattern"/>, returning the match; fails at a deadline or if the server exits.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            lock (_lines)
            {
                foreach (var line in _stdout)
                {
                    var match = pattern.Match(line);
                    if (match.Success) return match;
                }
            }
            if (_process.HasExited) Assert.Fail($"brook-server exited with {_process.ExitCode} before printing /{pattern}/; stdout:\n{Stdout}\nstderr:\n{Stderr}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"brook-server printed no line like /{pattern}/ in time; stdout:\n{Stdout}\nstderr:\n{Stderr}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits for the start line and returns the Kafka bootstrap address and the HTTP base address.</summary>
    public async Task<(string Bootstrap, string Http)> WaitUntilStartedAsync()
    {
        var kafka = await WaitForOutputAsync(StartedLine());
        var http = await WaitForOutputAsync(MetricsLine());
        return (kafka.Groups["bootstrap"].Value, http.Groups["http"].Value);
    }

    [GeneratedRegex(@"listening on [A-Z_]+://(?<bootstrap>[^,\s]+)")]
    private static partial Regex StartedLine();

    [GeneratedRegex(@"Metrics at (?<http>http://[^/\s]+)/metrics")]
    private static partial Regex MetricsLine();

    /// <summary>Stops the server with SIGTERM, as a service manager would, and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>A fresh directory under the temp directory, deleted afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "brook-server-test-" + Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
