using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Brook.Broker;

/// <summary>
/// Hosts a coordinator: loads its state at start, then runs its periodic check on a timer of the broker's clock until
/// the broker stops. A failed check is logged and tried again on the next tick.
/// </summary>
public abstract partial class CoordinatorService(TimeProvider time, ILogger logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <summary>How often <see cref="CheckAsync"/> runs.</summary>
    protected abstract TimeSpan CheckInterval { get; }

    /// <summary>What the check looks for, for the log line when it fails ("group timeouts").</summary>
    protected abstract string CheckName { get; }

    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    protected abstract Task CheckAsync(CancellationToken cancellationToken);

    /// <summary>Runs once the periodic check has stopped.</summary>
    protected virtual void OnStopped()
    {
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken).ConfigureAwait(false);
        _loop = RunAsync(_stopping.Token);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await CheckAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogCheckFailed(logger, CheckName, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        OnStopped();
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking {Check} failed")]
    private static partial void LogCheckFailed(ILogger logger, string check, Exception exception);
}
