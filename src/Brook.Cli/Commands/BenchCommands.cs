using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Brook.Admin.Bench;

namespace Brook.Cli.Commands;

/// <summary><c>brook bench produce | consume | e2e</c>: load runs with a throughput and latency report, also as JSON.</summary>
internal static class BenchCommands
{
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    public static Command Create(CommandFactory commands) => CommandFactory.Group("bench",
        "Measure throughput and latency with a real client (like Kafka's perf tests); works against any Kafka cluster",
        Produce(commands), Consume(commands), EndToEnd(commands));

    private sealed class LimitOptions
    {
        public Option<long?> Count { get; } = new("--count", "-n") { Description = "Messages to send or read (default 1000000 unless --duration is given)" };

        public Option<TimeSpan?> Duration { get; } = new("--duration", "-d")
        {
            Description = "Run this long (like 30s); with --count, whichever comes first",
            CustomParser = r => GlobalOptions.Parse<TimeSpan?>(r, t => Values.Duration(t)),
        };

        public Option<string[]> Properties { get; } = Shared.ConfigOption("--property", "A client property name=value (librdkafka names); repeat for more");

        public Option<bool> Json { get; } = new("--json") { Description = "Print the report as one JSON object" };

        public IEnumerable<Symbol> Symbols => [Count, Duration, Properties, Json];

        public BenchLimit Limit(CommandContext ctx)
        {
            var count = ctx.Get(Count);
            var duration = ctx.Get(Duration);
            return count is null && duration is null ? BenchLimit.Count(1_000_000) : new BenchLimit(count, duration);
        }
    }

    private sealed class ProducerOptions
    {
        public Option<int> Size { get; } = new("--size", "-s") { Description = "Bytes of each message value", DefaultValueFactory = _ => 100 };

        public Option<int> Keys { get; } = new("--keys") { Description = "Use this many distinct keys in turn (default: no keys)" };

        public Option<string> Acks { get; } = new("--acks") { Description = "Acknowledgements to wait for: all, 1 or 0", DefaultValueFactory = _ => "all" };

        public Option<double?> Linger { get; } = new("--linger-ms") { Description = "linger.ms of the producers (client default when not given)" };

        public Option<int?> BatchSize { get; } = new("--batch-size") { Description = "batch.size in bytes (client default when not given)" };

        public Option<string?> Compression { get; } = new("--compression") { Description = "none, gzip, snappy, lz4 or zstd" };

        public Option<int?> Partitions { get; } = new("--partitions", "-p") { Description = "Create the topic with N partitions if it does not exist (an existing one must have N)" };

        public Option<int> Producers { get; } = new("--producers") { Description = "Producers sending in parallel, each with its own connection", DefaultValueFactory = _ => 1 };

        public Option<double?> Rate { get; } = new("--rate") { Description = "Messages a second over all producers (default: as fast as possible)" };

        public ProducerOptions()
        {
            Acks.AcceptOnlyFromAmong("all", "-1", "1", "0");
            Compression.AcceptOnlyFromAmong("none", "gzip", "snappy", "lz4", "zstd");
        }

        public IEnumerable<Symbol> Symbols => [Size, Keys, Acks, Linger, BatchSize, Compression, Partitions, Producers, Rate];

        public ProduceBenchOptions Read(CommandContext ctx, string topic, LimitOptions limit) => new(topic, limit.Limit(ctx))
        {
            MessageSize = ctx.Get(Size),
            Keys = ctx.Get(Keys),
            Acks = ctx.Get(Acks)!,
            LingerMs = ctx.Get(Linger),
            BatchSize = ctx.Get(BatchSize),
            Compression = ctx.Get(Compression),
            Partitions = ctx.Get(Partitions),
            Producers = ctx.Get(Producers),
            MessagesPerSecond = ctx.Get(Rate),
            Properties = Properties(ctx, limit),
        };
    }

    private static Command Produce(CommandFactory commands)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to write to" };
        var limit = new LimitOptions();
        var producer = new ProducerOptions();
        return commands.Command("produce", "Produce as fast as allowed; report msg/s, MB/s and produce→ack latency from delivery reports",
            [topic, .. producer.Symbols, .. limit.Symbols], async (ctx, ct) =>
            {
                var options = producer.Read(ctx, ctx.Get(topic), limit);
                var result = await ctx.Admin.Bench.ProduceAsync(options, Progress(ctx), ct).ConfigureAwait(false);
                return Report(ctx, result, ctx.Get(limit.Json));
            });
    }

    private static Command Consume(CommandFactory commands)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to read" };
        var limit = new LimitOptions();
        var group = new Option<string?>("--group", "-g") { Description = "Read in this consumer group; otherwise every partition from the beginning" };
        var idle = new Option<TimeSpan?>("--idle-timeout")
        {
            Description = "Stop when nothing arrived for this long (default 10s)",
            CustomParser = r => GlobalOptions.Parse<TimeSpan?>(r, t => Values.Duration(t)),
        };
        return commands.Command("consume", "Consume as fast as possible; report msg/s and MB/s from the first message to the last",
            [topic, group, idle, .. limit.Symbols], async (ctx, ct) =>
            {
                var options = new ConsumeBenchOptions(ctx.Get(topic), limit.Limit(ctx))
                {
                    GroupId = ctx.Get(group),
                    IdleTimeout = ctx.Get(idle) ?? TimeSpan.FromSeconds(10),
                    Properties = Properties(ctx, limit),
                };
                var result = await ctx.Admin.Bench.ConsumeAsync(options, Progress(ctx), ct).ConfigureAwait(false);
                return Report(ctx, result, ctx.Get(limit.Json));
            });
    }

    private static Command EndToEnd(CommandFactory commands)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to write and read" };
        var limit = new LimitOptions();
        var producer = new ProducerOptions();
        return commands.Command("e2e", "Produce with the send time in each message and consume it in this process; report produce→consume latency",
            [topic, .. producer.Symbols, .. limit.Symbols], async (ctx, ct) =>
            {
                var options = producer.Read(ctx, ctx.Get(topic), limit);
                var result = await ctx.Admin.Bench.EndToEndAsync(options, Progress(ctx), ct).ConfigureAwait(false);
                return Report(ctx, result, ctx.Get(limit.Json));
            });
    }

    private static Dictionary<string, string> Properties(CommandContext ctx, LimitOptions limit)
    {
        try
        {
            return Values.Pairs(ctx.Get(limit.Properties));
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    /// <summary>A line on stderr rewritten in place each second, when a person is watching.</summary>
    private static IProgress<BenchProgress>? Progress(CommandContext ctx)
    {
        if (!ctx.Console.Interactive && !ctx.Console.ErrorInteractive) return null;
        return new InlineProgress(p =>
        {
            var latency = p.LatencyP99Ms is { } l ? string.Create(CultureInfo.InvariantCulture, $"  p99 {l:0.00} ms") : "";
            ctx.Console.Error.Write(string.Create(CultureInfo.InvariantCulture,
                $"\r{p.Elapsed.TotalSeconds,6:0.0} s {p.Messages,12:N0} msg {p.MessagesPerSecond,12:N0} msg/s {p.MegabytesPerSecond,8:0.0} MB/s{latency}\u001b[K"));
        });
    }

    private static int Report(CommandContext ctx, BenchResult result, bool json)
    {
        if (ctx.Console.Interactive || ctx.Console.ErrorInteractive) ctx.Console.Error.WriteLine();
        if (json)
        {
            ctx.Output.Out.WriteLine(JsonSerializer.Serialize(new
            {
                mode = result.Mode,
                topic = result.Topic,
                messages = result.Messages,
                bytes = result.Bytes,
                errors = result.Errors,
                seconds = Math.Round(result.Seconds, 3),
                messagesPerSecond = Math.Round(result.MessagesPerSecond, 1),
                megabytesPerSecond = Math.Round(result.MegabytesPerSecond, 2),
                latencyMs = Rounded(result.Latency),
                ackLatencyMs = Rounded(result.AckLatency),
                firstError = result.FirstError,
                settings = result.Settings,
            }, JsonOptions));
        }
        else
        {
            var rows = new List<(string, object?)>
            {
                ("mode", result.Mode),
                ("topic", result.Topic),
                ("messages", result.Messages),
                ("bytes", result.Bytes),
                ("errors", result.Errors),
                ("seconds", Math.Round(result.Seconds, 3)),
                ("msg/s", Math.Round(result.MessagesPerSecond)),
                ("MB/s", Math.Round(result.MegabytesPerSecond, 2)),
            };
            var latencyName = result.Mode == "e2e" ? "e2e latency ms" : "ack latency ms";
            if (result.Latency is { } latency) rows.Add((latencyName, Describe(latency)));
            if (result.AckLatency is { } ack) rows.Add(("ack latency ms", Describe(ack)));
            if (result.FirstError is { } error) rows.Add(("first error", error));
            ctx.Output.Properties(rows);
        }
        if (result.Errors > 0)
        {
            ctx.Output.Note($"{result.Errors} message(s) failed: {result.FirstError}");
            return ExitCodes.Error;
        }
        return ExitCodes.Ok;
    }

    private static string Describe(LatencySummary l) =>
        string.Create(CultureInfo.InvariantCulture, $"p50 {l.P50:0.###} p99 {l.P99:0.###} p99.9 {l.P999:0.###} max {l.Max:0.###} mean {l.Mean:0.###}");

    private static object? Rounded(LatencySummary? l) => l is null ? null : new
    {
        count = l.Count,
        mean = Math.Round(l.Mean, 3),
        p50 = Math.Round(l.P50, 3),
        p99 = Math.Round(l.P99, 3),
        p999 = Math.Round(l.P999, 3),
        max = Math.Round(l.Max, 3),
    };

    private sealed class InlineProgress(Action<BenchProgress> report) : IProgress<BenchProgress>
    {
        public void Report(BenchProgress value) => report(value);
    }
}
