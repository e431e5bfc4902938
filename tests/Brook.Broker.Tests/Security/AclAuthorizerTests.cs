using System.Net;
using Brook.Broker.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace Brook.Broker.Tests.Security;

/// <summary>The authorizer's decisions, rule by rule, against Kafka's semantics.</summary>
public sealed class AclAuthorizerTests
{
    private static readonly KafkaPrincipal Alice = KafkaPrincipal.User("alice");
    private static readonly KafkaPrincipal Bob = KafkaPrincipal.User("bob");
    private static readonly IPAddress Local = IPAddress.Loopback;

    private static AclBinding Rule(ResourceType type, string name, PatternType pattern, string principal, AclOperation operation, AclPermissionType permission = AclPermissionType.Allow, string host = "*") =>
        new(new ResourcePattern(type, name, pattern), new AccessControlEntry(principal, host, operation, permission));

    private static AclAuthorizer Authorizer(IEnumerable<AclBinding> acls, string superUsers = "", bool allowEveryone = false)
    {
        var store = AclStore.InMemory();
        store.Create(acls.ToList());
        var settings = AuthorizerSettings.Parse(new Dictionary<string, string> { ["super.users"] = superUsers, ["allow.everyone.if.no.acl.found"] = allowEveryone ? "true" : "false" });
        return new AclAuthorizer(store, settings, NullLogger<AclAuthorizer>.Instance);
    }

    [Fact]
    public void Literal_prefixed_and_wildcard_allows_apply_to_the_names_they_cover()
    {
        var authorizer = Authorizer([
            Rule(ResourceType.Topic, "orders", PatternType.Literal, "User:alice", AclOperation.Write),
            Rule(ResourceType.Topic, "app.", PatternType.Prefixed, "User:alice", AclOperation.Read),
            Rule(ResourceType.Group, "*", PatternType.Literal, "User:alice", AclOperation.Read),
            Rule(ResourceType.Topic, "public", PatternType.Literal, "User:*", AclOperation.Read),
        ]);
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Write, ResourceType.Topic, "orders"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Write, ResourceType.Topic, "orders2"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "orders"));
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "app.events"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "ap"));
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Group, "any-group"));
        Assert.False(authorizer.Authorize(Bob, Local, AclOperation.Read, ResourceType.Group, "any-group"));
        Assert.True(authorizer.Authorize(Bob, Local, AclOperation.Read, ResourceType.Topic, "public"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.TransactionalId, "app.tx"));
    }

    [Fact]
    public void Deny_wins_over_allow_from_any_pattern()
    {
        var authorizer = Authorizer([
            Rule(ResourceType.Topic, "app.", PatternType.Prefixed, "User:alice", AclOperation.All),
            Rule(ResourceType.Topic, "app.secret", PatternType.Literal, "User:alice", AclOperation.Write, AclPermissionType.Deny),
            Rule(ResourceType.Topic, "*", PatternType.Literal, "User:*", AclOperation.Delete, AclPermissionType.Deny),
        ]);
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Write, ResourceType.Topic, "app.events"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Write, ResourceType.Topic, "app.secret"));
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "app.secret"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Delete, ResourceType.Topic, "app.events"));
    }

    [Fact]
    public void Read_write_delete_alter_imply_describe_and_alter_configs_implies_describe_configs_for_allows_only()
    {
        var authorizer = Authorizer([
            Rule(ResourceType.Topic, "r", PatternType.Literal, "User:alice", AclOperation.Read),
            Rule(ResourceType.Topic, "w", PatternType.Literal, "User:alice", AclOperation.Write),
            Rule(ResourceType.Topic, "d", PatternType.Literal, "User:alice", AclOperation.Delete),
            Rule(ResourceType.Topic, "a", PatternType.Literal, "User:alice", AclOperation.Alter),
            Rule(ResourceType.Topic, "c", PatternType.Literal, "User:alice", AclOperation.AlterConfigs),
            Rule(ResourceType.Topic, "x", PatternType.Literal, "User:alice", AclOperation.Create),
            Rule(ResourceType.Topic, "denied-read", PatternType.Literal, "User:alice", AclOperation.Describe),
            Rule(ResourceType.Topic, "denied-read", PatternType.Literal, "User:alice", AclOperation.Read, AclPermissionType.Deny),
        ]);
        foreach (var topic in new[] { "r", "w", "d", "a" })
            Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Describe, ResourceType.Topic, topic));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Describe, ResourceType.Topic, "x"));
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.DescribeConfigs, ResourceType.Topic, "c"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.DescribeConfigs, ResourceType.Topic, "r"));
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Describe, ResourceType.Topic, "denied-read"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "denied-read"));
    }

    [Fact]
    public void Host_rules_match_the_client_address()
    {
        var authorizer = Authorizer([Rule(ResourceType.Topic, "t", PatternType.Literal, "User:alice", AclOperation.Read, host: "10.1.2.3")]);
        Assert.True(authorizer.Authorize(Alice, IPAddress.Parse("10.1.2.3"), AclOperation.Read, ResourceType.Topic, "t"));
        Assert.True(authorizer.Authorize(Alice, IPAddress.Parse("10.1.2.3").MapToIPv6(), AclOperation.Read, ResourceType.Topic, "t"));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "t"));
    }

    [Fact]
    public void Super_users_bypass_denies_and_allow_everyone_applies_only_to_resources_without_acls()
    {
        var authorizer = Authorizer(
            [
                Rule(ResourceType.Topic, "guarded", PatternType.Literal, "User:bob", AclOperation.Read),
                Rule(ResourceType.Topic, "*", PatternType.Literal, "User:admin", AclOperation.All, AclPermissionType.Deny),
            ],
            superUsers: "User:admin;User:ops",
            allowEveryone: true);
        Assert.True(authorizer.Authorize(KafkaPrincipal.User("admin"), Local, AclOperation.Delete, ResourceType.Topic, "guarded"));
        Assert.True(authorizer.Authorize(KafkaPrincipal.User("ops"), Local, AclOperation.Alter, ResourceType.Cluster, Acl.ClusterResourceName));
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "guarded"));
        Assert.True(authorizer.Authorize(Bob, Local, AclOperation.Read, ResourceType.Topic, "guarded"));
        // The wildcard DENY is an ACL on every topic, so "no ACL found" never applies to topics...
        Assert.False(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Topic, "unguarded"));
        // ...but groups have no ACL at all.
        Assert.True(authorizer.Authorize(Alice, Local, AclOperation.Read, ResourceType.Group, "g"));

        var strict = Authorizer([], allowEveryone: false);
        Assert.False(strict.Authorize(Alice, Local, AclOperation.Read, ResourceType.Group, "g"));
    }

    [Fact]
    public void Authorize_any_follows_KIP_679_with_dominating_denies()
    {
        Assert.True(Authorizer([Rule(ResourceType.Topic, "app.", PatternType.Prefixed, "User:alice", AclOperation.Write)])
            .AuthorizeAny(Alice, Local, AclOperation.Write, ResourceType.Topic));
        Assert.False(Authorizer([
                Rule(ResourceType.Topic, "app.x", PatternType.Literal, "User:alice", AclOperation.Write),
                Rule(ResourceType.Topic, "app", PatternType.Prefixed, "User:alice", AclOperation.Write, AclPermissionType.Deny),
            ]).AuthorizeAny(Alice, Local, AclOperation.Write, ResourceType.Topic));
        Assert.False(Authorizer([
                Rule(ResourceType.Topic, "orders", PatternType.Literal, "User:alice", AclOperation.Write),
                Rule(ResourceType.Topic, "*", PatternType.Literal, "User:*", AclOperation.Write, AclPermissionType.Deny),
            ]).AuthorizeAny(Alice, Local, AclOperation.Write, ResourceType.Topic));
        Assert.False(Authorizer([Rule(ResourceType.Topic, "orders", PatternType.Literal, "User:bob", AclOperation.Write)])
            .AuthorizeAny(Alice, Local, AclOperation.Write, ResourceType.Topic));
        Assert.True(Authorizer([], superUsers: "User:alice").AuthorizeAny(Alice, Local, AclOperation.Write, ResourceType.Topic));
    }

    [Fact]
    public void Filters_select_as_DescribeAcls_and_DeleteAcls_do()
    {
        var store = AclStore.InMemory();
        store.Create([
            Rule(ResourceType.Topic, "orders", PatternType.Literal, "User:alice", AclOperation.Read),
            Rule(ResourceType.Topic, "ord", PatternType.Prefixed, "User:bob", AclOperation.Write),
            Rule(ResourceType.Topic, "*", PatternType.Literal, "User:carol", AclOperation.Describe),
            Rule(ResourceType.Group, "orders", PatternType.Literal, "User:alice", AclOperation.Read),
        ]);
        AclBindingFilter Filter(ResourceType type, string? name, PatternType pattern, string? principal = null) =>
            new(type, name, pattern, principal, null, AclOperation.Any, AclPermissionType.Any);

        Assert.Equal(4, store.Describe(Filter(ResourceType.Any, null, PatternType.Any)).Count);
        Assert.Single(store.Describe(Filter(ResourceType.Topic, "orders", PatternType.Literal)));
        Assert.Single(store.Describe(Filter(ResourceType.Topic, "orders", PatternType.Any)));
        Assert.Equal(["User:alice", "User:bob", "User:carol"], store.Describe(Filter(ResourceType.Topic, "orders", PatternType.Match)).Select(a => a.Entry.Principal).Order());
        Assert.Equal(2, store.Describe(Filter(ResourceType.Any, "orders", PatternType.Literal)).Count);
        Assert.Null(Filter(ResourceType.Topic, null, PatternType.Any).Validate());
        Assert.NotNull(Filter(ResourceType.Unknown, null, PatternType.Any).Validate());

        var deleted = store.Delete([Filter(ResourceType.Any, null, PatternType.Any, "User:alice"), Filter(ResourceType.Topic, "ord", PatternType.Prefixed)]);
        Assert.Equal(2, deleted[0].Count);
        Assert.Single(deleted[1]);
        Assert.Equal("User:carol", Assert.Single(store.Current.All).Entry.Principal);
    }

    [Fact]
    public void New_acls_are_validated()
    {
        Assert.Null(Acl.ValidateNew(Rule(ResourceType.Cluster, Acl.ClusterResourceName, PatternType.Literal, "User:a", AclOperation.Create)));
        Assert.NotNull(Acl.ValidateNew(Rule(ResourceType.Cluster, "my-cluster", PatternType.Literal, "User:a", AclOperation.Create)));
        Assert.NotNull(Acl.ValidateNew(Rule(ResourceType.Any, "t", PatternType.Literal, "User:a", AclOperation.Read)));
        Assert.NotNull(Acl.ValidateNew(Rule(ResourceType.Topic, "t", PatternType.Match, "User:a", AclOperation.Read)));
        Assert.NotNull(Acl.ValidateNew(Rule(ResourceType.Topic, "t", PatternType.Literal, "alice", AclOperation.Read)));
        Assert.NotNull(Acl.ValidateNew(Rule(ResourceType.Topic, "t", PatternType.Literal, "User:a", AclOperation.Any)));
        Assert.NotNull(Acl.ValidateNew(Rule(ResourceType.Topic, "", PatternType.Literal, "User:a", AclOperation.Read)));
    }
}
