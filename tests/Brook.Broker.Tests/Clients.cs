using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Brook.Broker.Tests;

/// <summary>Real Confluent.Kafka (librdkafka) clients pointed at a broker, with test-friendly settings.</summary>
internal static class Clients
{
    public static IProducer<string, string> Producer(BrookBroker broker, Action<ProducerConfig>? configure = null)
    {
        var config = new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5, MessageTimeoutMs = 30_000 };
        configure?.Invoke(config);
        return new ProducerBuilder<string, string>(config).Build();
    }

    public static IConsumer<string, string> Consumer(BrookBroker broker, Action<ConsumerConfig>? configure = null)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            GroupId = "test-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        configure?.Invoke(config);
        return new ConsumerBuilder<string, string>(config).Build();
    }

    public static IAdminClient Admin(BrookBroker broker) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build();

    public static async Task CreateTopicAsync(BrookBroker broker, string name, int partitions, Dictionary<string, string>? configs = null)
    {
        using var admin = Admin(broker);
        await admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = 1, Configs = configs }]);
    }

    /// <summary>Reads every partition from the start (no group) until <paramref name="expected"/> messages arrived or a deadline passed.</summary>
    public static List<ConsumeResult<string, string>> ConsumeAll(BrookBroker broker, string topic, int partitions, int expected, TimeSpan? timeout = null)
    {
        using var consumer = Consumer(broker);
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var results = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (results.Count < expected && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is { IsPartitionEOF: false }) results.Add(r);
        }
        return results;
    }
}
