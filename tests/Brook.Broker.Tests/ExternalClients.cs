using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Brook.Broker.Tests;

/// <summary>The result of running an external client process.</summary>
internal sealed record ProcessResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>
/// Real clients outside .NET, installed by scripts/setup-test-deps.sh (which scripts/test.sh runs first): kcat from Debian
/// (librdkafka 2.0.x, an older librdkafka than Confluent.Kafka's) and kafkajs from npm (tests/clients/node).
/// </summary>
internal static class ExternalClients
{
    public static string RepositoryRoot { get; } = FindRoot();

    private static string NodeModules => Path.Combine(RepositoryRoot, "tests", "clients", "node", "node_modules");

    /// <summary>
    /// Runs a kafkajs script body inside an async function with <c>kafka</c> (a client for <paramref name="bootstrap"/>),
    /// <c>admin</c> (connected), and <c>out(value)</c>, which prints its argument as JSON; returns what <c>out</c> printed.
    /// A thrown error fails the test with kafkajs's message.
    /// </summary>
    public static async Task<JsonNode?> KafkaJsAsync(string bootstrap, string body, TimeSpan? timeout = null)
    {
        Assert.True(Directory.Exists(Path.Combine(NodeModules, "kafkajs")), "kafkajs is missing: run scripts/setup-test-deps.sh (npm ci in tests/clients/node).");
        var script = Path.Combine(Path.GetTempPath(), $"brook-kafkajs-{Guid.NewGuid():N}.js");
        await File.WriteAllTextAsync(script, $$"""
            const { Kafka, logLevel, ConfigResourceTypes, AclResourceTypes } = require('kafkajs');
            const kafka = new Kafka({ clientId: 'brook-test', brokers: [process.env.BROOK_BOOTSTRAP], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
            const out = value => console.log(JSON.stringify({ out: value === undefined ? null : value }));
            (async () => {
              const admin = kafka.admin();
              await admin.connect();
              try {
            {{body}}
              } finally {
                await admin.disconnect();
              }
            })().then(() => process.exit(0), e => { console.error(JSON.stringify({ name: e.name, type: e.type, message: e.message, code: e.code })); process.exit(1); });
            """);
        try
        {
            var result = await RunAsync("node", [script], null, timeout ?? TimeSpan.FromSeconds(60), ("NODE_PATH", NodeModules), ("BROOK_BOOTSTRAP", bootstrap));
            Assert.True(result.ExitCode == 0, $"kafkajs script failed: {result}");
            var line = result.Stdout.Split('\n').LastOrDefault(l => l.StartsWith("{\"out\":", StringComparison.Ordinal));
            return line is null ? null : JsonNode.Parse(line)!["out"];
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>Like <see cref="KafkaJsAsync"/>, for a script expected to fail: returns kafkajs's error (name, type, message, code).</summary>
    public static async Task<JsonNode> KafkaJsErrorAsync(string bootstrap, string body)
    {
        var script = Path.Combine(Path.GetTempPath(), $"brook-kafkajs-{Guid.NewGuid():N}.js");
        await File.WriteAllTextAsync(script, $$"""
            const { Kafka, logLevel } = require('kafkajs');
            const kafka = new Kafka({ clientId: 'brook-test', brokers: [process.env.BROOK_BOOTSTRAP], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
            (async () => {
              const admin = kafka.admin();
              await admin.connect();
              try {
            {{body}}
              } finally {
                await admin.disconnect();
              }
            })().then(() => process.exit(0), e => { console.error(JSON.stringify({ name: e.name, type: e.type, message: e.message, code: e.code })); process.exit(1); });
            """);
        try
        {
            var result = await RunAsync("node", [script], null, TimeSpan.FromSeconds(60), ("NODE_PATH", NodeModules), ("BROOK_BOOTSTRAP", bootstrap));
            Assert.True(result.ExitCode == 1, $"the kafkajs script was expected to fail: {result}");
            var line = result.Stderr.Split('\n').Last(l => l.StartsWith('{'));
            return JsonNode.Parse(line)!;
        }
        finally
        {
            File.Delete(script);
        }
    }

    /// <summary>Runs Debian's kcat with <paramref name="args"/>, feeding <paramref name="stdin"/> when given.</summary>
    public static Task<ProcessResult> KcatAsync(IEnumerable<string> args, string? stdin = null, TimeSpan? timeout = null)
    {
        Assert.True(File.Exists("/usr/bin/kcat"), "kcat is missing: run scripts/setup-test-deps.sh (Debian's kcat).");
        return RunAsync("/usr/bin/kcat", args, stdin, timeout ?? TimeSpan.FromSeconds(60));
    }

    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, string? stdin, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{Path.GetFileName(file)} did not finish within {timeout}: {await stdout}\n{await stderr}");
        }
        return new ProcessResult(process.ExitCode, await stdout, await stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Brook.slnx"))) return dir.FullName;
        }
        throw new InvalidOperationException("Brook.slnx not found above " + AppContext.BaseDirectory);
    }
}
