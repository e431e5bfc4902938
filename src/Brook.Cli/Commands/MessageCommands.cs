using System.CommandLine;
using System.Globalization;
using System.Runtime.CompilerServices;
using Brook.Admin;
using Spectre.Console;

namespace Brook.Cli.Commands;

internal static class MessageCommands
{
    public static Command CreateProduce(CommandFactory commands)
    {
        var topic = new Argument<string>("topic") { Description = "The topic to write to" };
        var keySeparator = new Option<string?>("--key-separator", "-K") { Description = "Split each line at the first SEP into key and value (every line must have it)" };
        var headers = new Option<string[]>("--header", "-H") { Description = "A header key=value added to every message; repeat for more", AllowMultipleArgumentsPerToken = false };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Read lines from FILE instead of stdin (with a progress bar on a terminal)" };
        var rate = new Option<double?>("--rate") { Description = "Send at most N messages a second" };
        var acks = new Option<string>("--acks")
        {
            Description = "Acknowledgements to wait for: all, 1 or 0",
            DefaultValueFactory = _ => "all",
        };
        acks.AcceptOnlyFromAmong("all", "-1", "1", "0");
        var partition = new Option<int?>("--partition", "-p") { Description = "Write every message to this partition (default: by key)" };
        var compression = new Option<string?>("--compression") { Description = "none, gzip, snappy, lz4 or zstd" };
        compression.AcceptOnlyFromAmong("none", "gzip", "snappy", "lz4", "zstd");
        return commands.Command("produce", "Produce messages, one a line, from stdin or a file",
            [topic, keySeparator, headers, file, rate, acks, partition, compression], async (ctx, ct) =>
            {
                var name = ctx.Get(topic);
                var format = new LineFormat { KeySeparator = ctx.Get(keySeparator), Headers = ParseHeaders(ctx.Get(headers)) };
                var options = new ProduceOptions
                {
                    Acks = ctx.Get(acks)!,
                    Partition = ctx.Get(partition),
                    MessagesPerSecond = ctx.Get(rate),
                    Compression = ctx.Get(compression),
                };
                if (options.MessagesPerSecond is <= 0) throw new UsageException("--rate must be above zero");
                ProduceSummary summary;
                if (ctx.Get(file) is { } input)
                {
                    if (!input.Exists) throw new UsageException($"file '{input.FullName}' does not exist");
                    await using var stream = input.OpenRead();
                    using var reader = new StreamReader(stream);
                    var messages = MessageLines.ReadAsync(reader, format, ct);
                    summary = ctx.Output.Interactive
                        ? await ProduceWithProgressAsync(ctx, name, messages, stream, options, ct).ConfigureAwait(false)
                        : await ctx.Admin.Messages.ProduceAsync(name, messages, options, null, ct).ConfigureAwait(false);
                }
                else
                {
                    summary = await ctx.Admin.Messages.ProduceAsync(name, MessageLines.ReadAsync(ctx.Console.In, format, ct), options, null, ct).ConfigureAwait(false);
                }
                ctx.Output.Note(string.Create(CultureInfo.InvariantCulture,
                    $"produced {summary.Messages} message(s), {summary.Bytes} bytes, to '{name}' in {summary.Elapsed.TotalSeconds:0.00} s"));
                return ExitCodes.Ok;
            });
    }

    public static Command CreateConsume(CommandFactory commands)
    {
        var topics = new Argument<string[]>("topic") { Description = "Topics to read", Arity = ArgumentArity.OneOrMore };
        var group = new Option<string?>("--group", "-g") { Description = "Consume in this group and commit what was read; otherwise read partitions directly" };
        var fromBeginning = new Option<bool>("--from-beginning") { Description = "Start at the oldest message (in a group: when it has no committed offset)" };
        var offset = new Option<long?>("--offset") { Description = "Start at this offset in each partition (no group)" };
        var timestamp = new Option<DateTimeOffset?>("--timestamp")
        {
            Description = "Start at the first message at or after a time: 2024-05-01T12:00:00Z, epoch ms, or -15m (no group)",
            CustomParser = r => GlobalOptions.Parse<DateTimeOffset?>(r, t => Values.DateTime(t)),
        };
        var partitions = new Option<int[]>("--partition", "-p") { Description = "Only this partition; repeat for more (no group)", AllowMultipleArgumentsPerToken = false };
        var format = new Option<string?>("--format")
        {
            Description = "Output template: %k key, %v value, %p partition, %o offset, %t timestamp (ms), %T topic, %h headers, %% percent; \\t and \\n",
        };
        format.Validators.Add(r =>
        {
            var text = r.GetValueOrDefault<string?>();
            if (text is null) return;
            try { MessageFormat.Compile(text); }
            catch (FormatException ex) { r.AddError(ex.Message); }
        });
        var json = new Option<bool>("--json") { Description = "One JSON object a line: topic, partition, offset, timestamp, key, value, headers" };
        var maxMessages = new Option<long?>("--max-messages", "-n") { Description = "Stop after N messages" };
        var idleTimeout = new Option<TimeSpan?>("--idle-timeout")
        {
            Description = "Stop after this long without a new message once caught up (like 5s); default: run until interrupted",
            CustomParser = r => GlobalOptions.Parse<TimeSpan?>(r, t => Values.Duration(t)),
        };
        var command = commands.Command("consume", "Consume messages and print them, one a line",
            [topics, group, fromBeginning, offset, timestamp, partitions, format, json, maxMessages, idleTimeout], async (ctx, ct) =>
            {
                var options = new ConsumeOptions
                {
                    GroupId = ctx.Get(group),
                    Start = ctx.Get(fromBeginning) ? ConsumeStart.Earliest
                        : ctx.Get(offset) is not null ? ConsumeStart.Offset
                        : ctx.Get(timestamp) is not null ? ConsumeStart.Timestamp
                        : ConsumeStart.Latest,
                    Offset = ctx.Get(offset) ?? 0,
                    Time = ctx.Get(timestamp),
                    Partitions = ctx.Get(partitions) is { Length: > 0 } chosen ? chosen : null,
                    MaxMessages = ctx.Get(maxMessages),
                    IdleTimeout = ctx.Get(idleTimeout),
                };
                Func<ConsumedMessage, string> render = ctx.Get(json) ? MessageFormat.Json : MessageFormat.Compile(ctx.Get(format) ?? "%v");
                long count = 0;
                await foreach (var message in ctx.Admin.Messages.ConsumeAsync(ctx.Get(topics), options, ct).ConfigureAwait(false))
                {
                    await ctx.Output.Out.WriteLineAsync(render(message)).ConfigureAwait(false);
                    count++;
                }
                await ctx.Output.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                ctx.Output.Note($"processed {count} message(s)");
                return ExitCodes.Ok;
            });
        command.Validators.Add(r =>
        {
            var starts = new Option[] { fromBeginning, offset, timestamp }.Count(o => r.GetResult(o) is not null);
            if (starts > 1) r.AddError("give at most one of --from-beginning, --offset, --timestamp");
            if (r.GetResult(json) is not null && r.GetResult(format) is not null) r.AddError("give --json or --format, not both");
            if (r.GetResult(group) is not null && (r.GetResult(offset) is not null || r.GetResult(timestamp) is not null || r.GetResult(partitions) is not null))
                r.AddError("--offset, --timestamp and --partition read without a group; in a group the committed offsets decide (see groups reset-offsets)");
        });
        return command;
    }

    private static List<KeyValuePair<string, byte[]?>> ParseHeaders(string[]? texts)
    {
        try
        {
            return Values.Headers(texts);
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message);
        }
    }

    private static async Task<ProduceSummary> ProduceWithProgressAsync(CommandContext ctx, string topic, IAsyncEnumerable<OutgoingMessage> messages,
        Stream stream, ProduceOptions options, CancellationToken cancellationToken)
    {
        ProduceSummary? summary = null;
        await ctx.Output.Ansi.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask($"producing to {Markup.Escape(topic)}", maxValue: Math.Max(1, stream.Length));
                summary = await ctx.Admin.Messages.ProduceAsync(topic, Track(messages, () => task.Value = stream.Position), options, null, cancellationToken)
                    .ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return summary!;
    }

    private static async IAsyncEnumerable<T> Track<T>(IAsyncEnumerable<T> items, Action afterEach, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
            afterEach();
        }
    }
}
