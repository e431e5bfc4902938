using Microsoft.Extensions.Logging;

namespace Brook.Broker.Groups;

/// <summary>Loads the coordinator's state at start and fires its timeouts on a periodic timer of the broker's clock.</summary>
public sealed class GroupCoordinatorService(GroupCoordinator coordinator, TimeProvider time, ILogger<GroupCoordinatorService> logger)
    : CoordinatorService(time, logger)
{
    protected override TimeSpan CheckInterval { get; } = TimeSpan.FromMilliseconds(200);

    protected override string CheckName => "group timeouts";

    protected override Task LoadAsync(CancellationToken cancellationToken) => coordinator.LoadAsync(cancellationToken);

    protected override Task CheckAsync(CancellationToken cancellationToken) => coordinator.CheckDeadlinesAsync(cancellationToken);

    /// <summary>Requests still waiting (joins, long syncs) are answered rather than left to the client's timeout.</summary>
    protected override void OnStopped() => coordinator.FailAllWaiters();
}
