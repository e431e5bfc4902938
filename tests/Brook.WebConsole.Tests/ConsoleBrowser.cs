using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Brook.WebConsole.Tests;

/// <summary>
/// Headless Chromium on the console, through tests/console-e2e/driver.mjs (playwright-core driving Debian's chromium):
/// one step a line in, one JSON answer a line out. Screenshots go to artifacts/screenshots/console at the repository root
/// (or $BROOK_SCREENSHOTS).
/// </summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _node;
    private readonly StringBuilder _stderr = new();
    private int _nextId;

    private ConsoleBrowser(Process node) => _node = node;

    public static string RepositoryRoot { get; } = FindRoot();

    public static string ScreenshotDirectory { get; } = Environment.GetEnvironmentVariable("BROOK_SCREENSHOTS") is { Length: > 0 } dir
        ? dir
        : Path.Combine(RepositoryRoot, "artifacts", "screenshots", "console");

    public static async Task<ConsoleBrowser> StartAsync(string baseUrl)
    {
        var e2e = Path.Combine(RepositoryRoot, "tests", "console-e2e");
        Assert.True(File.Exists("/usr/bin/chromium") || Environment.GetEnvironmentVariable("CHROMIUM_PATH") is not null,
            "Chromium is missing: run scripts/setup-test-deps.sh (installs Debian's chromium).");
        Assert.True(Directory.Exists(Path.Combine(e2e, "node_modules", "playwright-core")),
            "playwright-core is missing: run scripts/setup-test-deps.sh (npm ci in tests/console-e2e).");
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = e2e,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("driver.mjs");
        start.ArgumentList.Add(baseUrl.TrimEnd('/'));
        start.ArgumentList.Add(ScreenshotDirectory);
        var node = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var browser = new ConsoleBrowser(node);
        node.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (browser._stderr) browser._stderr.AppendLine(e.Data);
        };
        node.BeginErrorReadLine();
        var ready = await browser.ReadLineAsync();
        Assert.True(ready is not null && ready.Contains("\"ready\":true", StringComparison.Ordinal), $"the browser driver did not start: {ready}\n{browser.Stderr}");
        return browser;
    }

    private string Stderr
    {
        get
        {
            lock (_stderr) return _stderr.ToString();
        }
    }

    /// <summary>Runs one step of driver.mjs and returns its result; a failed step fails the test with the driver's error.</summary>
    public async Task<JsonNode?> RunAsync(string action, object? args = null)
    {
        var id = ++_nextId;
        var command = JsonSerializer.Serialize(new { id, action, args = args ?? new { } }, ConsoleServer.Json);
        await _node.StandardInput.WriteLineAsync(command);
        await _node.StandardInput.FlushAsync();
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new InvalidOperationException($"the browser driver exited during {action}: {Stderr}");
            var answer = JsonNode.Parse(line)!.AsObject();
            if (answer["id"]?.GetValue<int>() != id) continue;
            if (answer["ok"]!.GetValue<bool>()) return answer["result"];
            Assert.Fail($"browser step {action} failed: {answer["error"]}\nscreenshot: {answer["screenshot"]}\n{Stderr}");
        }
    }

    public async Task<string> ScreenshotAsync(string name) => (await RunAsync("screenshot", new { name }))!.GetValue<string>();

    private async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        try
        {
            return await _node.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the browser driver gave no answer within {StepTimeout.TotalSeconds} s: {Stderr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _node.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _node.WaitForExitAsync(exit.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            _node.Kill(entireProcessTree: true);
        }
        finally
        {
            _node.Dispose();
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Brook.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException("Brook.slnx not found above the test's directory.");
    }
}
