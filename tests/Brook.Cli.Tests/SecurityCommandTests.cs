using Brook.Broker;
using Confluent.Kafka;

namespace Brook.Cli.Tests;

/// <summary>
/// `brook acls` and `brook users` against a broker with an authorizer and SCRAM logins: the PLAINTEXT listener's
/// ANONYMOUS user is a super user and runs the commands; alice logs in with SCRAM on the SASL listener.
/// </summary>
public sealed class SecurityCommandTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await BrookBroker.StartAsync(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0", "SASL_PLAINTEXT://127.0.0.1:0"],
        InMemory = true,
        Configs =
        {
            ["sasl.enabled.mechanisms"] = "SCRAM-SHA-256,SCRAM-SHA-512",
            ["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            ["super.users"] = "User:ANONYMOUS",
        },
    });

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private async Task<CliResult> RunAsync(string bootstrap, string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync([.. args, "--bootstrap-server", bootstrap], stdout, stderr, new StringReader(stdin));
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    private Task<CliResult> AsSuperUser(params string[] args) => RunAsync(_broker.BootstrapServersFor("PLAINTEXT"), "", args);

    [Fact]
    public async Task Acls_created_are_listed_enforced_and_deleted()
    {
        (await AsSuperUser("topics", "create", "orders")).Ok();
        (await AsSuperUser("acls", "create", "--resource-type", "topic", "--resource-name", "orders", "--principal", "User:alice", "--operation", "read", "--operation", "describe")).Ok();
        (await AsSuperUser("acls", "create", "--resource-type", "group", "--resource-name", "alice-", "--pattern-type", "prefixed", "--principal", "User:alice", "--operation", "read")).Ok();

        var listed = (await AsSuperUser("acls", "list", "--principal", "User:alice")).Ok();
        Assert.Equal(3, listed.Rows.Count);
        Assert.Contains(listed.Rows, r => r.Contains("orders") && r.Any(c => c.Equals("READ", StringComparison.OrdinalIgnoreCase)));
        Assert.Contains(listed.Rows, r => r.Contains("alice-") && r.Any(c => c.Equals("PREFIXED", StringComparison.OrdinalIgnoreCase)));
        Assert.Single((await AsSuperUser("acls", "list", "--resource-type", "group")).Ok().Rows);

        // The broker enforces them: alice sees "orders" only while her DESCRIBE/READ rules exist.
        (await AsSuperUser("users", "upsert", "alice", "--password", "s3cret", "--mechanism", "SCRAM-SHA-512")).Ok();
        Assert.Equal(["orders"], AliceSeesTopics("s3cret"));

        (await AsSuperUser("acls", "delete", "--resource-type", "topic", "--resource-name", "orders")).Ok();
        Assert.Single((await AsSuperUser("acls", "list")).Ok().Rows);
        Assert.Empty(AliceSeesTopics("s3cret"));
    }

    [Fact]
    public async Task Users_upserted_can_log_in_and_deleted_ones_cannot()
    {
        (await AsSuperUser("users", "upsert", "alice", "--password", "s3cret", "--mechanism", "SCRAM-SHA-512", "--iterations", "8192")).Ok();
        (await RunAsync(_broker.BootstrapServersFor("PLAINTEXT"), "pw-from-stdin\n", "users", "upsert", "bob", "--password-stdin")).Ok();

        var users = (await AsSuperUser("users", "list")).Ok();
        Assert.Contains(users.Rows, r => r[0] == "alice" && r[1] == "SCRAM-SHA-512" && r[2] == "8192");
        Assert.Contains(users.Rows, r => r[0] == "bob" && r[1] == "SCRAM-SHA-256");

        // A client logs in with the new credential through --command-config, as any Kafka tool would.
        var config = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(config, "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=alice\nsasl.password=s3cret\n");
            (await RunAsync(_broker.BootstrapServersFor("SASL_PLAINTEXT"), "", "topics", "list", "--command-config", config)).Ok();

            (await AsSuperUser("users", "delete", "alice", "--mechanism", "SCRAM-SHA-512")).Ok();
            Assert.DoesNotContain((await AsSuperUser("users", "list")).Ok().Rows, r => r[0] == "alice");
            var refused = await RunAsync(_broker.BootstrapServersFor("SASL_PLAINTEXT"), "", "topics", "list", "--command-config", config, "--timeout", "5s");
            Assert.NotEqual(ExitCodes.Ok, refused.ExitCode);
            Assert.StartsWith("error: ", refused.Error, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", refused.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Without_an_authorizer_acl_commands_fail_in_one_line()
    {
        await using var open = await TestBroker.StartAsync();
        var result = (await Cli.RunAsync(open, "acls", "create", "--resource-type", "topic", "--resource-name", "orders", "--principal", "User:alice", "--operation", "read")).Fails(ExitCodes.Unsupported);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        // Listing says so too, rather than showing an empty list (librdkafka's reading of SECURITY_DISABLED).
        var listed = (await Cli.RunAsync(open, "acls", "list")).Fails(ExitCodes.Unsupported);
        Assert.Contains("No Authorizer", listed.Error, StringComparison.Ordinal);
        // SCRAM users are kept without an authorizer; an empty list is an empty table, not a hang.
        Assert.Empty((await Cli.RunAsync(open, "users", "list")).Ok().Rows);
    }

    [Fact]
    public async Task Bad_acl_and_user_arguments_are_usage_errors_before_any_request()
    {
        var bootstrap = _broker.BootstrapServersFor("PLAINTEXT");
        (await RunAsync(bootstrap, "", "acls", "create", "--resource-type", "planet", "--resource-name", "x", "--principal", "User:a", "--operation", "read")).Fails(ExitCodes.Usage);
        (await RunAsync(bootstrap, "", "acls", "create", "--resource-type", "topic", "--resource-name", "x", "--principal", "User:a", "--operation", "juggle")).Fails(ExitCodes.Usage);
        (await RunAsync(bootstrap, "", "acls", "create", "--resource-type", "topic", "--resource-name", "x", "--operation", "read")).Fails(ExitCodes.Usage);
        (await RunAsync(bootstrap, "", "acls", "delete")).Fails(ExitCodes.Usage);
        (await RunAsync(bootstrap, "", "users", "upsert", "bob")).Fails(ExitCodes.Usage);
        (await RunAsync(bootstrap, "", "users", "upsert", "bob", "--password", "x", "--mechanism", "MD5")).Fails(ExitCodes.Usage);
    }

    private List<string> AliceSeesTopics(string password)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig
        {
            BootstrapServers = _broker.BootstrapServersFor("SASL_PLAINTEXT"),
            SecurityProtocol = SecurityProtocol.SaslPlaintext,
            SaslMechanism = SaslMechanism.ScramSha512,
            SaslUsername = "alice",
            SaslPassword = password,
        }).Build();
        return admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Select(t => t.Topic).Where(t => !t.StartsWith("__", StringComparison.Ordinal)).ToList();
    }
}
