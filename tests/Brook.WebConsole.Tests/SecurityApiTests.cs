using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;

namespace Brook.WebConsole.Tests;

/// <summary>
/// The console's ACL and SCRAM user API against a broker that requires SASL and enforces ACLs, checked with real
/// clients: the broker's own view of the ACLs, and logins with the credentials the console made.
/// </summary>
public sealed class SecurityApiTests(SecureConsoleServer server) : IClassFixture<SecureConsoleServer>
{
    private static readonly AclBindingFilter AnyAcl = new()
    {
        PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
        EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
    };

    [Fact]
    public async Task Acls_are_created_listed_and_deleted_through_the_api_on_a_sasl_only_broker()
    {
        var acl = new AclView("topic", "api-payments", "prefixed", "User:api-reader", "*", "read", "allow");
        Assert.Equal(HttpStatusCode.Created, (await server.SendAsync(HttpMethod.Post, "/api/acls", acl)).StatusCode);
        var deny = new AclView("group", "api-audit", "literal", "User:api-reader", "10.0.0.7", "describe", "deny");
        Assert.Equal(HttpStatusCode.Created, (await server.SendAsync(HttpMethod.Post, "/api/acls", deny)).StatusCode);

        var listed = await server.GetAsync<List<AclView>>("/api/acls");
        Assert.Contains(acl, listed);
        Assert.Contains(deny, listed);
        using (var admin = server.Admin())
        {
            var bindings = (await admin.DescribeAclsAsync(AnyAcl)).AclBindings;
            Assert.Contains(bindings, b => b.Pattern.Name == "api-payments" && b.Pattern.ResourcePatternType == ResourcePatternType.Prefixed
                && b.Entry.Principal == "User:api-reader" && b.Entry.Operation == AclOperation.Read && b.Entry.PermissionType == AclPermissionType.Allow);
            Assert.Contains(bindings, b => b.Pattern.Type == ResourceType.Group && b.Entry.Host == "10.0.0.7" && b.Entry.PermissionType == AclPermissionType.Deny);
        }

        var deleted = await server.SendAsync(HttpMethod.Post, "/api/acls/delete", acl);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        listed = await server.GetAsync<List<AclView>>("/api/acls");
        Assert.DoesNotContain(acl, listed);
        Assert.Contains(deny, listed);
        using (var admin = server.Admin())
            Assert.DoesNotContain((await admin.DescribeAclsAsync(AnyAcl)).AclBindings, b => b.Pattern.Name == "api-payments");
    }

    [Fact]
    public async Task A_scram_user_made_through_the_api_logs_in_is_listed_updated_and_deleted()
    {
        var created = await server.SendAsync(HttpMethod.Post, "/api/users", new { user = "api-alice", password = "first-secret", mechanism = "SCRAM-SHA-512", iterations = 8192 });
        Assert.Equal(HttpStatusCode.NoContent, created.StatusCode);
        var users = await server.GetAsync<List<ScramUserView>>("/api/users");
        var alice = Assert.Single(users, u => u.User == "api-alice");
        Assert.Equal([new ScramCredentialView("SCRAM-SHA-512", 8192)], alice.Credentials);
        Assert.True(server.CanLogIn("api-alice", "first-secret", SaslMechanism.ScramSha512));

        // Updating replaces the credential: the new password works, the old one no longer does.
        await server.SendAsync(HttpMethod.Post, "/api/users", new { user = "api-alice", password = "second-secret", mechanism = "SCRAM-SHA-512", iterations = 4096 });
        await server.SendAsync(HttpMethod.Post, "/api/users", new { user = "api-alice", password = "sha256-secret", mechanism = "SCRAM-SHA-256" });
        alice = Assert.Single(await server.GetAsync<List<ScramUserView>>("/api/users"), u => u.User == "api-alice");
        Assert.Equal([new ScramCredentialView("SCRAM-SHA-256", 4096), new ScramCredentialView("SCRAM-SHA-512", 4096)],
            alice.Credentials.OrderBy(c => c.Mechanism, StringComparer.Ordinal));
        Assert.True(server.CanLogIn("api-alice", "second-secret", SaslMechanism.ScramSha512));
        Assert.True(server.CanLogIn("api-alice", "sha256-secret", SaslMechanism.ScramSha256));
        Assert.False(server.CanLogIn("api-alice", "first-secret", SaslMechanism.ScramSha512));

        Assert.Equal(HttpStatusCode.NoContent, (await server.SendAsync(HttpMethod.Delete, "/api/users/api-alice?mechanism=SCRAM-SHA-512")).StatusCode);
        alice = Assert.Single(await server.GetAsync<List<ScramUserView>>("/api/users"), u => u.User == "api-alice");
        Assert.Equal(["SCRAM-SHA-256"], alice.Credentials.Select(c => c.Mechanism));
        Assert.False(server.CanLogIn("api-alice", "second-secret", SaslMechanism.ScramSha512));
        await server.SendAsync(HttpMethod.Delete, "/api/users/api-alice?mechanism=SCRAM-SHA-256");
        Assert.DoesNotContain(await server.GetAsync<List<ScramUserView>>("/api/users"), u => u.User == "api-alice");
    }

    [Fact]
    public async Task Bad_security_requests_get_a_one_line_error_of_the_right_kind()
    {
        var tooFew = await server.SendAsync(HttpMethod.Post, "/api/users", new { user = "api-bob", password = "pw", mechanism = "SCRAM-SHA-256", iterations = 10 });
        Assert.Equal(HttpStatusCode.BadRequest, tooFew.StatusCode);
        var md5 = await server.SendAsync(HttpMethod.Post, "/api/users", new { user = "api-bob", password = "pw", mechanism = "MD5" });
        Assert.Equal(HttpStatusCode.BadRequest, md5.StatusCode);
        var missing = await server.SendAsync(HttpMethod.Delete, "/api/users/api-nobody?mechanism=SCRAM-SHA-256");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("api-nobody", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The console's admin connection is still good after the refusals.
        Assert.NotNull(await server.GetAsync<List<ScramUserView>>("/api/users"));
        Assert.NotNull(await server.GetAsync<Brook.Admin.TopicSummaries>("/api/topics"));
    }

    [Fact]
    public async Task Without_credentials_a_console_on_a_sasl_only_broker_says_what_to_configure()
    {
        await using var broker = await SecureConsoleServer.StartAsync(new Dictionary<string, string>());
        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]), Timeout = TimeSpan.FromSeconds(60) };
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync("/api/overview");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered after {clock.Elapsed}");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("console.kafka.sasl.username", body, StringComparison.Ordinal);
        Assert.Contains("not-authorized", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("SCRAM-SHA-512")]
    public async Task The_console_logs_in_with_scram_too(string mechanism)
    {
        await using var broker = await SecureConsoleServer.StartAsync(new Dictionary<string, string>
        {
            ["sasl.mechanism"] = mechanism,
            ["sasl.username"] = SecureConsoleServer.ConsoleUser,
            ["sasl.password"] = "scram-secret",
        });
        // The console connects at its first request, so a credential stored now is there in time.
        broker.Services.GetRequiredService<Brook.Broker.Security.ScramCredentialStore>()
            .SetPassword(SecureConsoleServer.ConsoleUser, Brook.Broker.Security.Scram.FromName(mechanism), "scram-secret");
        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]), Timeout = TimeSpan.FromSeconds(60) };
        foreach (var path in new[] { "/api/users", "/api/acls", "/api/overview" })
        {
            using var response = await http.GetAsync(path);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        var users = JsonSerializer.Deserialize<List<ScramUserView>>(await http.GetStringAsync("/api/users"), ConsoleServer.Json)!;
        Assert.Equal(mechanism, Assert.Single(Assert.Single(users, u => u.User == SecureConsoleServer.ConsoleUser).Credentials).Mechanism);
    }

    [Fact]
    public async Task With_a_wrong_password_the_console_answers_not_authorized_instead_of_hanging()
    {
        await using var broker = await SecureConsoleServer.StartAsync(new Dictionary<string, string>
        {
            ["sasl.mechanism"] = "PLAIN",
            ["sasl.username"] = SecureConsoleServer.ConsoleUser,
            ["sasl.password"] = "wrong",
        });
        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]), Timeout = TimeSpan.FromSeconds(60) };
        foreach (var path in new[] { "/api/acls", "/api/users" })
        {
            using var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("login", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }
}
