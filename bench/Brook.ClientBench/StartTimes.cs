using System.Diagnostics;
using System.Globalization;
using Brook.Broker;

/// <summary>
/// Embedded start time as a test process sees it: the first start pays for JIT, so it is reported apart; the others
/// give the median and the worst. On disk: a new data directory each time, and reopening one that holds topics.
/// </summary>
internal static class StartTimes
{
    public static async Task RunAsync(int runs)
    {
        var root = Path.Combine(Path.GetTempPath(), "brook-start-" + Guid.NewGuid().ToString("N"));
        try
        {
            var first = await StartOnceAsync(new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], InMemory = true });
            // The first start on disk after a warm in-memory one: what a test suite's first disk broker pays (storage code still cold).
            var diskFirst = await StartOnceAsync(new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = Path.Combine(root, "first") });
            var memory = await MeasureAsync(runs, _ => new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], InMemory = true });
            var fresh = await MeasureAsync(runs, i => new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = Path.Combine(root, "new-" + i) });
            var reopenDir = Path.Combine(root, "reopen");
            var reopen = await MeasureAsync(runs, _ => new BrokerOptions { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = reopenDir });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"firstStartMs\": {first:F1}, \"firstDiskStartMs\": {diskFirst:F1}, \"memory\": {Json(memory)}, \"diskNew\": {Json(fresh)}, \"diskReopen\": {Json(reopen)}}}"));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<List<double>> MeasureAsync(int runs, Func<int, BrokerOptions> options)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++) times.Add(await StartOnceAsync(options(i)));
        times.Sort();
        return times;
    }

    private static async Task<double> StartOnceAsync(BrokerOptions options)
    {
        var clock = Stopwatch.StartNew();
        await using var broker = await BrookBroker.StartAsync(options);
        return clock.Elapsed.TotalMilliseconds;
    }

    private static string Json(List<double> sorted) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"medianMs\": {sorted[sorted.Count / 2]:F1}, \"minMs\": {sorted[0]:F1}, \"maxMs\": {sorted[^1]:F1}}}");
}
