using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Brook.Broker;
using Confluent.Kafka;

namespace Brook.Cli.Tests;

public sealed class MessageCommandTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task Produce_sends_stdin_lines_with_keys_and_headers_that_a_consumer_reads_back()
    {
        await Kafka.CreateTopicAsync(_broker, "lines", 2);

        var result = (await Cli.RunWithInputAsync(_broker, "a:1\nb:2\nc:three:parts\n",
            "produce", "lines", "--key-separator", ":", "--header", "source=cli", "--header", "trace=42")).Ok();
        Assert.Contains("produced 3 message(s)", result.Error, StringComparison.Ordinal);

        var read = Kafka.ReadAll(_broker, "lines", 2, 3).OrderBy(r => r.Message.Key, StringComparer.Ordinal).ToList();
        Assert.Equal(["a", "b", "c"], read.Select(r => r.Message.Key));
        Assert.Equal(["1", "2", "three:parts"], read.Select(r => r.Message.Value));
        Assert.All(read, r =>
        {
            Assert.Equal(["source", "trace"], r.Message.Headers.Select(h => h.Key));
            Assert.Equal("cli", Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("source")));
            Assert.Equal("42", Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes("trace")));
        });
    }

    [Fact]
    public async Task Produce_without_a_key_separator_sends_whole_lines_to_the_chosen_partition_with_the_chosen_acks()
    {
        await Kafka.CreateTopicAsync(_broker, "plain", 3);

        (await Cli.RunWithInputAsync(_broker, "one\ntwo: still value\n", "produce", "plain", "--partition", "2", "--acks", "1")).Ok();

        var read = Kafka.ReadAll(_broker, "plain", 3, 2);
        Assert.Equal(["one", "two: still value"], read.Select(r => r.Message.Value));
        Assert.All(read, r => Assert.Equal(2, r.Partition.Value));
        Assert.All(read, r => Assert.Null(r.Message.Key));
    }

    [Fact]
    public async Task Produce_from_a_file_respects_the_rate_limit()
    {
        await Kafka.CreateTopicAsync(_broker, "paced", 1);
        var file = Path.Combine(Path.GetTempPath(), $"brook-cli-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 20).Select(i => $"m{i}"));
        try
        {
            var clock = Stopwatch.StartNew();
            (await Cli.RunAsync(_broker, "produce", "paced", "--file", file, "--rate", "50")).Ok();
            // 20 messages at 50/s: the 20th may leave 19/50 s after the first.
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.38), $"took only {clock.Elapsed}");
        }
        finally
        {
            File.Delete(file);
        }
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m{i}"), Kafka.ReadAll(_broker, "paced", 1, 20).Select(r => r.Message.Value));
    }

    [Fact]
    public async Task Produce_from_a_file_on_a_terminal_shows_progress_and_delivers_every_line()
    {
        await Kafka.CreateTopicAsync(_broker, "progress", 1);
        var file = Path.Combine(Path.GetTempPath(), $"brook-cli-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 500).Select(i => $"key{i}\tvalue{i}"));
        try
        {
            var console = new CliConsole(new StringWriter(), new StringWriter(), new StringReader("")) { Interactive = true, Width = 120 };
            var result = (await Cli.RunAsync(console, "produce", "progress", "--file", file, "--key-separator", "\t", "--bootstrap-server", _broker.BootstrapServers)).Ok();
            Assert.Contains("producing to progress", result.Out, StringComparison.Ordinal);
            Assert.Contains("100%", result.Out, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
        var read = Kafka.ReadAll(_broker, "progress", 1, 500);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"key{i}"), read.Select(r => r.Message.Key));
    }

    [Fact]
    public async Task Produce_rejects_lines_without_the_separator_and_missing_files()
    {
        await Kafka.CreateTopicAsync(_broker, "strict", 1);
        var result = (await Cli.RunWithInputAsync(_broker, "k:v\nnokey\n", "produce", "strict", "-K", ":")).Fails(ExitCodes.Usage);
        Assert.Contains("line 2", result.Error, StringComparison.Ordinal);
        (await Cli.RunAsync(_broker, "produce", "strict", "--file", "/nonexistent/brook.txt")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "produce", "strict", "--acks", "2")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "produce", "strict", "--rate", "0")).Fails(ExitCodes.Usage);
    }

    [Fact]
    public async Task Consume_from_beginning_prints_a_format_template_and_stops_at_max_messages()
    {
        await Kafka.CreateTopicAsync(_broker, "formatted", 1);
        using (var producer = Kafka.Producer(_broker))
        {
            for (var i = 0; i < 5; i++)
            {
                await producer.ProduceAsync("formatted", new Message<string, string>
                {
                    Key = $"k{i}",
                    Value = $"v{i}",
                    Timestamp = new Timestamp(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + i)),
                    Headers = new Headers { { "h", Encoding.UTF8.GetBytes($"x{i}") } },
                });
            }
        }

        var result = (await Cli.RunAsync(_broker, "consume", "formatted", "--from-beginning", "--max-messages", "3",
            "--format", "%T/%p/%o %k=%v @%t [%h] 100%%")).Ok();

        Assert.Equal(
        [
            "formatted/0/0 k0=v0 @1700000000000 [h=x0] 100%",
            "formatted/0/1 k1=v1 @1700000000001 [h=x1] 100%",
            "formatted/0/2 k2=v2 @1700000000002 [h=x2] 100%",
        ], result.Lines);
        Assert.Contains("processed 3 message(s)", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Consume_json_output_parses_with_keys_values_and_headers()
    {
        await Kafka.CreateTopicAsync(_broker, "jsonl", 1);
        (await Cli.RunWithInputAsync(_broker, "id-1|{\"n\":1}\nid-2|tab\there\n", "produce", "jsonl", "-K", "|", "-H", "type=event", "-H", "empty")).Ok();

        var result = (await Cli.RunAsync(_broker, "consume", "jsonl", "--from-beginning", "--json", "--idle-timeout", "1s")).Ok();

        var documents = result.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, documents.Count);
        Assert.Equal("jsonl", documents[0].GetProperty("topic").GetString());
        Assert.Equal(0, documents[0].GetProperty("partition").GetInt32());
        Assert.Equal([0L, 1L], documents.Select(d => d.GetProperty("offset").GetInt64()));
        Assert.Equal(["id-1", "id-2"], documents.Select(d => d.GetProperty("key").GetString()));
        Assert.Equal(["{\"n\":1}", "tab\there"], documents.Select(d => d.GetProperty("value").GetString()));
        var headers = documents[0].GetProperty("headers").EnumerateArray().ToList();
        Assert.Equal(["type", "empty"], headers.Select(h => h.GetProperty("key").GetString()));
        Assert.Equal("event", headers[0].GetProperty("value").GetString());
        Assert.Equal(JsonValueKind.Null, headers[1].GetProperty("value").ValueKind);
        Assert.True(documents[0].GetProperty("timestamp").GetInt64() > 0);
    }

    [Fact]
    public async Task Consume_starts_at_an_offset_or_a_time_in_the_chosen_partitions()
    {
        await Kafka.CreateTopicAsync(_broker, "positioned", 2);
        var start = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        using (var producer = Kafka.Producer(_broker))
        {
            for (var i = 0; i < 6; i++)
            {
                await producer.ProduceAsync(new TopicPartition("positioned", i % 2),
                    new Message<string, string> { Key = "k", Value = $"v{i}", Timestamp = new Timestamp(start.AddSeconds(i)) });
            }
        }

        var fromOffset = (await Cli.RunAsync(_broker, "consume", "positioned", "--partition", "1", "--offset", "1", "--idle-timeout", "1s")).Ok();
        Assert.Equal(["v3", "v5"], fromOffset.Lines);

        var at = start.AddSeconds(3).ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var fromTime = (await Cli.RunAsync(_broker, "consume", "positioned", "--timestamp", at, "--idle-timeout", "1s", "--format", "%v")).Ok();
        Assert.Equal(["v3", "v4", "v5"], fromTime.Lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Consume_without_a_start_reads_only_new_messages()
    {
        await Kafka.CreateTopicAsync(_broker, "tail", 1);
        await Kafka.FillAsync(_broker, "tail", 3);

        var consuming = Cli.RunAsync(_broker, "consume", "tail", "--max-messages", "1", "--timeout", "10s");
        // The consumer starts at the end; produce until it has seen one new message (it may join after the first).
        using var producer = Kafka.Producer(_broker);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!consuming.IsCompleted && DateTime.UtcNow < deadline)
        {
            await producer.ProduceAsync("tail", new Message<string, string> { Value = "fresh" });
            await Task.WhenAny(consuming, Task.Delay(200));
        }
        var result = (await consuming).Ok();
        Assert.Equal(["fresh"], result.Lines);
    }

    [Fact]
    public async Task Consume_in_a_group_commits_what_it_printed_and_resumes_there()
    {
        await Kafka.CreateTopicAsync(_broker, "grouped", 1);
        await Kafka.FillAsync(_broker, "grouped", 5);

        var first = (await Cli.RunAsync(_broker, "consume", "grouped", "--group", "cli-readers", "--from-beginning", "--max-messages", "2")).Ok();
        Assert.Equal(["p0-0", "p0-1"], first.Lines);
        Assert.Equal(2, (await Kafka.CommittedAsync(_broker, "cli-readers", "grouped"))[0]);

        var second = (await Cli.RunAsync(_broker, "consume", "grouped", "--group", "cli-readers", "--idle-timeout", "2s")).Ok();
        Assert.Equal(["p0-2", "p0-3", "p0-4"], second.Lines);
        Assert.Equal(5, (await Kafka.CommittedAsync(_broker, "cli-readers", "grouped"))[0]);
    }

    [Fact]
    public async Task Consume_errors_unknown_topics_and_conflicting_options()
    {
        (await Cli.RunAsync(_broker, "consume", "nowhere", "--from-beginning", "--idle-timeout", "1s")).Fails(ExitCodes.NotFound);
        Assert.Null(_broker.Store.GetTopic("nowhere"));
        await Kafka.CreateTopicAsync(_broker, "opts", 1);
        (await Cli.RunAsync(_broker, "consume", "opts", "--from-beginning", "--offset", "3")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "consume", "opts", "--json", "--format", "%v")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "consume", "opts", "--group", "g", "--offset", "1")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "consume", "opts", "--format", "%q")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "consume", "opts", "--partition", "7", "--idle-timeout", "1s")).Fails(ExitCodes.NotFound);
        (await Cli.RunAsync(_broker, "consume", "opts", "--idle-timeout", "soon")).Fails(ExitCodes.Usage);
    }
}
