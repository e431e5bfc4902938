using Brook.Storage;
using Microsoft.Extensions.Hosting;

namespace Brook.Broker;

/// <summary>
/// Gives memory back to the OS once a burst of load is over. The GC only runs when the process allocates, so after a
/// burst the heap and the pools' buffers stay committed while the broker idles. Once the allocation rate has stayed low
/// for a few checks after enough was allocated since the last trim (<see cref="IdleTrimPolicy"/>), one aggressive
/// collection runs after <see cref="LargeBuffers"/> lets go of its arrays: compacting and decommitting free memory. The pause
/// falls in a quiet time by construction. A process-wide choice, so the server adds it; an embedded broker does not.
/// </summary>
public sealed class IdleMemoryTrimmer(TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>Aggressive collections run so far (for tests and diagnostics).</summary>
    public int Trims { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var policy = new IdleTrimPolicy(GC.GetTotalAllocatedBytes());
        using var timer = new PeriodicTimer(CheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                if (!policy.ShouldTrim(GC.GetTotalAllocatedBytes())) continue;
                LargeBuffers.Trim();
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                Trims++;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>
/// When to trim, from the process's total allocated bytes sampled once per check: after a burst (a check that saw at
/// least <see cref="QuietBytesPerCheck"/>) that brought at least <see cref="TrimAfterBytes"/> since the last trim, once
/// <see cref="QuietChecks"/> checks in a row saw less. A light steady load (heartbeats, metadata refreshes, a slow
/// producer) never trims, so its latency never meets the collection's pause; a broker at 10k msg/s allocates over 1 MiB
/// a second, so quiet means idle.
/// </summary>
internal sealed class IdleTrimPolicy(long allocatedAtStart)
{
    internal const long TrimAfterBytes = 16L * 1024 * 1024;
    internal const long QuietBytesPerCheck = 256 * 1024;
    internal const int QuietChecks = 3;

    private long _lastAllocated = allocatedAtStart;
    private long _allocatedAtLastTrim = allocatedAtStart;
    private bool _busySinceTrim;
    private int _quiet;

    public bool ShouldTrim(long totalAllocated)
    {
        var sinceLastCheck = totalAllocated - _lastAllocated;
        _lastAllocated = totalAllocated;
        if (sinceLastCheck >= QuietBytesPerCheck)
        {
            _busySinceTrim = true;
            _quiet = 0;
            return false;
        }
        _quiet++;
        if (!_busySinceTrim || _quiet < QuietChecks || totalAllocated - _allocatedAtLastTrim < TrimAfterBytes) return false;
        _allocatedAtLastTrim = totalAllocated;
        _busySinceTrim = false;
        return true;
    }
}
