using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Brook.Admin;
using Brook.Broker;

namespace Brook.Cli.Tests;

/// <summary>Behaviour every command shares: connection options, output modes, help, exit codes.</summary>
public sealed class CliBehaviourTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task The_bootstrap_server_comes_from_the_environment_when_not_given()
    {
        await Kafka.CreateTopicAsync(_broker, "from-env", 1);
        var console = new CliConsole(new StringWriter(), new StringWriter(), new StringReader(""))
        {
            Environment = name => name == "BROOK_BOOTSTRAP_SERVER" ? _broker.BootstrapServers : null,
        };

        var result = (await Cli.RunAsync(console, "topics", "list")).Ok();
        Assert.Contains(result.Rows, r => r[0] == "from-env");
    }

    [Fact]
    public async Task An_unreachable_cluster_fails_with_the_unreachable_exit_code_within_the_timeout()
    {
        var console = new CliConsole(new StringWriter(), new StringWriter(), new StringReader(""));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = (await Cli.RunAsync(console, "topics", "list", "--bootstrap-server", "127.0.0.1:1", "--timeout", "2s")).Fails(ExitCodes.Unreachable);

        Assert.Contains("127.0.0.1:1", result.Error, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task Command_config_properties_reach_the_client_and_bad_ones_are_usage_errors()
    {
        var dir = Directory.CreateTempSubdirectory("brook-cli-");
        try
        {
            var good = Path.Combine(dir.FullName, "good.properties");
            await File.WriteAllTextAsync(good, "# client settings\nsocket.keepalive.enable=true\nclient.rack : rack-a\n");
            (await Cli.RunAsync(_broker, "cluster", "describe", "--command-config", good)).Ok();

            var bad = Path.Combine(dir.FullName, "bad.properties");
            await File.WriteAllTextAsync(bad, "no.such.client.property=1\n");
            var result = (await Cli.RunAsync(_broker, "cluster", "describe", "--command-config", bad)).Fails(ExitCodes.Usage);
            Assert.Contains("no.such.client.property", result.Error, StringComparison.Ordinal);

            (await Cli.RunAsync(_broker, "cluster", "describe", "--command-config", Path.Combine(dir.FullName, "missing.properties"))).Fails(ExitCodes.Usage);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task On_a_terminal_results_are_tables_not_tab_separated_text()
    {
        await Kafka.CreateTopicAsync(_broker, "on-terminal", 2);
        var console = new CliConsole(new StringWriter(), new StringWriter(), new StringReader("")) { Interactive = true, Width = 200 };

        var result = (await Cli.RunAsync(console, "topics", "describe", "on-terminal", "--bootstrap-server", _broker.BootstrapServers)).Ok();

        Assert.DoesNotContain('\t', result.Out);
        Assert.Contains("on-terminal", result.Out, StringComparison.Ordinal);
        Assert.Contains("│", result.Out, StringComparison.Ordinal);
        Assert.Contains("PARTITION", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_documents_the_exit_codes_and_a_missing_command_is_a_usage_error()
    {
        var help = (await Cli.RunAsync(_broker, "--help")).Ok();
        Assert.Contains("Exit codes: 0 ok, 1 error, 2 usage", help.Out, StringComparison.Ordinal);
        Assert.Contains("reset-offsets", (await Cli.RunAsync(_broker, "groups", "--help")).Ok().Out, StringComparison.Ordinal);

        (await Cli.RunAsync(_broker)).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "groups")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "topics", "list", "--timeout", "-3s")).Fails(ExitCodes.Usage);
    }

    [Fact]
    public async Task Cancellation_ends_a_consume_cleanly()
    {
        await Kafka.CreateTopicAsync(_broker, "endless", 1);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await CliApp.RunAsync(["consume", "endless", "--bootstrap-server", _broker.BootstrapServers], stdout, stderr, new StringReader(""), cancel.Token);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("processed 0 message(s)", stderr.ToString(), StringComparison.Ordinal);
    }

    /// <summary>Every leaf command of the tree appears in some test as its words in order ("groups", "reset-offsets").</summary>
    [Fact]
    public void Every_command_has_a_test()
    {
        var sources = string.Join('\n', Directory.GetFiles(TestDirectory(), "*.cs").Select(File.ReadAllText));
        var root = CliApp.BuildRoot(new CliConsole(TextWriter.Null, TextWriter.Null, TextReader.Null));
        var untested = Leaves(root, [])
            .Where(path => !Regex.IsMatch(sources, string.Join(@",\s*", path.Select(word => Regex.Escape($"\"{word}\"")))))
            .Select(path => string.Join(' ', path))
            .ToList();
        Assert.Empty(untested);
        Assert.Contains(Leaves(root, []), p => p.SequenceEqual(["groups", "reset-offsets"]));
    }

    private static IEnumerable<string[]> Leaves(System.CommandLine.Command command, string[] path)
    {
        if (command.Subcommands.Count == 0)
        {
            yield return path;
            yield break;
        }
        foreach (var sub in command.Subcommands)
        {
            foreach (var leaf in Leaves(sub, [.. path, sub.Name])) yield return leaf;
        }
    }

    private static string TestDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

public sealed class ValueParsingTests
{
    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("250", 250)]
    [InlineData("5s", 5_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    public void Durations_parse_with_units(string text, long milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Values.Duration(text));

    [Theory]
    [InlineData("soon")]
    [InlineData("5 parsecs")]
    [InlineData("-5s")]
    public void Bad_durations_are_rejected(string text) => Assert.Throws<FormatException>(() => Values.Duration(text));

    [Fact]
    public void Times_parse_as_iso_epoch_milliseconds_or_relative_to_now()
    {
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), Values.DateTime("1700000000000"));
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero), Values.DateTime("2024-05-01T12:00:00Z"));
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero), Values.DateTime("2024-05-01T12:00:00"));
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero), Values.DateTime("2024-05-01T12:00:00+02:00"));
        var clock = new FixedClock(new DateTimeOffset(2024, 5, 1, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 11, 45, 0, TimeSpan.Zero), Values.DateTime("-15m", clock));
        Assert.Throws<FormatException>(() => Values.DateTime("last tuesday"));
    }

    [Fact]
    public void Topic_selections_name_partitions_after_a_colon()
    {
        Assert.Equal(new TopicSelection("orders"), Values.TopicSelection("orders"));
        var some = Values.TopicSelection("orders:0,2");
        Assert.Equal("orders", some.Topic);
        Assert.Equal([0, 2], some.Partitions!);
        Assert.Throws<FormatException>(() => Values.TopicSelection("orders:x"));
        Assert.Throws<FormatException>(() => Values.TopicSelection(":1"));
    }

    [Fact]
    public void Headers_keep_repeats_and_allow_null_values()
    {
        var headers = Values.Headers(["a=1", "a=2", "flag", "eq=x=y"]);
        Assert.Equal(["a", "a", "flag", "eq"], headers.Select(h => h.Key));
        Assert.Null(headers[2].Value);
        Assert.Equal("x=y", System.Text.Encoding.UTF8.GetString(headers[3].Value!));
        Assert.Throws<FormatException>(() => Values.Headers(["=v"]));
    }

    [Fact]
    public void Properties_files_parse_like_java_and_translate_jaas_credentials()
    {
        var properties = ConnectionSettings.ParseProperties(
            "# comment\n! also a comment\nsecurity.protocol=SASL_SSL\nsasl.mechanism : SCRAM-SHA-256\n" +
            "ssl.ca.location=/etc/ca.pem\nlong.value=a\\\n  b\n" +
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s3=cret\";\n");

        Assert.Equal("SASL_SSL", properties["security.protocol"]);
        Assert.Equal("SCRAM-SHA-256", properties["sasl.mechanism"]);
        Assert.Equal("/etc/ca.pem", properties["ssl.ca.location"]);
        Assert.Equal("ab", properties["long.value"]);
        Assert.Equal("alice", properties["sasl.username"]);
        Assert.Equal("s3=cret", properties["sasl.password"]);
        Assert.False(properties.ContainsKey("sasl.jaas.config"));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
