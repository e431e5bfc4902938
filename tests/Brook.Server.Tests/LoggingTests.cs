using System.Text.Json;
using System.Text.RegularExpressions;

namespace Brook.Server.Tests;

/// <summary>The server's log: JSON lines on request, and levels set globally and per category.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task Log_format_json_writes_one_json_object_per_line()
    {
        using var dir = new TempDirectory();
        await using var server = ServerProcess.Start(dir.Path, "--data-dir", Path.Combine(dir.Path, "data"), "--listeners", "PLAINTEXT://127.0.0.1:0",
            "--http", "none", "--log-format", "json");
        await server.WaitForOutputAsync(new Regex("Brook started"));
        var lines = server.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        var entries = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        var started = Assert.Single(entries, e => e.GetProperty("Message").GetString()!.StartsWith("Brook started", StringComparison.Ordinal));
        Assert.Equal("Brook.Server", started.GetProperty("Category").GetString());
        Assert.Equal("Information", started.GetProperty("LogLevel").GetString());
        Assert.True(started.TryGetProperty("Timestamp", out _));
        Assert.Contains(entries, e => e.GetProperty("Category").GetString() == "Brook.Storage.Recovery");
    }

    [Fact]
    public async Task The_log_level_applies_globally_and_per_category()
    {
        using var dir = new TempDirectory();
        await using var server = ServerProcess.Start(dir.Path, "--data-dir", Path.Combine(dir.Path, "data"), "--listeners", "PLAINTEXT://127.0.0.1:0",
            "--http", "none", "--log-level", "warn", "--override", "logging.level.Brook.Server=info");
        await server.WaitForOutputAsync(new Regex("Brook started"));
        // At warn, recovery's informational summary (logged before the start line) is left out.
        Assert.DoesNotContain("recovery:", server.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_log_level_is_refused_at_start()
    {
        using var dir = new TempDirectory();
        await using var server = await ServerProcess.RunToExitAsync(dir.Path, "--log-level", "loud");
        Assert.Equal(2, server.ExitCode);
        Assert.Contains("logging.level must be one of", server.Stderr, StringComparison.Ordinal);
    }
}
