using System.Net.Http.Json;
using System.Text.Json;
using Brook.Broker;
using Brook.Server;
using Confluent.Kafka;

namespace Brook.WebConsole.Tests;

/// <summary>
/// A server whose only Kafka listener requires SASL, with ACLs enforced: the console logs in as the super user "console"
/// (PLAIN, from console.kafka.* settings); SCRAM users made in the console log in on the same listener.
/// </summary>
public sealed class SecureConsoleServer : IAsyncLifetime
{
    public const string ConsoleUser = "console";
    public const string ConsolePassword = "console-secret";

    public BrookBroker Broker { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string BaseUrl => Broker.HttpAddresses[0];

    public async Task InitializeAsync()
    {
        Broker = await StartAsync(new Dictionary<string, string>
        {
            ["sasl.mechanism"] = "PLAIN",
            ["sasl.username"] = ConsoleUser,
            ["sasl.password"] = ConsolePassword,
        });
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Broker.DisposeAsync();
    }

    /// <summary>A SASL-only broker with an authorizer; <paramref name="consoleClient"/> are the console's console.kafka.* settings.</summary>
    public static Task<BrookBroker> StartAsync(IReadOnlyDictionary<string, string> consoleClient)
    {
        var broker = new BrokerOptions
        {
            Listeners = ["SASL_PLAINTEXT://127.0.0.1:0"],
            HttpListeners = ["http://127.0.0.1:0"],
            InMemory = true,
            Configs =
            {
                ["sasl.enabled.mechanisms"] = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
                ["sasl.plain.users"] = $"{ConsoleUser}:{ConsolePassword}",
                ["authorizer.class.name"] = "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                ["super.users"] = $"User:{ConsoleUser}",
            },
        };
        return ServerHost.StartAsync(new ServerOptions(broker) { ConsoleClient = consoleClient });
    }

    public async Task<T> GetAsync<T>(string path)
    {
        using var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<T>(body, ConsoleServer.Json)!;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, options: ConsoleServer.Json);
        return await Http.SendAsync(request);
    }

    /// <summary>An admin client logged in as the console's super user.</summary>
    public IAdminClient Admin() => new AdminClientBuilder(Client(new AdminClientConfig(), SaslMechanism.Plain, ConsoleUser, ConsolePassword)).Build();

    public T Client<T>(T config, SaslMechanism mechanism, string user, string password) where T : ClientConfig
    {
        config.BootstrapServers = Broker.BootstrapServersFor("SASL_PLAINTEXT");
        config.SecurityProtocol = SecurityProtocol.SaslPlaintext;
        config.SaslMechanism = mechanism;
        config.SaslUsername = user;
        config.SaslPassword = password;
        return config;
    }

    /// <summary>Whether <paramref name="user"/> logs in with SCRAM: an authenticated Metadata request answers (a refused login never does).</summary>
    public bool CanLogIn(string user, string password, SaslMechanism mechanism)
    {
        using var admin = new AdminClientBuilder(Client(new AdminClientConfig(), mechanism, user, password)).Build();
        try
        {
            admin.GetMetadata(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (KafkaException)
        {
            return false;
        }
    }
}
