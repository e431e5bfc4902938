using System.Net;
using Brook.Broker;
using Confluent.Kafka;

namespace Brook.Server.Tests;

/// <summary>One broker per data directory: a second one, in another process or embedded in the same one, is refused.</summary>
public sealed class DataDirectoryLockTests
{
    [Fact]
    public async Task A_second_server_on_the_same_data_directory_is_refused_while_the_first_keeps_serving()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        await using var first = ServerProcess.Start(dir.Path, "--data-dir", data, "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "http://127.0.0.1:0");
        var (bootstrap, http) = await first.WaitUntilStartedAsync();
        await ProduceAsync(bootstrap, "before");

        var markerBefore = Directory.GetFiles(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        await using var second = await ServerProcess.RunToExitAsync(dir.Path, "--data-dir", data, "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "http://127.0.0.1:0");

        Assert.Equal((int)StartExitCode.DataDirectoryLocked, second.ExitCode);
        var error = Assert.Single(second.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"pid {first.Id}", error, StringComparison.Ordinal);
        Assert.Contains(data, error, StringComparison.Ordinal);
        Assert.Contains("--data-dir", error, StringComparison.Ordinal);
        // The refused server wrote nothing into the directory (no new files such as a clean-shutdown marker).
        Assert.Equal(markerBefore, Directory.GetFiles(data, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());

        Assert.False(first.HasExited);
        using var client = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{http}/health/ready")).StatusCode);
        await ProduceAsync(bootstrap, "after");
    }

    [Fact]
    public async Task The_lock_is_released_when_the_server_stops()
    {
        using var dir = new TempDirectory();
        var data = Path.Combine(dir.Path, "data");
        await using (var first = ServerProcess.Start(dir.Path, "--data-dir", data, "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "none"))
        {
            await first.WaitForOutputAsync(new System.Text.RegularExpressions.Regex("Brook started"));
            await first.StopAsync();
            Assert.Equal(0, first.ExitCode);
        }
        await using var again = ServerProcess.Start(dir.Path, "--data-dir", data, "--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "none");
        await again.WaitForOutputAsync(new System.Text.RegularExpressions.Regex("Brook started"));
    }

    [Fact]
    public async Task Two_embedded_brokers_cannot_share_a_data_directory()
    {
        using var dir = new TempDirectory();
        var options = new BrokerOptions { DataDirectory = dir.Path, Listeners = ["PLAINTEXT://127.0.0.1:0"] };
        await using (var first = await BrookBroker.StartAsync(options))
        {
            var refused = await Assert.ThrowsAsync<FatalStartException>(() => BrookBroker.StartAsync(options));
            Assert.Equal(StartExitCode.DataDirectoryLocked, refused.ExitCode);
            Assert.Contains($"this process, pid {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);
        }
        // Disposing the first released the directory.
        await using var second = await BrookBroker.StartAsync(options);
        Assert.NotEmpty(second.BootstrapServers);
    }

    private static async Task ProduceAsync(string bootstrap, string value)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, MessageTimeoutMs = 30_000 }).Build();
        var result = await producer.ProduceAsync("lock-test", new Message<Null, string> { Value = value });
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
    }
}
