namespace Brook.Broker.Network;

/// <summary>
/// The memory budget for requests being read and handled (queued.max.request.bytes), shared by every connection. A
/// connection takes a request's size from it as soon as the size prefix arrives, before reading the body, and gives it
/// back once the response is encoded; when the budget is spent it waits, and meanwhile reads nothing more from its
/// socket, so clients are slowed by TCP back-pressure instead of the broker running out of memory. As in Kafka, a
/// request larger than what is left still goes ahead when nothing else is held, so no request size can wait forever.
/// Waiters are served in arrival order. Thread-safe.
/// </summary>
public sealed class RequestMemoryPool(long capacity)
{
    private readonly object _lock = new();
    private readonly LinkedList<(long Bytes, TaskCompletionSource Ready)> _waiters = new();
    private long _used;

    public long Capacity => capacity;

    public long Used
    {
        get
        {
            lock (_lock) return _used;
        }
    }

    /// <summary>Requests waiting for memory now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock) return _waiters.Count;
        }
    }

    public async ValueTask AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        LinkedListNode<(long Bytes, TaskCompletionSource Ready)> node;
        lock (_lock)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                _used += bytes;
                return;
            }
            node = _waiters.AddLast((bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }
        try
        {
            await node.Value.Ready.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _waiters.Remove(node);
                    GrantWaiters();
                    throw;
                }
            }
            // Granted just as it was cancelled: give the memory back.
            Release(bytes);
            throw;
        }
    }

    public void Release(long bytes)
    {
        lock (_lock)
        {
            _used -= bytes;
            GrantWaiters();
        }
    }

    private bool Fits(long bytes) => _used == 0 || _used + bytes <= capacity;

    private void GrantWaiters()
    {
        while (_waiters.First is { } first && Fits(first.Value.Bytes))
        {
            _waiters.RemoveFirst();
            _used += first.Value.Bytes;
            first.Value.Ready.TrySetResult();
        }
    }
}
