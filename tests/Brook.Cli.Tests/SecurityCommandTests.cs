using Brook.Broker;

namespace Brook.Cli.Tests;

/// <summary>
/// Brook does not implement the ACL or SCRAM credential APIs yet: the commands are built on Kafka's admin API and must
/// say so in one line with the "not supported" exit code, never a stack trace.
/// </summary>
public sealed class SecurityCommandTests : IAsyncLifetime
{
    private BrookBroker _broker = null!;

    public async Task InitializeAsync() => _broker = await TestBroker.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Theory]
    [InlineData("acls", "list")]
    [InlineData("acls", "list", "--resource-type", "topic", "--principal", "User:alice")]
    [InlineData("acls", "create", "--resource-type", "topic", "--resource-name", "orders", "--principal", "User:alice", "--operation", "read", "--operation", "describe")]
    [InlineData("acls", "delete", "--resource-type", "topic", "--resource-name", "orders")]
    [InlineData("users", "list")]
    [InlineData("users", "upsert", "alice", "--password", "s3cret", "--mechanism", "SCRAM-SHA-512")]
    [InlineData("users", "delete", "alice")]
    public async Task Against_brook_they_fail_as_unsupported_in_one_line(params string[] args)
    {
        var result = (await Cli.RunAsync(_broker, args)).Fails(ExitCodes.Unsupported);
        Assert.Contains("does not support", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Bad_acl_and_user_arguments_are_usage_errors_before_any_request()
    {
        (await Cli.RunAsync(_broker, "acls", "create", "--resource-type", "planet", "--resource-name", "x", "--principal", "User:a", "--operation", "read")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "acls", "create", "--resource-type", "topic", "--resource-name", "x", "--principal", "User:a", "--operation", "juggle")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "acls", "create", "--resource-type", "topic", "--resource-name", "x", "--operation", "read")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "acls", "delete")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "users", "upsert", "bob")).Fails(ExitCodes.Usage);
        (await Cli.RunAsync(_broker, "users", "upsert", "bob", "--password", "x", "--mechanism", "MD5")).Fails(ExitCodes.Usage);
    }
}
