using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Transactions;

/// <summary>
/// Loads the transaction coordinator at start (after the group coordinator, whose pending offsets it may complete) and
/// aborts timed-out transactions on a periodic timer of the broker's clock.
/// </summary>
public sealed partial class TransactionCoordinatorService(TransactionCoordinator coordinator, TimeProvider time, ILogger<TransactionCoordinatorService> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await coordinator.LoadAsync(cancellationToken).ConfigureAwait(false);
        _loop = RunAsync(_stopping.Token);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(coordinator.CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await coordinator.CheckTimeoutsAsync(cancellationToken).ConfigureAwait(false);
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
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Checking transaction timeouts failed")]
    private partial void LogCheckFailed(Exception exception);
}
