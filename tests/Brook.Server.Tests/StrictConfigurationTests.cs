using Brook.Broker;

namespace Brook.Server.Tests;

/// <summary>
/// Typos and bad values in the server's configuration are refused at start with one line naming the setting, its source
/// and the nearest known name, from a properties file, --override and the environment alike; the settings in force are
/// logged at start.
/// </summary>
public sealed class StrictConfigurationTests
{
    [Theory]
    [InlineData("auto.create.topic.enable=false", "auto.create.topic.enable", "did you mean auto.create.topics.enable?")]
    [InlineData("num.partitons=3", "num.partitons", "did you mean num.partitions?")]
    [InlineData("log.retention.hour=1", "log.retention.hour", "did you mean log.retention.hours?")]
    [InlineData("num.partitions=abc", "num.partitions", "Not a number of type INT")]
    public async Task A_properties_file_with_a_typo_or_a_bad_value_is_refused(string line, string name, string hint)
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "brook.properties");
        await File.WriteAllTextAsync(file, $"# typo below\n{line}\n");
        var error = await RefusedAsync(dir.Path, null, "--config", file, "--http", "none");
        Assert.Contains(name, error, StringComparison.Ordinal);
        Assert.Contains(hint, error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "data")), "a refused configuration created the data directory");
    }

    [Fact]
    public async Task Overrides_are_checked_by_name_and_type()
    {
        using var dir = new TempDirectory();
        var badValue = await RefusedAsync(dir.Path, null, "--override", "num.partitions=abc", "--http", "none");
        Assert.Contains("num.partitions", badValue, StringComparison.Ordinal);
        Assert.Contains("--override", badValue, StringComparison.Ordinal);
        var unknown = await RefusedAsync(dir.Path, null, "--override", "foo.bar=1", "--http", "none");
        Assert.Contains("Unknown config 'foo.bar'", unknown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelt_environment_variable_is_refused_and_an_unrelated_one_ignored()
    {
        using var dir = new TempDirectory();
        var error = await RefusedAsync(dir.Path, new Dictionary<string, string> { ["BROOK_LOG_RETENTION_HOUR"] = "1" }, "--http", "none");
        Assert.Contains("BROOK_LOG_RETENTION_HOUR", error, StringComparison.Ordinal);
        Assert.Contains("did you mean log.retention.hours?", error, StringComparison.Ordinal);

        // Other tools' BROOK_ variables share the environment: the server says it ignores them, and starts.
        await using var server = ServerProcess.Start(dir.Path, new Dictionary<string, string> { ["BROOK_BOOTSTRAP_SERVER"] = "elsewhere:9092", ["BROOK_NUM_PARTITIONS"] = "3" },
            "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "http://127.0.0.1:0", "--in-memory", "--override", "log.retention.hours=12");
        await server.WaitUntilStartedAsync();
        Assert.Contains("ignoring environment variable BROOK_BOOTSTRAP_SERVER", server.Stderr, StringComparison.Ordinal);
        // The settings that differ from the defaults are logged at start.
        var logged = server.Stdout.Split('\n').Single(l => l.Contains("Configuration: listeners=", StringComparison.Ordinal));
        Assert.Contains("log.retention.hours=12", logged, StringComparison.Ordinal);
        Assert.Contains("num.partitions=3", logged, StringComparison.Ordinal);
    }

    private static async Task<string> RefusedAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        await using var server = await ServerProcess.RunToExitAsync(workingDirectory, environment, args);
        var context = $"exit {server.ExitCode}\nstdout:\n{server.Stdout}\nstderr:\n{server.Stderr}";
        Assert.True((int)StartExitCode.InvalidConfiguration == server.ExitCode, context);
        var lines = server.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, context);
        Assert.DoesNotContain("   at ", server.Stdout + server.Stderr, StringComparison.Ordinal);
        return lines[0];
    }
}
