using System.Buffers.Binary;
using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Brook.Protocol;
using Brook.Protocol.Messages;

namespace Brook.Fuzz;

public sealed class FuzzOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    public long MaxExecutions { get; init; } = long.MaxValue;

    public int Seed { get; init; } = Environment.TickCount;

    /// <summary>Where inputs that found something are written (with a .txt describing it); null keeps them in memory only.</summary>
    public string? FindingsDirectory { get; init; }

    /// <summary>Inputs waiting (long polls, joins) at once; the loop keeps mutating while they wait.</summary>
    public int MaxInFlight { get; init; } = 64;

    /// <summary>Each input's cancellation fires after this, as when its connection closes; the handler must then finish.</summary>
    public TimeSpan CancelAfter { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>An input not finished this long after it started is a hang.</summary>
    public TimeSpan InputDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most bytes one input may allocate on the handling thread (decode and the synchronous part of the handler). A
    /// compressed batch may legitimately inflate to 64 MiB (the produce path's bound), so the limit sits above that.
    /// </summary>
    public long MaxAllocatedBytesPerInput { get; init; } = 200L << 20;

    /// <summary>Managed heap after a full collection above this is a finding (state growing without bound).</summary>
    public long MaxHeapBytes { get; init; } = 1L << 30;

    /// <summary>A fresh broker every this many inputs, so accumulated topics and records do not slow the run.</summary>
    public long RecycleEvery { get; init; } = 100_000;

    public Action<string>? Log { get; init; }
}

public sealed record FuzzFinding(string Kind, string Api, short Version, string Detail, byte[] Input, string? SavedPath);

public sealed class FuzzReport
{
    public long Executions { get; set; }

    public TimeSpan Elapsed { get; set; }

    public double ExecutionsPerSecond => Executions / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>ok (answered), closed (ProtocolException: the connection would close), no-response, cancelled.</summary>
    public Dictionary<string, long> Outcomes { get; } = new(StringComparer.Ordinal);

    /// <summary>Inputs by API name (as the header claimed; "?" when it named no API the broker serves).</summary>
    public Dictionary<string, long> ByApi { get; } = new(StringComparer.Ordinal);

    public int Seeds { get; set; }

    public int CorpusSize { get; set; }

    public long CanaryChecks { get; set; }

    public long LargestAllocation { get; set; }

    public long PeakHeapBytes { get; set; }

    public int BrokersStarted { get; set; }

    public List<FuzzFinding> Findings { get; } = [];

    public string Summary() =>
        $"{Executions:N0} executions in {Elapsed.TotalSeconds:F1} s ({ExecutionsPerSecond:N0}/s) over {ByApi.Count} APIs; " +
        string.Join(", ", Outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value:N0}")) +
        $"; {Seeds} seeds, corpus {CorpusSize}; {CanaryChecks:N0} canary checks; largest allocation per input {LargestAllocation / 1024.0 / 1024.0:F1} MiB; " +
        $"peak heap {PeakHeapBytes / 1024.0 / 1024.0:F0} MiB; {BrokersStarted} brokers; {Findings.Count} findings";
}

/// <summary>
/// Mutational fuzzer of the request path. Each input is a mutated seed or corpus entry handed to the real dispatcher.
/// Checks per input: no exception other than <see cref="ProtocolException"/> (which closes the connection) or a
/// cancellation; finished within <see cref="FuzzOptions.InputDeadline"/> (it is cancelled, as by a closing connection,
/// after <see cref="FuzzOptions.CancelAfter"/>); bounded allocation; the response frame well formed and carrying the
/// request's correlation id. After any input that would close its connection the broker must still answer ApiVersions,
/// and a produce/fetch canary runs every thousand inputs. Inputs that reach a new outcome (API, version, outcome,
/// error codes or decode failure) join the corpus: a cheap stand-in for coverage guidance.
/// </summary>
public sealed partial class Fuzzer
{
    private const int MaxCorpus = 20_000;
    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> PropertiesByType = new();

    private readonly FuzzOptions _options;
    private readonly Random _random;
    private Mutator _mutator = null!;
    private int _seedCount;
    private readonly List<byte[]> _corpus = [];
    private readonly HashSet<string> _signatures = new(StringComparer.Ordinal);
    private readonly HashSet<string> _findingKeys = new(StringComparer.Ordinal);
    private readonly FuzzReport _report = new();
    private readonly Stopwatch _clock = new();
    private readonly Dictionary<short, ApiDescriptor> _descriptors = ApiCatalog.All.ToDictionary(a => a.Key);
    private long _syncStartedAt; // Stopwatch timestamp while an input runs synchronously on the loop, else 0
    private byte[]? _syncInput;

    public Fuzzer(FuzzOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
    }

    public static Task<FuzzReport> RunAsync(FuzzOptions options) => new Fuzzer(options).RunAsync();

    /// <summary>Replays saved inputs once each (no mutation); any finding means a regression.</summary>
    public static Task<FuzzReport> ReplayAsync(IEnumerable<byte[]> inputs, FuzzOptions? options = null)
    {
        var fuzzer = new Fuzzer(options ?? new FuzzOptions());
        return fuzzer.GuardAsync(async () =>
        {
            var target = await FuzzTarget.StartAsync([SeedCorpus.Name, .. CapturedTopics()]).ConfigureAwait(false);
            fuzzer._report.BrokersStarted++;
            var inFlight = new List<InFlight>();
            foreach (var input in inputs) await fuzzer.ExecuteAsync(target, input, inFlight, isSeed: false).ConfigureAwait(false);
            await fuzzer.DrainAsync(target, inFlight).ConfigureAwait(false);
            return target;
        });
    }

    private Task<FuzzReport> RunAsync() => GuardAsync(async () =>
    {
        var target = await FuzzTarget.StartAsync([SeedCorpus.Name, .. CapturedTopics()]).ConfigureAwait(false);
        _report.BrokersStarted++;
        var seeds = SeedCorpus.Load(target.Apis);
        _mutator = new Mutator(_random, target.Apis);
        _report.Seeds = _seedCount = seeds.Count;
        _corpus.AddRange(seeds.Select(s => s.Frame));
        return await LoopAsync(target, seeds).ConfigureAwait(false);
    });

    /// <summary>
    /// Runs <paramref name="loop"/> off the caller's thread under a watchdog: an input stuck in synchronous code cannot
    /// report itself, so the watchdog records the hang and the run ends without waiting for the stuck thread.
    /// </summary>
    private async Task<FuzzReport> GuardAsync(Func<Task<FuzzTarget>> loop)
    {
        _clock.Restart();
        using var stuck = new CancellationTokenSource();
        using var watchdog = new Timer(_ => CheckStuck(stuck), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        var running = Task.Run(loop);
        var finished = await Task.WhenAny(running, Task.Delay(Timeout.Infinite, stuck.Token).ContinueWith(_ => { }, TaskScheduler.Default)).ConfigureAwait(false);
        if (finished == running) await (await running.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        else _options.Log?.Invoke("the fuzz loop is stuck in one input; stopping without it");
        _report.Elapsed = _clock.Elapsed;
        _report.CorpusSize = _corpus.Count;
        return _report;
    }

    private async Task<FuzzTarget> LoopAsync(FuzzTarget target, List<Seed> seeds)
    {
        var clock = _clock;
        var inFlight = new List<InFlight>();
        var lastLog = clock.Elapsed;
        // Every seed runs once unmutated first: what real clients send must work.
        foreach (var seed in seeds) await ExecuteAsync(target, seed.Frame, inFlight, isSeed: true).ConfigureAwait(false);
        while (clock.Elapsed < _options.Duration && _report.Executions < _options.MaxExecutions && _syncInput is null)
        {
            // The seeds (real clients' shapes) stay a third of the parents however large the corpus grows.
            var parent = _corpus[_random.Next(3) == 0 ? _random.Next(_seedCount) : _random.Next(_corpus.Count)];
            var input = _mutator.Mutate(parent, _corpus);
            await ExecuteAsync(target, input, inFlight, isSeed: false).ConfigureAwait(false);
            if (_report.Executions % 1000 == 0) await PeriodicChecksAsync(target).ConfigureAwait(false);
            if (_report.Executions % _options.RecycleEvery == 0)
            {
                await DrainAsync(target, inFlight).ConfigureAwait(false);
                await target.DisposeAsync().ConfigureAwait(false);
                target = await FuzzTarget.StartAsync([SeedCorpus.Name, .. CapturedTopics()]).ConfigureAwait(false);
                _report.BrokersStarted++;
            }
            if (clock.Elapsed - lastLog > TimeSpan.FromSeconds(10))
            {
                lastLog = clock.Elapsed;
                _report.Elapsed = clock.Elapsed;
                _report.CorpusSize = _corpus.Count;
                _options.Log?.Invoke(_report.Summary());
            }
        }
        await DrainAsync(target, inFlight).ConfigureAwait(false);
        await PeriodicChecksAsync(target).ConfigureAwait(false);
        return target;
    }

    private async Task ExecuteAsync(FuzzTarget target, byte[] input, List<InFlight> inFlight, bool isSeed)
    {
        _report.Executions++;
        var (apiKey, version) = input.Length >= 4 ? (BinaryPrimitives.ReadInt16BigEndian(input), BinaryPrimitives.ReadInt16BigEndian(input.AsSpan(2))) : ((short)-1, (short)-1);
        Count(_report.ByApi, _descriptors.TryGetValue(apiKey, out var descriptor) ? descriptor.Name : "?");
        var writer = new ProtocolWriter(512);
        var cancel = new CancellationTokenSource(_options.CancelAfter);
        // The dispatcher may keep views of the frame, so it gets its own copy; the input stays pristine for saving.
        var frame = input.ToArray();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        _syncInput = input;
        Volatile.Write(ref _syncStartedAt, Stopwatch.GetTimestamp());
        ValueTask<bool> pending;
        try
        {
            pending = target.DispatchAsync(frame, writer, cancel.Token);
        }
        catch (Exception e)
        {
            pending = ValueTask.FromException<bool>(e);
        }
        Volatile.Write(ref _syncStartedAt, 0);
        _syncInput = null;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        _report.LargestAllocation = Math.Max(_report.LargestAllocation, allocated);
        if (allocated > _options.MaxAllocatedBytesPerInput)
            Report("allocation", apiKey, version, $"{allocated / 1024 / 1024} MiB allocated handling one {input.Length}-byte frame", input);

        var running = new InFlight(input, apiKey, version, pending.AsTask(), writer, cancel, Stopwatch.GetTimestamp(), isSeed);
        if (running.Task.IsCompleted) await CompleteAsync(target, running).ConfigureAwait(false);
        else inFlight.Add(running);
        while (inFlight.Count >= _options.MaxInFlight) await HarvestAsync(target, inFlight, waitForOne: true).ConfigureAwait(false);
        if (inFlight.Count > 0 && _report.Executions % 64 == 0) await HarvestAsync(target, inFlight, waitForOne: false).ConfigureAwait(false);
    }

    private async Task HarvestAsync(FuzzTarget target, List<InFlight> inFlight, bool waitForOne)
    {
        if (waitForOne)
        {
            var oldest = inFlight.Min(f => f.Started);
            var left = _options.InputDeadline - Stopwatch.GetElapsedTime(oldest);
            if (left > TimeSpan.Zero) await Task.WhenAny(Task.WhenAny(inFlight.Select(f => f.Task)), Task.Delay(left)).ConfigureAwait(false);
        }
        for (var i = inFlight.Count - 1; i >= 0; i--)
        {
            var running = inFlight[i];
            if (running.Task.IsCompleted)
            {
                inFlight.RemoveAt(i);
                await CompleteAsync(target, running).ConfigureAwait(false);
            }
            else if (Stopwatch.GetElapsedTime(running.Started) > _options.InputDeadline)
            {
                inFlight.RemoveAt(i);
                Report("hang", running.ApiKey, running.Version, $"not finished {_options.InputDeadline.TotalSeconds} s after it started (cancelled after {_options.CancelAfter.TotalMilliseconds} ms)", running.Input);
            }
        }
    }

    private async Task DrainAsync(FuzzTarget target, List<InFlight> inFlight)
    {
        while (inFlight.Count > 0) await HarvestAsync(target, inFlight, waitForOne: true).ConfigureAwait(false);
    }

    private async Task CompleteAsync(FuzzTarget target, InFlight running)
    {
        using var writer = running.Writer;
        running.Cancel.Dispose();
        string outcome;
        string signature;
        var closesConnection = false;
        if (running.Task.IsCompletedSuccessfully)
        {
            if (!running.Task.Result)
            {
                outcome = "no-response";
                signature = outcome;
            }
            else
            {
                outcome = "ok";
                signature = "ok " + CheckResponse(running, writer.WrittenMemory);
            }
        }
        else
        {
            var error = running.Task.Exception?.GetBaseException() ?? new OperationCanceledException();
            switch (error)
            {
                case ProtocolException protocol:
                    outcome = "closed";
                    closesConnection = true;
                    signature = "closed " + Digits().Replace(protocol.Message, "#");
                    break;
                case OperationCanceledException:
                    outcome = "cancelled";
                    signature = outcome;
                    break;
                default:
                    outcome = "crash";
                    closesConnection = true;
                    signature = "crash " + error.GetType().Name;
                    Report("crash", running.ApiKey, running.Version, $"{error.GetType().FullName}: {error.Message}\n{error.StackTrace}", running.Input);
                    break;
            }
        }
        Count(_report.Outcomes, outcome);
        // Inputs refused at the header (unknown API or version) teach nothing new about a decoder or handler.
        var served = _descriptors.TryGetValue(running.ApiKey, out var descriptor) && descriptor.Supports(running.Version);
        if (_signatures.Add($"{running.ApiKey}/{running.Version} {signature}") && !running.IsSeed && served && _corpus.Count < MaxCorpus) _corpus.Add(running.Input);
        if (closesConnection)
        {
            _report.CanaryChecks++;
            if (await target.CheckApiVersionsAsync().ConfigureAwait(false) is { } failure)
                Report("canary", running.ApiKey, running.Version, "after this input: " + failure, running.Input);
        }
    }

    /// <summary>Checks the response frame (size prefix, correlation id, decodes) and returns its error codes as a signature.</summary>
    private string CheckResponse(InFlight running, ReadOnlyMemory<byte> response)
    {
        if (response.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(response.Span) != response.Length - 4)
        {
            Report("bad-response", running.ApiKey, running.Version, $"response frame of {response.Length} bytes has size prefix {(response.Length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(response.Span) : -1)}", running.Input);
            return "bad";
        }
        var correlationId = BinaryPrimitives.ReadInt32BigEndian(running.Input.AsSpan(4));
        if (BinaryPrimitives.ReadInt32BigEndian(response.Span[4..]) != correlationId)
        {
            Report("bad-response", running.ApiKey, running.Version, "response carries another correlation id", running.Input);
            return "bad";
        }
        if (!_descriptors.TryGetValue(running.ApiKey, out var descriptor)) return "?";
        // ApiVersions answers an unsupported version with v0.
        var version = running.ApiKey == ApiKeys.ApiVersions && !descriptor.Supports(running.Version) ? (short)0 : running.Version;
        try
        {
            var reader = new ProtocolReader(response[4..]);
            new ResponseHeader().Read(ref reader, descriptor.ResponseHeaderVersion(version));
            var message = descriptor.NewResponse();
            message.Read(ref reader, version);
            var codes = new SortedSet<short>();
            CollectErrorCodes(message, codes, 0);
            return string.Join(",", codes);
        }
        catch (ProtocolException e)
        {
            Report("bad-response", running.ApiKey, running.Version, $"response does not decode at v{version}: {e.Message}", running.Input);
            return "bad";
        }
    }

    private static void CollectErrorCodes(object message, SortedSet<short> codes, int depth)
    {
        if (depth > 6) return;
        foreach (var property in PropertiesByType.GetOrAdd(message.GetType(), t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance)))
        {
            if (property.Name == "UnknownTaggedFields" || property.GetIndexParameters().Length > 0) continue;
            if (property.PropertyType == typeof(short) && property.Name.EndsWith("ErrorCode", StringComparison.Ordinal)) codes.Add((short)property.GetValue(message)!);
            else if (typeof(IProtocolStruct).IsAssignableFrom(property.PropertyType) && property.GetValue(message) is { } child) CollectErrorCodes(child, codes, depth + 1);
            else if (property.PropertyType.IsGenericType && property.GetValue(message) is IList list)
            {
                foreach (var item in list)
                {
                    if (item is IProtocolStruct) CollectErrorCodes(item, codes, depth + 1);
                }
            }
        }
    }

    private async Task PeriodicChecksAsync(FuzzTarget target)
    {
        _report.CanaryChecks++;
        if (await target.CheckProduceFetchAsync().ConfigureAwait(false) is { } failure) Report("canary", -1, -1, failure, []);
        var heap = GC.GetTotalMemory(forceFullCollection: false);
        if (heap > _options.MaxHeapBytes) heap = GC.GetTotalMemory(forceFullCollection: true);
        _report.PeakHeapBytes = Math.Max(_report.PeakHeapBytes, heap);
        if (heap > _options.MaxHeapBytes) Report("memory", -1, -1, $"managed heap is {heap / 1024 / 1024} MiB after a full collection", []);
    }

    /// <summary>Runs on a timer: an input that has run synchronously on the loop for too long is a hang the loop cannot report itself.</summary>
    private void CheckStuck(CancellationTokenSource stuck)
    {
        var started = Volatile.Read(ref _syncStartedAt);
        if (started == 0 || Stopwatch.GetElapsedTime(started) < _options.InputDeadline || stuck.IsCancellationRequested) return;
        var input = _syncInput ?? [];
        var (apiKey, version) = input.Length >= 4 ? (BinaryPrimitives.ReadInt16BigEndian(input), BinaryPrimitives.ReadInt16BigEndian(input.AsSpan(2))) : ((short)-1, (short)-1);
        lock (_report) Report("hang", apiKey, version, $"stuck in synchronous code for {_options.InputDeadline.TotalSeconds} s", input);
        stuck.Cancel();
    }

    private void Report(string kind, short apiKey, short version, string detail, byte[] input)
    {
        var api = _descriptors.TryGetValue(apiKey, out var descriptor) ? descriptor.Name : $"key{apiKey}";
        // One finding per kind, API and first line of the detail with numbers masked: the same bug is not reported a thousand times.
        var key = $"{kind} {api} {Digits().Replace(detail.Split('\n')[0], "#")}";
        if (!_findingKeys.Add(key)) return;
        string? saved = null;
        if (_options.FindingsDirectory is { } directory && input.Length > 0)
        {
            Directory.CreateDirectory(directory);
            var hash = Convert.ToHexString(SHA256.HashData(input))[..12].ToLowerInvariant();
            saved = Path.Combine(directory, $"{kind}-{api}-v{version}-{hash}.bin");
            File.WriteAllBytes(saved, input);
            File.WriteAllText(Path.ChangeExtension(saved, ".txt"), $"{kind} in {api} v{version}\n{detail}\n");
        }
        _report.Findings.Add(new FuzzFinding(kind, api, version, detail, input, saved));
        _options.Log?.Invoke($"FINDING {kind} in {api} v{version}: {detail.Split('\n')[0]}{(saved is null ? "" : $" (saved {saved})")}");
    }

    private static void Count(Dictionary<string, long> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    /// <summary>Topic names the captured frames use, so that their produce and fetch requests reach real partitions.</summary>
    private static IEnumerable<string> CapturedTopics() =>
        ["captured-kcat-none", "captured-kcat-gzip", "captured-kcat-snappy", "captured-kcat-lz4", "captured-kcat-zstd",
         "captured-confluent-none", "captured-confluent-gzip", "captured-confluent-snappy", "captured-confluent-lz4", "captured-confluent-zstd",
         "captured-kafkajs", "captured-kafkapython-none", "captured-kafkapython-gzip", "captured-kafkapython-snappy", "captured-kafkapython-lz4", "captured-kafkapython-zstd"];

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Digits();

    private sealed record InFlight(byte[] Input, short ApiKey, short Version, Task<bool> Task, ProtocolWriter Writer, CancellationTokenSource Cancel, long Started, bool IsSeed);
}
