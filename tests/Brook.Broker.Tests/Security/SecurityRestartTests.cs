using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;
using AclOperation = Confluent.Kafka.Admin.AclOperation;
using AclPermissionType = Confluent.Kafka.Admin.AclPermissionType;
using ResourceType = Confluent.Kafka.Admin.ResourceType;

namespace Brook.Broker.Tests.Security;

/// <summary>ACLs and SCRAM credentials are stored with the broker's data and in force again after a restart.</summary>
public sealed class SecurityRestartTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-security-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private BrokerOptions Options() => new()
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0", "SASL_PLAINTEXT://127.0.0.1:0"],
        DataDirectory = _dataDir,
        Configs =
        {
            ["sasl.enabled.mechanisms"] = "SCRAM-SHA-256,SCRAM-SHA-512",
            ["authorizer.class.name"] = "brook",
            ["super.users"] = "User:ANONYMOUS",
        },
    };

    private static AclBindingFilter Everything => new()
    {
        PatternFilter = new ResourcePatternFilter { Type = ResourceType.Any, ResourcePatternType = ResourcePatternType.Any },
        EntryFilter = new AccessControlEntryFilter { Operation = AclOperation.Any, PermissionType = AclPermissionType.Any },
    };

    [Fact]
    public async Task Acls_and_scram_credentials_survive_a_restart()
    {
        await using (var broker = await BrookBroker.StartAsync(Options()))
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServersFor("PLAINTEXT") }).Build();
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "kept", NumPartitions = 1 }]);
            await admin.AlterUserScramCredentialsAsync([new UserScramCredentialUpsertion
            {
                User = "dave",
                ScramCredentialInfo = new ScramCredentialInfo { Mechanism = Confluent.Kafka.Admin.ScramMechanism.ScramSha512, Iterations = 4096 },
                Password = "dave-pw"u8.ToArray(),
                Salt = "salt-of-the-earth"u8.ToArray(),
            }]);
            await admin.CreateAclsAsync([
                new AclBinding
                {
                    Pattern = new ResourcePattern { Type = ResourceType.Topic, Name = "kept", ResourcePatternType = ResourcePatternType.Literal },
                    Entry = new AccessControlEntry { Principal = "User:dave", Host = "*", Operation = AclOperation.Write, PermissionType = AclPermissionType.Allow },
                },
                new AclBinding
                {
                    Pattern = new ResourcePattern { Type = ResourceType.Topic, Name = "ke", ResourcePatternType = ResourcePatternType.Prefixed },
                    Entry = new AccessControlEntry { Principal = "User:dave", Host = "*", Operation = AclOperation.Read, PermissionType = AclPermissionType.Allow },
                },
            ]);
        }
        // Only salted keys are stored: the password appears nowhere under the data directory.
        var stored = await File.ReadAllTextAsync(Path.Combine(_dataDir, "security", "scram-credentials.json"));
        Assert.Contains("SCRAM-SHA-512", stored, StringComparison.Ordinal);
        Assert.DoesNotContain("dave-pw", stored, StringComparison.Ordinal);

        await using (var broker = await BrookBroker.StartAsync(Options()))
        {
            using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServersFor("PLAINTEXT") }).Build();
            var acls = (await admin.DescribeAclsAsync(Everything)).AclBindings;
            Assert.Equal(["kept:Literal:Write", "ke:Prefixed:Read"], acls.Select(a => $"{a.Pattern.Name}:{a.Pattern.ResourcePatternType}:{a.Entry.Operation}").OrderDescending());
            var credentials = (await admin.DescribeUserScramCredentialsAsync(["dave"])).UserScramCredentialsDescriptions.Single().ScramCredentialInfos.Single();
            Assert.Equal(4096, credentials.Iterations);

            using var producer = SecureClients.Producer(SecureClients.Sasl(new ProducerConfig(), broker, "SASL_PLAINTEXT", SaslMechanism.ScramSha512, "dave", "dave-pw"));
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("kept", new Message<string, string> { Key = "k", Value = "after restart" })).Status);

            // Deleting the credential (and the ACLs) is just as durable.
            await admin.AlterUserScramCredentialsAsync([new UserScramCredentialDeletion { User = "dave", Mechanism = Confluent.Kafka.Admin.ScramMechanism.ScramSha512 }]);
            await admin.DeleteAclsAsync([Everything]);
        }

        await using (var broker = await BrookBroker.StartAsync(Options()))
        {
            Assert.Null(broker.Services.GetRequiredService<Brook.Broker.Security.ScramCredentialStore>().Get("dave", Brook.Broker.Security.ScramMechanism.ScramSha512));
            Assert.Empty(broker.Services.GetRequiredService<Brook.Broker.Security.AclStore>().Current.All);
        }
    }
}
