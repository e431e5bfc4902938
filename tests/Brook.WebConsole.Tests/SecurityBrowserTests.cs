using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.WebConsole.Tests;

/// <summary>The security page in headless Chromium: ACLs and SCRAM users on a SASL-only broker with ACLs enforced.</summary>
public sealed class SecurityBrowserTests(SecureConsoleServer server) : IClassFixture<SecureConsoleServer>
{
    [Fact]
    public async Task An_acl_and_a_scram_user_are_made_seen_and_deleted_from_the_ui()
    {
        await using var browser = await ConsoleBrowser.StartAsync(server.BaseUrl);

        // ACLs: add one from the form, see it in the list and in the broker, delete it.
        var key = (await browser.RunAsync("createAcl", new
        {
            principal = "User:ui-reader",
            permission = "allow",
            operation = "read",
            resourceType = "topic",
            resourceName = "ui-invoices",
            patternType = "literal",
        }))!.GetValue<string>();
        Assert.Equal("allow User:ui-reader read topic ui-invoices literal *", key);
        using (var admin = server.Admin())
            Assert.Contains((await admin.DescribeAclsAsync(AnyAclNamed("ui-invoices"))).AclBindings, b => b.Entry.Principal == "User:ui-reader" && b.Entry.Operation == AclOperation.Read);

        var clusterKey = (await browser.RunAsync("createAcl", new
        {
            principal = "User:ui-ops",
            permission = "allow",
            operation = "describe-configs",
            resourceType = "cluster",
            resourceName = "kafka-cluster",
            patternType = "literal",
        }))!.GetValue<string>();
        using (var admin = server.Admin())
            Assert.Contains((await admin.DescribeAclsAsync(AnyAclNamed("kafka-cluster"))).AclBindings,
                b => b.Pattern.Type == ResourceType.Broker && b.Entry.Principal == "User:ui-ops" && b.Entry.Operation == AclOperation.DescribeConfigs);

        // SCRAM users: add one, update it, see the mechanism and iterations, log in with it.
        var saved = await browser.RunAsync("saveUser", new { user = "ui-alice", password = "first-secret", mechanism = "SCRAM-SHA-512", iterations = 8192 });
        Assert.Equal("SCRAM-SHA-512", saved!["mechanism"]!.GetValue<string>());
        Assert.Equal("8192", saved["iterations"]!.GetValue<string>());
        var updated = await browser.RunAsync("saveUser", new { user = "ui-alice", password = "second-secret", mechanism = "SCRAM-SHA-512", iterations = 4096 });
        Assert.Equal("4096", updated!["iterations"]!.GetValue<string>());
        Assert.True(server.CanLogIn("ui-alice", "second-secret", SaslMechanism.ScramSha512));

        var page = await browser.RunAsync("security");
        Assert.Empty(page!["notes"]!.AsArray());
        Assert.Empty(page["errors"]!.AsArray());
        Assert.Equal(["allow User:ui-ops describe-configs cluster kafka-cluster literal *", "allow User:ui-reader read topic ui-invoices literal *"],
            page["acls"]!.AsArray().Select(a => a!.GetValue<string>()).Order(StringComparer.Ordinal));
        Assert.Contains("ui-alice SCRAM-SHA-512 4096", page["users"]!.AsArray().Select(u => u!.GetValue<string>()));
        await browser.ScreenshotAsync("security");

        await browser.RunAsync("deleteAcl", new { key });
        await browser.RunAsync("deleteAcl", new { key = clusterKey });
        using (var admin = server.Admin())
            Assert.Empty((await admin.DescribeAclsAsync(AnyAclNamed("ui-invoices"))).AclBindings);
        await browser.RunAsync("deleteUser", new { user = "ui-alice", mechanism = "SCRAM-SHA-512" });
        Assert.DoesNotContain(await server.GetAsync<List<ScramUserView>>("/api/users"), u => u.User == "ui-alice");
        Assert.False(server.CanLogIn("ui-alice", "second-secret", SaslMechanism.ScramSha512));
        await browser.ScreenshotAsync("security-after-delete");

        var problems = (await browser.RunAsync("problems"))!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Empty(problems);
    }

    private static AclBindingFilter AnyAclNamed(string name) => new()
    {
        PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, Name = name, ResourcePatternType = ResourcePatternType.Any },
        EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
    };
}
