namespace Brook.Storage;

/// <summary>
/// Wakes every waiter once per signal. Waiters take the current task; <see cref="Signal"/> swaps in a fresh one
/// and completes the old. Lock-free. A waiter that must not miss an append takes the task before checking the
/// log end offset.
/// </summary>
internal sealed class AppendSignal
{
    private TaskCompletionSource _current = NewSource();

    public Task WaitAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _current).Task.WaitAsync(cancellationToken);

    public void Signal() => Interlocked.Exchange(ref _current, NewSource()).TrySetResult();

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
