using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Brook.CrashHarness;

/// <summary>
/// A brook-server child process on a fixed loopback port and data directory, restartable on the same port. Its output
/// is appended to a log file. <see cref="Kill"/> is SIGKILL: no shutdown code runs, as in a real crash.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly string _serverDll;
    private readonly string _dataDirectory;
    private readonly IReadOnlyList<string> _overrides;
    private Process? _process;

    public ServerProcess(string serverDll, string dataDirectory, string logPath, IReadOnlyList<string>? overrides = null)
    {
        _serverDll = Path.GetFullPath(serverDll);
        _dataDirectory = dataDirectory;
        LogPath = logPath;
        _overrides = overrides ?? [];
        Port = FreePort();
    }

    public int Port { get; }

    public string Bootstrap => $"127.0.0.1:{Port}";

    public string LogPath { get; }

    public int Starts { get; private set; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server and waits until it answers an ApiVersions request.</summary>
    public async Task StartAsync(TimeSpan timeout)
    {
        if (IsRunning) throw new InvalidOperationException("The server is already running.");
        var arguments = new List<string> { _serverDll, "--listeners", $"PLAINTEXT://{Bootstrap}", "--data-dir", _dataDirectory, "--http", "none" };
        foreach (var o in _overrides) arguments.AddRange(["--override", o]);
        // exec: the shell becomes the server, so the pid we kill is the server's.
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec dotnet \"$@\" >>\"$LOG\" 2>&1");
        start.ArgumentList.Add("brook-server");
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["LOG"] = LogPath;
        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the server.");
        Starts++;
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"The server exited with code {_process.ExitCode} while starting; see {LogPath}.");
            if (await AnswersAsync().ConfigureAwait(false)) return;
            await Task.Delay(50).ConfigureAwait(false);
        }
        throw new TimeoutException($"The server did not answer within {timeout.TotalSeconds} s; see {LogPath}.");
    }

    /// <summary>SIGKILL, then waits for the process to be gone.</summary>
    public void Kill()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM (graceful shutdown), falling back to SIGKILL after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process is null) return;
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await term.WaitForExitAsync().ConfigureAwait(false);
            using var wait = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Console.WriteLine($"  server did not stop within {timeout.TotalSeconds} s of SIGTERM; killing it");
            }
        }
        Kill();
    }

    public void Dispose() => Kill();

    /// <summary>Sends ApiVersions v0 on a fresh connection and waits for any answer.</summary>
    private async Task<bool> AnswersAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await client.ConnectAsync(IPAddress.Loopback, Port, cancel.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            var request = new byte[14];
            BinaryPrimitives.WriteInt32BigEndian(request, 10);
            BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(4), 18); // ApiVersions
            BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(6), 0);
            BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(8), 1);
            BinaryPrimitives.WriteInt16BigEndian(request.AsSpan(12), -1); // no client id
            await stream.WriteAsync(request, cancel.Token).ConfigureAwait(false);
            var size = new byte[4];
            await stream.ReadExactlyAsync(size, cancel.Token).ConfigureAwait(false);
            return BinaryPrimitives.ReadInt32BigEndian(size) > 0;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
