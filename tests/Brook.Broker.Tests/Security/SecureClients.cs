using Confluent.Kafka;

namespace Brook.Broker.Tests.Security;

/// <summary>Confluent.Kafka clients for a broker's secured listeners.</summary>
internal static class SecureClients
{
    public static T Sasl<T>(T config, BrookBroker broker, string listener, SaslMechanism mechanism, string user, string password, string? caPem = null)
        where T : ClientConfig
    {
        config.BootstrapServers = broker.BootstrapServersFor(listener);
        config.SecurityProtocol = caPem is null ? SecurityProtocol.SaslPlaintext : SecurityProtocol.SaslSsl;
        config.SslCaLocation = caPem;
        config.SaslMechanism = mechanism;
        config.SaslUsername = user;
        config.SaslPassword = password;
        return config;
    }

    public static T Ssl<T>(T config, BrookBroker broker, string listener, string caPem, string? certificatePem, string? keyPem)
        where T : ClientConfig
    {
        config.BootstrapServers = broker.BootstrapServersFor(listener);
        config.SecurityProtocol = SecurityProtocol.Ssl;
        config.SslCaLocation = caPem;
        config.SslCertificateLocation = certificatePem;
        config.SslKeyLocation = keyPem;
        return config;
    }

    public static IProducer<string, string> Producer(ProducerConfig config, Action<Error>? onError = null)
    {
        config.LingerMs ??= 5;
        config.MessageTimeoutMs ??= 15_000;
        var builder = new ProducerBuilder<string, string>(config);
        if (onError is not null) builder.SetErrorHandler((_, e) => onError(e));
        return builder.Build();
    }

    /// <summary>Reads partition 0 of a topic from the start until a message arrives or ten seconds pass.</summary>
    public static ConsumeResult<string, string>? ConsumeFirst(ConsumerConfig config, string topic)
    {
        config.GroupId ??= "reader-" + Guid.NewGuid().ToString("N");
        config.EnableAutoCommit = false;
        using var consumer = new ConsumerBuilder<string, string>(config).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { IsPartitionEOF: false } result) return result;
        }
        return null;
    }
}
