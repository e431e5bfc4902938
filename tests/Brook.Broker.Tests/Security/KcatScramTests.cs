using Brook.Broker.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.Broker.Tests.Security;

/// <summary>
/// SCRAM logins from Debian's kcat, whose librdkafka (2.0.x, before 2.6.1) repeats the client nonce in its client-final
/// message: Brook must accept it as Kafka does, or every such client is refused.
/// </summary>
public sealed class KcatScramTests
{
    [Theory]
    [InlineData("SCRAM-SHA-256", ScramMechanism.ScramSha256)]
    [InlineData("SCRAM-SHA-512", ScramMechanism.ScramSha512)]
    public async Task Kcat_with_an_older_librdkafka_logs_in_produces_and_consumes(string mechanism, ScramMechanism scram)
    {
        var options = new BrokerOptions { Listeners = ["SASL_PLAINTEXT://127.0.0.1:0"], InMemory = true };
        options.Configs["sasl.enabled.mechanisms"] = mechanism;
        await using var broker = await BrookBroker.StartAsync(options);
        broker.Services.GetRequiredService<ScramCredentialStore>().SetPassword("kc", scram, "kc-secret");
        string[] login = ["-b", broker.BootstrapServers, "-X", "security.protocol=SASL_PLAINTEXT", "-X", $"sasl.mechanisms={mechanism}", "-X", "sasl.username=kc"];

        var produced = await ExternalClients.KcatAsync([.. login, "-X", "sasl.password=kc-secret", "-P", "-t", "kcat-scram", "-K:"], "k1:one\nk2:two\n");
        Assert.True(produced.ExitCode == 0, produced.ToString());
        var consumed = await ExternalClients.KcatAsync([.. login, "-X", "sasl.password=kc-secret", "-C", "-t", "kcat-scram", "-o", "beginning", "-e", "-q", "-f", "%k=%s\\n"]);
        Assert.True(consumed.ExitCode == 0, consumed.ToString());
        Assert.Equal(["k1=one", "k2=two"], consumed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var refused = await ExternalClients.KcatAsync([.. login, "-X", "sasl.password=wrong", "-L", "-m", "5"]);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Authentication failed", refused.Stderr, StringComparison.Ordinal);
    }
}
