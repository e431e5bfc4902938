using Confluent.Kafka;

namespace Brook.Capture;

/// <summary>
/// Produces <c>--count</c> records with Confluent.Kafka in one batch: keys <c>k{i % 3}</c>, values
/// <c>{client-id}-{i}-</c> followed by 100 'x' for i = 1..count, compressed with <c>--codec</c>. The padding makes
/// the batch compressible; librdkafka sends a batch uncompressed when compression would not make it smaller.
/// </summary>
internal static class ConfluentDriver
{
    private static readonly string Padding = new('x', 100);

    public static async Task<int> ProduceAsync(Options options)
    {
        var clientId = options.Get("client-id");
        var topic = options.Get("topic");
        var count = options.GetInt("count");
        var config = new ProducerConfig
        {
            BootstrapServers = options.Get("bootstrap"),
            ClientId = clientId,
            CompressionType = Enum.Parse<CompressionType>(options.Get("codec"), ignoreCase: true),
            LingerMs = 1000,
            MessageTimeoutMs = 30_000,
            EnableIdempotence = false,
        };
        using var producer = new ProducerBuilder<string, string>(config).Build();
        var deliveries = new List<Task<DeliveryResult<string, string>>>();
        for (var i = 1; i <= count; i++)
            deliveries.Add(producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i % 3}", Value = $"{clientId}-{i}-{Padding}" }));
        var results = await Task.WhenAll(deliveries);
        producer.Flush(TimeSpan.FromSeconds(10));
        Console.WriteLine($"confluent-produce: {results.Length} records to {topic} with {config.CompressionType}, last offset {results[^1].Offset}");
        return 0;
    }

    /// <summary>
    /// Reads partition 0 of <c>--topic</c> from the beginning with a Confluent.Kafka consumer (assigned, no group
    /// membership or commits) until <c>--count</c> records arrived, and prints their values.
    /// </summary>
    public static Task<int> ConsumeAsync(Options options)
    {
        var topic = options.Get("topic");
        var count = options.GetInt("count");
        var config = new ConsumerConfig
        {
            BootstrapServers = options.Get("bootstrap"),
            ClientId = options.Get("client-id"),
            GroupId = options.Get("client-id"),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
        };
        using var consumer = new ConsumerBuilder<string, string>(config).SetErrorHandler((_, _) => { }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var values = new List<string>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (values.Count < count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is { IsPartitionEOF: false }) values.Add(result.Message.Value);
        }
        consumer.Close();
        Console.WriteLine($"confluent-consume: {values.Count} records from {topic}");
        return Task.FromResult(values.Count == count ? 0 : 1);
    }
}
