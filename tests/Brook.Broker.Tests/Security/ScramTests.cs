using System.Security.Cryptography;
using System.Text;
using Brook.Broker.Security;
using Brook.Protocol;

namespace Brook.Broker.Tests.Security;

/// <summary>The SCRAM server against RFC 7677's published exchange, a client computed here, and malformed or wrong input.</summary>
public sealed class ScramTests
{
    [Fact]
    public void Rfc7677_test_vector_gives_the_published_server_messages()
    {
        // RFC 7677 section 3: user "user", password "pencil".
        var salt = Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ==");
        var credential = Scram.FromSaltedPassword(ScramMechanism.ScramSha256, salt, Scram.SaltedPassword(ScramMechanism.ScramSha256, "pencil", salt, 4096), 4096);
        var server = new ScramSaslServer(ScramMechanism.ScramSha256, user => user == "user" ? credential : null, () => "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");

        var first = server.Evaluate("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"u8);
        Assert.False(first.IsFailure);
        Assert.Equal("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", Encoding.UTF8.GetString(first.Response));

        var final = server.Evaluate("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="u8);
        Assert.True(final.IsComplete);
        Assert.Equal("user", final.AuthenticatedUser);
        Assert.Equal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Encoding.UTF8.GetString(final.Response));
    }

    [Theory]
    [InlineData(ScramMechanism.ScramSha256)]
    [InlineData(ScramMechanism.ScramSha512)]
    public void A_client_with_the_right_password_authenticates_and_verifies_the_server(ScramMechanism mechanism)
    {
        var credential = Scram.FromPassword(mechanism, "s3cret", 4096);
        var server = new ScramSaslServer(mechanism, user => user == "a,b=c" ? credential : null);
        var (step, serverSignature) = Exchange(server, mechanism, "a=2Cb=3Dc", "s3cret");
        Assert.True(step.IsComplete);
        Assert.Equal("a,b=c", step.AuthenticatedUser);
        Assert.Equal("v=" + Convert.ToBase64String(serverSignature), Encoding.UTF8.GetString(step.Response));
    }

    [Theory]
    [InlineData(ScramMechanism.ScramSha256)]
    [InlineData(ScramMechanism.ScramSha512)]
    public void A_client_final_nonce_that_repeats_the_client_nonce_is_accepted_as_Kafka_accepts_it(ScramMechanism mechanism)
    {
        var credential = Scram.FromPassword(mechanism, "s3cret", 4096);
        var server = new ScramSaslServer(mechanism, user => user == "alice" ? credential : null);
        var (step, serverSignature) = Exchange(server, mechanism, "alice", "s3cret", repeatClientNonce: true);
        Assert.True(step.IsComplete, step.LogReason);
        Assert.Equal("v=" + Convert.ToBase64String(serverSignature), Encoding.UTF8.GetString(step.Response));

        var wrong = Exchange(new ScramSaslServer(mechanism, user => user == "alice" ? credential : null), mechanism, "alice", "other", repeatClientNonce: true).Step;
        Assert.True(wrong.IsFailure);
    }

    [Fact]
    public void Wrong_password_unknown_user_and_foreign_authorization_id_fail_without_telling_which()
    {
        var credential = Scram.FromPassword(ScramMechanism.ScramSha512, "right", 4096);
        ScramCredential? Lookup(string user) => user == "alice" ? credential : null;

        var wrong = Exchange(new ScramSaslServer(ScramMechanism.ScramSha512, Lookup), ScramMechanism.ScramSha512, "alice", "wrong").Step;
        Assert.True(wrong.IsFailure);
        Assert.Contains("invalid credentials with SASL mechanism SCRAM-SHA-512", wrong.ClientError, StringComparison.Ordinal);
        Assert.Contains("wrong password", wrong.LogReason, StringComparison.Ordinal);

        var unknown = new ScramSaslServer(ScramMechanism.ScramSha512, Lookup).Evaluate("n,,n=mallory,r=abc"u8);
        Assert.Equal(wrong.ClientError, unknown.ClientError);
        Assert.Contains("unknown user", unknown.LogReason, StringComparison.Ordinal);

        var impersonation = new ScramSaslServer(ScramMechanism.ScramSha512, Lookup).Evaluate("n,a=bob,n=alice,r=abc"u8);
        Assert.Contains("authorization id that is different", impersonation.ClientError, StringComparison.Ordinal);

        var channelBinding = new ScramSaslServer(ScramMechanism.ScramSha512, Lookup).Evaluate("p=tls-unique,,n=alice,r=abc"u8);
        Assert.True(channelBinding.IsFailure);

        var server = new ScramSaslServer(ScramMechanism.ScramSha512, Lookup);
        Assert.False(server.Evaluate("n,,n=alice,r=abc"u8).IsFailure);
        Assert.True(server.Evaluate("c=biws,r=not-the-nonce,p=AAAA"u8).IsFailure);
        Assert.True(server.Evaluate("anything"u8).IsFailure);
    }

    [Fact]
    public void Plain_checks_user_password_and_authorization_id()
    {
        var users = new Dictionary<string, string> { ["alice"] = "alice-secret" };
        Assert.Equal("alice", new PlainSaslServer(users).Evaluate("\0alice\0alice-secret"u8).AuthenticatedUser);
        Assert.Equal("alice", new PlainSaslServer(users).Evaluate("alice\0alice\0alice-secret"u8).AuthenticatedUser);
        Assert.Equal("Authentication failed: Invalid username or password", new PlainSaslServer(users).Evaluate("\0alice\0nope"u8).ClientError);
        Assert.Equal("Authentication failed: Invalid username or password", new PlainSaslServer(users).Evaluate("\0bob\0alice-secret"u8).ClientError);
        Assert.True(new PlainSaslServer(users).Evaluate("bob\0alice\0alice-secret"u8).IsFailure);
        Assert.True(new PlainSaslServer(users).Evaluate("alice-secret"u8).IsFailure);
    }

    [Fact]
    public void Credential_store_validates_alterations_as_Kafka_does_and_keeps_no_password()
    {
        var store = ScramCredentialStore.InMemory();
        var salt = RandomNumberGenerator.GetBytes(16);
        var salted = Scram.SaltedPassword(ScramMechanism.ScramSha256, "pw", salt, 4096);
        var results = store.Alter(
            [("ghost", ScramMechanism.ScramSha256)],
            [
                ("alice", ScramMechanism.ScramSha256, 4096, salt, salted),
                ("few", ScramMechanism.ScramSha256, 1000, salt, salted),
                ("many", ScramMechanism.ScramSha512, 20000, salt, salted),
                ("", ScramMechanism.ScramSha256, 4096, salt, salted),
                ("odd", ScramMechanism.Unknown, 4096, salt, salted),
                ("twice", ScramMechanism.ScramSha256, 4096, salt, salted),
                ("twice", ScramMechanism.ScramSha512, 4096, salt, salted),
            ]);
        var byUser = results.ToDictionary(r => r.User, r => r.Error);
        Assert.Equal(ErrorCode.ResourceNotFound, byUser["ghost"]);
        Assert.Equal(ErrorCode.None, byUser["alice"]);
        Assert.Equal(ErrorCode.UnacceptableCredential, byUser["few"]);
        Assert.Equal(ErrorCode.UnacceptableCredential, byUser["many"]);
        Assert.Equal(ErrorCode.UnacceptableCredential, byUser[""]);
        Assert.Equal(ErrorCode.UnsupportedSaslMechanism, byUser["odd"]);
        Assert.Equal(ErrorCode.DuplicateResource, byUser["twice"]);

        var stored = store.Get("alice", ScramMechanism.ScramSha256)!;
        Assert.Equal(salt, stored.Salt);
        Assert.NotEqual(salted, stored.StoredKey);
        Assert.NotEqual(salted, stored.ServerKey);
        Assert.Null(store.Get("twice", ScramMechanism.ScramSha256));

        var described = store.Describe(["alice", "nobody", "alice2", "alice2"]);
        Assert.Equal([(ScramMechanism.ScramSha256, 4096)], described.Single(d => d.User == "alice").Credentials);
        Assert.Equal(ErrorCode.ResourceNotFound, described.Single(d => d.User == "nobody").Error);
        Assert.Equal(ErrorCode.DuplicateResource, described.Single(d => d.User == "alice2").Error);
        Assert.Equal(["alice"], store.Describe(null).Select(d => d.User));

        Assert.Equal(ErrorCode.None, store.Alter([("alice", ScramMechanism.ScramSha256)], []).Single().Error);
        Assert.Empty(store.Describe(null));
    }

    /// <summary>The client side of RFC 5802, written from the RFC, for the round trip.</summary>
    private static (SaslStep Step, byte[] ServerSignature) Exchange(ScramSaslServer server, ScramMechanism mechanism, string saslName, string password, bool repeatClientNonce = false)
    {
        const string clientNonce = "fyko+d2lbbFgONRv9qkxdawL";
        var clientFirstBare = $"n={saslName},r={clientNonce}";
        var first = server.Evaluate(Encoding.UTF8.GetBytes("n,," + clientFirstBare));
        if (first.IsFailure) return (first, []);
        var serverFirst = Encoding.UTF8.GetString(first.Response);
        var attributes = serverFirst.Split(',').ToDictionary(a => a[..1], a => a[2..]);
        Assert.StartsWith(clientNonce, attributes["r"], StringComparison.Ordinal);
        var salted = Scram.SaltedPassword(mechanism, password, Convert.FromBase64String(attributes["s"]), int.Parse(attributes["i"], System.Globalization.CultureInfo.InvariantCulture));
        var clientKey = Scram.Hmac(mechanism, salted, "Client Key"u8);
        // librdkafka before 2.6.1 sends the client nonce again in front of the full nonce.
        var withoutProof = $"c=biws,r={(repeatClientNonce ? clientNonce : "")}{attributes["r"]}";
        var authMessage = Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{withoutProof}");
        var signature = Scram.Hmac(mechanism, Scram.Hash(mechanism, clientKey), authMessage);
        var proof = clientKey.Zip(signature, (k, s) => (byte)(k ^ s)).ToArray();
        var serverSignature = Scram.Hmac(mechanism, Scram.Hmac(mechanism, salted, "Server Key"u8), authMessage);
        return (server.Evaluate(Encoding.UTF8.GetBytes($"{withoutProof},p={Convert.ToBase64String(proof)}")), serverSignature);
    }
}
