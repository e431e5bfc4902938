using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Tests;

/// <summary>Collects what a broker logs, for tests that check its operational messages.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public sealed record LogLine(string Category, LogLevel Level, string Message);

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    /// <summary>Adds this provider to a broker's logging at Information and above.</summary>
    public void AddTo(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
        builder.Logging.AddProvider(this);
        builder.Logging.SetMinimumLevel(LogLevel.Information);
    }

    /// <summary>Waits for a line matching <paramref name="match"/> (messages may be logged after the request that caused them is answered).</summary>
    public async Task<LogLine> WaitForAsync(Func<LogLine, bool> match, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (_lines.FirstOrDefault(match) is { } line) return line;
            if (DateTime.UtcNow > deadline) Assert.Fail($"No log line {what}. Logged:\n{string.Join("\n", _lines.Select(l => $"{l.Level} {l.Category}: {l.Message}"))}");
            await Task.Delay(10);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture._lines.Enqueue(new LogLine(category, logLevel, formatter(state, exception)));
    }
}
