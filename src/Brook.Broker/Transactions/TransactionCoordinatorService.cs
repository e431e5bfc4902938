using Microsoft.Extensions.Logging;

namespace Brook.Broker.Transactions;

/// <summary>
/// Loads the transaction coordinator at start (after the group coordinator, whose pending offsets it may complete) and
/// aborts timed-out transactions on a periodic timer of the broker's clock.
/// </summary>
public sealed class TransactionCoordinatorService(TransactionCoordinator coordinator, TimeProvider time, ILogger<TransactionCoordinatorService> logger)
    : CoordinatorService(time, logger)
{
    protected override TimeSpan CheckInterval => coordinator.CheckInterval;

    protected override string CheckName => "transaction timeouts";

    protected override Task LoadAsync(CancellationToken cancellationToken) => coordinator.LoadAsync(cancellationToken);

    protected override Task CheckAsync(CancellationToken cancellationToken) => coordinator.CheckTimeoutsAsync(cancellationToken);
}
