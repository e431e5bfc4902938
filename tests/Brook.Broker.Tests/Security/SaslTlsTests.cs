using System.Collections.Concurrent;
using System.Diagnostics;
using Brook.Protocol.Messages;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.DependencyInjection;
using ErrorCode = Confluent.Kafka.ErrorCode;

namespace Brook.Broker.Tests.Security;

/// <summary>Encrypted and authenticated listeners driven by Confluent.Kafka (librdkafka), and by a bare socket where a client must misbehave.</summary>
public sealed class SaslTlsTests : IDisposable
{
    private readonly TestCertificates _certs = TestCertificates.Create();

    public void Dispose() => _certs.Dispose();

    private static Task<BrookBroker> StartAsync(string[] listeners, Dictionary<string, string> configs)
    {
        var options = new BrokerOptions { Listeners = [.. listeners], InMemory = true };
        foreach (var (k, v) in configs) options.Configs[k] = v;
        return BrookBroker.StartAsync(options);
    }

    private static Message<string, string> Text(string value) => new() { Key = "k", Value = value };

    [Fact]
    public async Task Scram_sha_512_over_sasl_ssl_with_credentials_set_by_the_admin_api()
    {
        await using var broker = await StartAsync(["PLAINTEXT://127.0.0.1:0", "SASL_SSL://127.0.0.1:0"], new()
        {
            ["ssl.keystore.type"] = "PEM",
            ["ssl.keystore.location"] = _certs.BrokerPem,
            ["sasl.enabled.mechanisms"] = "SCRAM-SHA-512",
        });
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServersFor("PLAINTEXT") }).Build())
        {
            await admin.AlterUserScramCredentialsAsync([new UserScramCredentialUpsertion
            {
                User = "alice",
                ScramCredentialInfo = new ScramCredentialInfo { Mechanism = Confluent.Kafka.Admin.ScramMechanism.ScramSha512, Iterations = 8192 },
                Password = "alice-secret"u8.ToArray(),
                Salt = "0123456789abcdef"u8.ToArray(),
            }]);
            var described = (await admin.DescribeUserScramCredentialsAsync(["alice"])).UserScramCredentialsDescriptions.Single();
            Assert.Equal((Confluent.Kafka.Admin.ScramMechanism.ScramSha512, 8192), (described.ScramCredentialInfos.Single().Mechanism, described.ScramCredentialInfos.Single().Iterations));
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "scram", NumPartitions = 1, ReplicationFactor = 1 }]);
        }

        using (var producer = SecureClients.Producer(SecureClients.Sasl(new ProducerConfig(), broker, "SASL_SSL", SaslMechanism.ScramSha512, "alice", "alice-secret", _certs.CaPem)))
        {
            var report = await producer.ProduceAsync("scram", Text("over tls"));
            Assert.Equal(PersistenceStatus.Persisted, report.Status);
        }
        var received = SecureClients.ConsumeFirst(SecureClients.Sasl(new ConsumerConfig(), broker, "SASL_SSL", SaslMechanism.ScramSha512, "alice", "alice-secret", _certs.CaPem), "scram");
        Assert.Equal("over tls", received?.Message.Value);

        // Clients are told the address of the listener they came through.
        using var secureAdmin = new AdminClientBuilder(SecureClients.Sasl(new AdminClientConfig(), broker, "SASL_SSL", SaslMechanism.ScramSha512, "alice", "alice-secret", _certs.CaPem)).Build();
        Assert.Equal(broker.Node.EndpointFor("SASL_SSL").Port, secureAdmin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Single().Port);
        Assert.NotEqual(broker.Node.EndpointFor("PLAINTEXT").Port, broker.Node.EndpointFor("SASL_SSL").Port);
    }

    [Fact]
    public async Task Plain_over_sasl_ssl_with_a_pkcs12_keystore()
    {
        await using var broker = await StartAsync(["SASL_SSL://127.0.0.1:0"], new()
        {
            ["ssl.keystore.location"] = _certs.BrokerP12,
            ["ssl.keystore.password"] = TestCertificates.Pkcs12Password,
            ["sasl.enabled.mechanisms"] = "PLAIN",
            ["sasl.plain.users"] = "alice:alice-secret,bob:bob-pw",
        });
        using (var producer = SecureClients.Producer(SecureClients.Sasl(new ProducerConfig(), broker, "SASL_SSL", SaslMechanism.Plain, "alice", "alice-secret", _certs.CaPem)))
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("plain", Text("hello"))).Status);
        var received = SecureClients.ConsumeFirst(SecureClients.Sasl(new ConsumerConfig(), broker, "SASL_SSL", SaslMechanism.Plain, "bob", "bob-pw", _certs.CaPem), "plain");
        Assert.Equal("hello", received?.Message.Value);
    }

    [Fact]
    public async Task Ssl_client_certificate_subject_is_the_principal_and_untrusted_certificates_are_refused()
    {
        var brokerPem = await File.ReadAllTextAsync(_certs.BrokerPem);
        await using var broker = await StartAsync(["PLAINTEXT://127.0.0.1:0", "SSL://127.0.0.1:0"], new()
        {
            ["listener.name.ssl.ssl.keystore.type"] = "PEM",
            ["listener.name.ssl.ssl.keystore.certificate.chain"] = brokerPem,
            ["listener.name.ssl.ssl.keystore.key"] = brokerPem,
            ["listener.name.ssl.ssl.truststore.type"] = "PEM",
            ["listener.name.ssl.ssl.truststore.location"] = _certs.CaPem,
            ["listener.name.ssl.ssl.client.auth"] = "required",
            ["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            ["super.users"] = "User:ANONYMOUS",
        });
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServersFor("PLAINTEXT") }).Build())
        {
            await admin.CreateTopicsAsync([new TopicSpecification { Name = "certs", NumPartitions = 1 }, new TopicSpecification { Name = "other", NumPartitions = 1 }]);
            await admin.CreateAclsAsync([new AclBinding
            {
                Pattern = new ResourcePattern { Type = Confluent.Kafka.Admin.ResourceType.Topic, Name = "certs", ResourcePatternType = ResourcePatternType.Literal },
                Entry = new AccessControlEntry { Principal = "User:" + TestCertificates.ClientSubject, Host = "*", Operation = Confluent.Kafka.Admin.AclOperation.Write, PermissionType = Confluent.Kafka.Admin.AclPermissionType.Allow },
            }]);
        }

        var config = SecureClients.Ssl(new ProducerConfig(), broker, "SSL", _certs.CaPem, _certs.ClientCertificatePem, _certs.ClientKeyPem);
        using (var producer = SecureClients.Producer(config))
        {
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("certs", Text("signed"))).Status);
            var denied = await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync("other", Text("not mine")));
            Assert.Equal(ErrorCode.TopicAuthorizationFailed, denied.Error.Code);
        }

        var errors = new ConcurrentQueue<Error>();
        using var intruder = new AdminClientBuilder(SecureClients.Ssl(new AdminClientConfig(), broker, "SSL", _certs.CaPem, _certs.UntrustedClientCertificatePem, _certs.UntrustedClientKeyPem))
            .SetErrorHandler((_, e) => errors.Enqueue(e)).Build();
        Assert.ThrowsAny<KafkaException>(() => intruder.GetMetadata(TimeSpan.FromSeconds(3)));
        Assert.True(SpinWait.SpinUntil(() => !errors.IsEmpty, TimeSpan.FromSeconds(10)));
        Assert.Equal(1, broker.Store.GetTopic("certs")!.PartitionCount);
    }

    [Fact]
    public async Task A_listener_key_store_changed_at_run_time_serves_new_connections_with_the_new_certificate()
    {
        using var renewed = TestCertificates.Create();
        await using var broker = await StartAsync(["PLAINTEXT://127.0.0.1:0", "SSL://127.0.0.1:0"], new()
        {
            ["listener.name.ssl.ssl.keystore.location"] = _certs.BrokerP12,
            ["listener.name.ssl.ssl.keystore.password"] = TestCertificates.Pkcs12Password,
        });
        ProducerConfig Trusting(string caPem) => SecureClients.Ssl(new ProducerConfig { MessageTimeoutMs = 5000 }, broker, "SSL", caPem, null, null);
        using (var producer = SecureClients.Producer(Trusting(_certs.CaPem)))
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("rotated", Text("old certificate"))).Status);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServersFor("PLAINTEXT") }).Build();
        var listenerKeyStore = new ConfigResource { Type = ResourceType.Broker, Name = "1" };
        Task Rotate(string location) => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [listenerKeyStore] = [new ConfigEntry { Name = "listener.name.ssl.ssl.keystore.location", Value = location, IncrementalOperation = AlterConfigOpType.Set }],
        });

        // A key store that cannot be loaded is refused before it is stored, and the listener keeps its certificate.
        var missing = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => Rotate("/nonexistent/broker.p12"));
        Assert.Equal(ErrorCode.InvalidRequest, missing.Results[0].Error.Code);
        Assert.Contains("does not exist", missing.Results[0].Error.Reason, StringComparison.Ordinal);

        await Rotate(renewed.BrokerP12);
        using (var producer = SecureClients.Producer(Trusting(renewed.CaPem)))
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("rotated", Text("new certificate"))).Status);
        using (var stale = SecureClients.Producer(Trusting(_certs.CaPem)))
            await Assert.ThrowsAsync<ProduceException<string, string>>(() => stale.ProduceAsync("rotated", Text("old trust only")));
    }

    [Fact]
    public async Task Scram_sha_256_over_sasl_plaintext_with_credentials_set_in_process()
    {
        await using var broker = await StartAsync(["SASL_PLAINTEXT://127.0.0.1:0"], new() { ["sasl.enabled.mechanisms"] = "SCRAM-SHA-256" });
        broker.Services.GetRequiredService<Brook.Broker.Security.ScramCredentialStore>().SetPassword("carol", Brook.Broker.Security.ScramMechanism.ScramSha256, "carol-pw");
        using (var producer = SecureClients.Producer(SecureClients.Sasl(new ProducerConfig(), broker, "SASL_PLAINTEXT", SaslMechanism.ScramSha256, "carol", "carol-pw")))
            Assert.Equal(PersistenceStatus.Persisted, (await producer.ProduceAsync("sha256", Text("plain tcp"))).Status);
        var received = SecureClients.ConsumeFirst(SecureClients.Sasl(new ConsumerConfig(), broker, "SASL_PLAINTEXT", SaslMechanism.ScramSha256, "carol", "carol-pw"), "sha256");
        Assert.Equal("plain tcp", received?.Message.Value);
    }

    [Theory]
    [InlineData("SCRAM-SHA-256", "carol", "wrong-password", "invalid credentials with SASL mechanism SCRAM-SHA-256")]
    [InlineData("SCRAM-SHA-256", "mallory", "carol-pw", "invalid credentials with SASL mechanism SCRAM-SHA-256")]
    [InlineData("PLAIN", "carol", "wrong-password", "Invalid username or password")]
    [InlineData("PLAIN", "mallory", "carol-pw", "Invalid username or password")]
    public async Task Wrong_password_and_unknown_user_are_refused_with_a_clear_error_and_nothing_is_served(string mechanism, string user, string password, string expected)
    {
        await using var broker = await StartAsync(["SASL_PLAINTEXT://127.0.0.1:0"], new() { ["sasl.plain.users"] = "carol:carol-pw" });
        broker.Services.GetRequiredService<Brook.Broker.Security.ScramCredentialStore>().SetPassword("carol", Brook.Broker.Security.ScramMechanism.ScramSha256, "carol-pw");

        var errors = new ConcurrentQueue<Error>();
        var saslMechanism = mechanism == "PLAIN" ? SaslMechanism.Plain : SaslMechanism.ScramSha256;
        using (var producer = SecureClients.Producer(SecureClients.Sasl(new ProducerConfig { MessageTimeoutMs = 3000 }, broker, "SASL_PLAINTEXT", saslMechanism, user, password), errors.Enqueue))
        {
            await Assert.ThrowsAsync<ProduceException<string, string>>(() => producer.ProduceAsync("must-not-exist", Text("x")));
        }
        var authentication = errors.FirstOrDefault(e => e.Code == ErrorCode.Local_Authentication);
        Assert.NotNull(authentication);
        Assert.Contains(expected, authentication.Reason, StringComparison.Ordinal);
        Assert.Null(broker.Store.GetTopic("must-not-exist"));
    }

    [Fact]
    public async Task A_client_that_skips_authentication_is_disconnected_after_its_first_other_request()
    {
        await using var broker = await StartAsync(["SASL_PLAINTEXT://127.0.0.1:0"], new() { ["sasl.plain.users"] = "carol:carol-pw" });
        using (var client = await RawClient.ConnectAsync(broker))
        {
            await Assert.ThrowsAsync<IOException>(() => client.SendAsync<MetadataResponse>(
                new MetadataRequest { Topics = [new MetadataRequest.MetadataRequestTopic { Name = "sneaky" }], AllowAutoTopicCreation = true }, 12));
        }
        using (var client = await RawClient.ConnectAsync(broker))
        {
            var versions = await client.SendAsync<ApiVersionsResponse>(new ApiVersionsRequest { ClientSoftwareName = "raw", ClientSoftwareVersion = "1" }, 3);
            Assert.Contains(versions.ApiKeys, k => k.ApiKey == ApiKeys.SaslHandshake);
            await Assert.ThrowsAsync<IOException>(() => client.SendAsync<CreateTopicsResponse>(
                new CreateTopicsRequest { Topics = [new CreateTopicsRequest.CreatableTopic { Name = "sneaky", NumPartitions = 1, ReplicationFactor = 1 }] }, 7));
        }
        Assert.Null(broker.Store.GetTopic("sneaky"));
    }

    [Fact]
    public async Task Sasl_exchange_rules_handshake_v0_raw_tokens_delayed_failures_and_no_second_handshake()
    {
        var delay = TimeSpan.FromMilliseconds(300);
        await using var broker = await StartAsync(["SASL_PLAINTEXT://127.0.0.1:0"], new()
        {
            ["sasl.plain.users"] = "carol:carol-pw",
            ["connection.failed.authentication.delay.ms"] = ((int)delay.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // v0: the token follows as a bare size-prefixed frame and the answer is one too.
        using (var client = await RawClient.ConnectAsync(broker))
        {
            var handshake = await client.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 0);
            Assert.Equal(0, handshake.ErrorCode);
            Assert.Contains("PLAIN", handshake.Mechanisms);
            await client.SendRawAsync(Frame("\0carol\0carol-pw"u8));
            Assert.Equal(Array.Empty<byte>(), await client.ReadFrameAsync());
            var metadata = await client.SendAsync<MetadataResponse>(new MetadataRequest { Topics = null }, 1);
            Assert.Equal(broker.Node.NodeId, metadata.Brokers.Single().NodeId);
        }
        using (var client = await RawClient.ConnectAsync(broker))
        {
            await client.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 0);
            await client.SendRawAsync(Frame("\0carol\0nope"u8));
            Assert.Null(await client.ReadFrameAsync());
        }

        // An unknown mechanism is refused, then the connection closes.
        using (var client = await RawClient.ConnectAsync(broker))
        {
            var handshake = await client.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "GSSAPI" }, 1);
            Assert.Equal((short)Protocol.ErrorCode.UnsupportedSaslMechanism, handshake.ErrorCode);
            Assert.Null(await client.ReadFrameAsync());
        }

        // A failed SaslAuthenticate is answered only after the delay, with a message, and the connection closes.
        using (var client = await RawClient.ConnectAsync(broker))
        {
            await client.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
            var clock = Stopwatch.StartNew();
            var failed = await client.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = "\0carol\0nope"u8.ToArray() }, 2);
            Assert.True(clock.Elapsed >= delay - TimeSpan.FromMilliseconds(20), $"answered after {clock.ElapsedMilliseconds} ms");
            Assert.Equal((short)Protocol.ErrorCode.SaslAuthenticationFailed, failed.ErrorCode);
            Assert.Equal("Authentication failed: Invalid username or password", failed.ErrorMessage);
            Assert.Null(await client.ReadFrameAsync());
        }

        // After success the session never expires (lifetime 0) and SASL requests are out of turn.
        using (var client = await RawClient.ConnectAsync(broker))
        {
            await client.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
            var ok = await client.SendAsync<SaslAuthenticateResponse>(new SaslAuthenticateRequest { AuthBytes = "\0carol\0carol-pw"u8.ToArray() }, 1);
            Assert.Equal((0, 0L), (ok.ErrorCode, ok.SessionLifetimeMs));
            var again = await client.SendAsync<SaslHandshakeResponse>(new SaslHandshakeRequest { Mechanism = "PLAIN" }, 1);
            Assert.Equal((short)Protocol.ErrorCode.IllegalSaslState, again.ErrorCode);
            Assert.Equal(broker.Node.NodeId, (await client.SendAsync<MetadataResponse>(new MetadataRequest { Topics = null }, 1)).Brokers.Single().NodeId);
        }
    }

    [Fact]
    public async Task Misconfigured_listeners_fail_at_start_with_a_message()
    {
        var unmapped = await Assert.ThrowsAsync<ArgumentException>(() => StartAsync(["INTERNAL://127.0.0.1:0"], []));
        Assert.Contains("listener.security.protocol.map", unmapped.Message, StringComparison.Ordinal);
        var noCertificate = await Assert.ThrowsAsync<ArgumentException>(() => StartAsync(["SSL://127.0.0.1:0"], []));
        Assert.Contains("ssl.keystore.location", noCertificate.Message, StringComparison.Ordinal);
        var missingFile = await Assert.ThrowsAsync<ArgumentException>(() => StartAsync(["SSL://127.0.0.1:0"], new() { ["ssl.keystore.location"] = "/nonexistent/broker.p12" }));
        Assert.Contains("ssl.keystore.location '/nonexistent/broker.p12' does not exist", missingFile.Message, StringComparison.Ordinal);
        var badMechanism = await Assert.ThrowsAsync<ArgumentException>(() => StartAsync(["SASL_PLAINTEXT://127.0.0.1:0"], new() { ["sasl.enabled.mechanisms"] = "GSSAPI" }));
        Assert.Contains("GSSAPI", badMechanism.Message, StringComparison.Ordinal);

        // A named listener mapped to a protocol works like the protocol's own name.
        await using var broker = await StartAsync(["INTERNAL://127.0.0.1:0"], new() { ["listener.security.protocol.map"] = "INTERNAL:PLAINTEXT" });
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServersFor("INTERNAL") }).Build();
        Assert.Single(admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers);
    }

    private static byte[] Frame(ReadOnlySpan<byte> token)
    {
        var frame = new byte[4 + token.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame, token.Length);
        token.CopyTo(frame.AsSpan(4));
        return frame;
    }
}
