using System.Globalization;
using Brook.Fuzz;

// A development tool, not shipped: mutational fuzzing of the broker's request path (scripts/fuzz.sh runs it).
// Usage: brook-fuzz [--seconds N] [--execs N] [--seed N] [--findings DIR] [--replay DIR]
var values = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2) values[args[i].TrimStart('-')] = args[i + 1];
if (args.Length % 2 != 0 || values.Keys.Any(k => k is not ("seconds" or "execs" or "seed" or "findings" or "replay")))
{
    Console.Error.WriteLine("usage: brook-fuzz [--seconds N] [--execs N] [--seed N] [--findings DIR] [--replay DIR]");
    return 2;
}
long Number(string name, long fallback) => values.TryGetValue(name, out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;

FuzzReport report;
if (values.TryGetValue("replay", out var replay))
{
    var files = Directory.EnumerateFiles(replay, "*.bin").Order(StringComparer.Ordinal).ToList();
    report = await Fuzzer.ReplayAsync(files.Select(File.ReadAllBytes));
    Console.WriteLine($"replayed {files.Count} inputs from {replay}");
}
else
{
    var seed = (int)Number("seed", Environment.TickCount);
    Console.WriteLine($"seed {seed}");
    report = await Fuzzer.RunAsync(new FuzzOptions
    {
        Duration = TimeSpan.FromSeconds(Number("seconds", 60)),
        MaxExecutions = Number("execs", long.MaxValue),
        Seed = seed,
        FindingsDirectory = values.GetValueOrDefault("findings", "fuzz-findings"),
        Log = line => Console.WriteLine($"  {line}"),
    });
}
Console.WriteLine(report.Summary());
Console.WriteLine("by API: " + string.Join(", ", report.ByApi.OrderByDescending(a => a.Value).Select(a => $"{a.Key} {a.Value:N0}")));
foreach (var finding in report.Findings) Console.WriteLine($"FINDING {finding.Kind} in {finding.Api} v{finding.Version}: {finding.Detail}");
return report.Findings.Count == 0 ? 0 : 1;
