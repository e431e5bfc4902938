using Confluent.Kafka;

namespace Brook.CrashHarness;

/// <summary>Client settings for a broker that keeps dying: reconnect quickly, wait long for deliveries, log nothing.</summary>
internal static class ClientSettings
{
    public static T Apply<T>(T config, string bootstrap)
        where T : ClientConfig
    {
        config.BootstrapServers = bootstrap;
        config.ReconnectBackoffMs = 50;
        config.ReconnectBackoffMaxMs = 500;
        config.SocketConnectionSetupTimeoutMs = 5_000;
        config.TopicMetadataRefreshIntervalMs = 5_000;
        // With the only broker down, librdkafka's default "rebootstrap" recovery decommissions the broker it learned;
        // a transactional producer then keeps that dead handle as group coordinator and send_offsets_to_transaction
        // never sends TxnOffsetCommit (librdkafka issue 5511). Reconnecting to the same broker avoids that.
        config.Set("metadata.recovery.strategy", "none");
        return config;
    }

    public static void IgnoreLog(IClient client, LogMessage message)
    {
    }
}
