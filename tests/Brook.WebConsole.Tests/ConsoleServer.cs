using System.Net.Http.Json;
using System.Text.Json;
using Brook.Broker;
using Brook.Server;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.WebConsole.Tests;

/// <summary>A broker started the way brook-server starts it, console included, on ephemeral Kafka and HTTP ports.</summary>
public sealed class ConsoleServer : IAsyncLifetime
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public BrookBroker Broker { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string BaseUrl => Broker.HttpAddresses[0];

    public async Task InitializeAsync()
    {
        Broker = await StartAsync(consoleEnabled: true);
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Broker.DisposeAsync();
    }

    public static Task<BrookBroker> StartAsync(bool consoleEnabled) => ServerHost.StartAsync(new ServerOptions(new BrokerOptions
    {
        Listeners = ["PLAINTEXT://127.0.0.1:0"],
        HttpListeners = ["http://127.0.0.1:0"],
        InMemory = true,
        Configs = { ["group.initial.rebalance.delay.ms"] = "0" },
    }, consoleEnabled));

    public async Task<T> GetAsync<T>(string path)
    {
        using var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonSerializer.Deserialize<T>(body, Json)!;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body, options: Json);
        return await Http.SendAsync(request);
    }

    public IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = Broker.BootstrapServers }).Build();

    public IProducer<string, string> Producer() =>
        new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = Broker.BootstrapServers, LingerMs = 1 }).Build();

    public IConsumer<string, string> Consumer(string groupId) => new ConsumerBuilder<string, string>(new ConsumerConfig
    {
        BootstrapServers = Broker.BootstrapServers,
        GroupId = groupId,
        EnableAutoCommit = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        SessionTimeoutMs = 10_000,
    }).Build();

    public async Task CreateTopicAsync(string name, int partitions)
    {
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1 }]);
    }

    /// <summary>Produces <paramref name="count"/> messages to one partition, keyed k{i}, valued v{i}.</summary>
    public async Task FillAsync(string topic, int partition, int count)
    {
        using var producer = Producer();
        for (var i = 0; i < count; i++)
            await producer.ProduceAsync(new TopicPartition(topic, partition), new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
    }

    /// <summary>The group's committed offset of one partition (-1001 when none).</summary>
    public async Task<long> CommittedAsync(string group, string topic, int partition)
    {
        using var admin = Admin();
        var result = await admin.ListConsumerGroupOffsetsAsync([new ConsumerGroupTopicPartitions(group, [new TopicPartition(topic, partition)])]);
        return result[0].Partitions.Single().Offset.Value;
    }

    /// <summary>Polls the consumer (which runs its group protocol) until <paramref name="condition"/> holds; fails at a deadline.</summary>
    public static void PollUntil(IConsumer<string, string> consumer, Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}.");
            consumer.Consume(TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Re-evaluates <paramref name="read"/> until it satisfies <paramref name="done"/>; fails at a deadline with the last value.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {what}; last: {JsonSerializer.Serialize(value, Json)}");
            await Task.Delay(100);
        }
    }
}
