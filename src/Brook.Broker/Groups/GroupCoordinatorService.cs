using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Groups;

/// <summary>Loads the coordinator's state at start and fires its timeouts on a periodic timer of the broker's clock.</summary>
public sealed partial class GroupCoordinatorService(GroupCoordinator coordinator, TimeProvider time, ILogger<GroupCoordinatorService> logger) : IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(200);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await coordinator.LoadAsync(cancellationToken).ConfigureAwait(false);
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
                    await coordinator.CheckDeadlinesAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogCheckFailed(ex);
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
        coordinator.FailAllWaiters();
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking group timeouts failed")]
    private partial void LogCheckFailed(Exception exception);
}
