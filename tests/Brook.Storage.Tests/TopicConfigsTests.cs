using Brook.Protocol.Records;

namespace Brook.Storage.Tests;

public sealed class TopicConfigsTests
{
    private static readonly Dictionary<string, string> None = [];

    [Fact]
    public void Kafka_defaults_apply_without_broker_or_topic_settings()
    {
        var config = LogConfig.Default;

        Assert.Equal(CleanupPolicy.Delete, config.CleanupPolicy);
        Assert.Equal(604_800_000, config.RetentionMs);
        Assert.Equal(-1, config.RetentionBytes);
        Assert.Equal(1_073_741_824, config.SegmentBytes);
        Assert.Equal(604_800_000, config.SegmentMs);
        Assert.Equal(1_048_588, config.MaxMessageBytes);
        Assert.Equal(4096, config.IndexIntervalBytes);
        Assert.Equal(86_400_000, config.DeleteRetentionMs);
        Assert.Equal(0.5, config.MinCleanableDirtyRatio);
        Assert.Equal(long.MaxValue, config.FlushMessages);
        Assert.Equal(TimestampType.CreateTime, config.MessageTimestampType);
        Assert.Equal("producer", config.CompressionType);
        Assert.Equal(1, config.MinInSyncReplicas);
    }

    [Fact]
    public void Topic_overrides_beat_broker_synonyms_which_beat_defaults()
    {
        var broker = new Dictionary<string, string> { ["log.retention.hours"] = "2", ["log.segment.bytes"] = "1000", ["log.cleanup.policy"] = "compact" };
        var topic = new Dictionary<string, string> { ["segment.bytes"] = "500", ["message.timestamp.type"] = "LogAppendTime" };

        var config = LogConfig.Create(broker, topic);

        Assert.Equal(7_200_000, config.RetentionMs);
        Assert.Equal(500, config.SegmentBytes);
        Assert.Equal(CleanupPolicy.Compact, config.CleanupPolicy);
        Assert.Equal(TimestampType.LogAppendTime, config.MessageTimestampType);
    }

    [Fact]
    public void Retention_in_ms_beats_minutes_and_hours_at_broker_level()
    {
        var broker = new Dictionary<string, string> { ["log.retention.hours"] = "2", ["log.retention.minutes"] = "3", ["log.retention.ms"] = "4000" };

        Assert.Equal(4000, LogConfig.Create(broker, None).RetentionMs);
        broker.Remove("log.retention.ms");
        Assert.Equal(180_000, LogConfig.Create(broker, None).RetentionMs);
    }

    [Fact]
    public void Compact_and_delete_together_set_both_policies()
    {
        var config = LogConfig.Create(None, new Dictionary<string, string> { ["cleanup.policy"] = "compact,delete" });

        Assert.True(config.IsCompacted);
        Assert.True(config.DeletesByRetention);
    }

    [Theory]
    [InlineData("retention.ms", "-1")]
    [InlineData("retention.bytes", "-1")]
    [InlineData("cleanup.policy", "delete,compact")]
    [InlineData("segment.bytes", "14")]
    [InlineData("min.cleanable.dirty.ratio", "0.9")]
    [InlineData("compression.type", "zstd")]
    [InlineData("unclean.leader.election.enable", "TRUE")]
    [InlineData("flush.messages", "1")]
    [InlineData("leader.replication.throttled.replicas", "0:1,1:2")]
    public void Valid_values_are_accepted(string name, string value) => Assert.Null(TopicConfigs.Validate(name, value));

    [Theory]
    [InlineData("retention.ms", "-2")]
    [InlineData("retention.ms", "soon")]
    [InlineData("cleanup.policy", "archive")]
    [InlineData("cleanup.policy", "compact,compact")]
    [InlineData("segment.bytes", "13")]
    [InlineData("segment.bytes", "3000000000")]
    [InlineData("min.cleanable.dirty.ratio", "1.5")]
    [InlineData("compression.type", "brotli")]
    [InlineData("message.timestamp.type", "Now")]
    [InlineData("preallocate", "yes")]
    [InlineData("min.insync.replicas", "0")]
    [InlineData("flush.messages", "0")]
    public void Invalid_values_are_rejected_with_a_message(string name, string value)
    {
        var error = TopicConfigs.Validate(name, value);

        Assert.NotNull(error);
        Assert.Contains(name, error);
    }

    [Fact]
    public void Unknown_names_and_null_values_are_rejected()
    {
        var errors = TopicConfigs.Validate(new Dictionary<string, string?> { ["retention.ms"] = "1", ["no.such.config"] = "1", ["segment.ms"] = null });

        Assert.Equal(["no.such.config", "segment.ms"], errors.Select(e => e.Name).Order());
    }

    [Fact]
    public void Describe_lists_every_config_with_value_and_source()
    {
        var broker = new Dictionary<string, string> { ["log.retention.hours"] = "1" };
        var topic = new Dictionary<string, string> { ["segment.bytes"] = "2048" };

        var entries = TopicConfigs.Describe(broker, topic).ToDictionary(e => e.Name);

        Assert.Equal(TopicConfigs.All.Count, entries.Count);
        Assert.Equal(("2048", ConfigSource.Topic), (entries["segment.bytes"].Value, entries["segment.bytes"].Source));
        Assert.Equal(("3600000", ConfigSource.Broker), (entries["retention.ms"].Value, entries["retention.ms"].Source));
        Assert.Equal(("delete", ConfigSource.Default), (entries["cleanup.policy"].Value, entries["cleanup.policy"].Source));
        // As Kafka: the default is listed under the broker name that carries it, not under the topic config's own name.
        Assert.Equal(["segment.bytes", "log.segment.bytes", "log.segment.bytes"], Synonyms(entries["segment.bytes"], new Dictionary<string, string> { ["log.segment.bytes"] = "1" }, topic));
    }

    [Fact]
    public void Synonyms_name_the_broker_settings_a_topic_config_falls_back_to_with_their_sources()
    {
        var unset = TopicConfigs.Describe(new Dictionary<string, string>(), None).Single(e => e.Name == "retention.ms");
        Assert.Equal(("604800000", ConfigSource.Default), (unset.Value, unset.Source));
        Assert.Equal([("log.retention.hours", "168", ConfigSource.Default)], unset.Synonyms.Select(s => (s.Name, s.Value, s.Source)));

        var layered = TopicConfigs.Describe(new Dictionary<string, string> { ["log.retention.minutes"] = "30" }, new Dictionary<string, string> { ["retention.ms"] = "1000" })
            .Single(e => e.Name == "retention.ms");
        Assert.Equal(("1000", ConfigSource.Topic), (layered.Value, layered.Source));
        Assert.Equal([("retention.ms", "1000", ConfigSource.Topic), ("log.retention.minutes", "30", ConfigSource.Broker), ("log.retention.hours", "168", ConfigSource.Default)],
            layered.Synonyms.Select(s => (s.Name, s.Value, s.Source)));

        var jitter = TopicConfigs.Describe(new Dictionary<string, string>(), None).Single(e => e.Name == "segment.jitter.ms");
        Assert.Equal([("log.roll.jitter.hours", "0", ConfigSource.Default)], jitter.Synonyms.Select(s => (s.Name, s.Value, s.Source)));

        // A topic config with no broker-level name has no synonyms, and its default as the value.
        var throttled = TopicConfigs.Describe(new Dictionary<string, string>(), None).Single(e => e.Name == "leader.replication.throttled.replicas");
        Assert.Equal(("", ConfigSource.Default), (throttled.Value, throttled.Source));
        Assert.Empty(throttled.Synonyms);
    }

    [Fact]
    public void Invalid_broker_defaults_are_reported_under_the_broker_name()
    {
        var errors = TopicConfigs.ValidateBrokerDefaults(new Dictionary<string, string> { ["log.segment.bytes"] = "1", ["log.retention.hours"] = "x" });

        Assert.Equal(["log.retention.hours", "log.segment.bytes"], errors.Select(e => e.Name).Order());
        Assert.Throws<ArgumentException>(() => LogConfig.Create(new Dictionary<string, string> { ["log.segment.bytes"] = "1" }, None));
    }

    private static IEnumerable<string> Synonyms(ConfigEntry entry, Dictionary<string, string> broker, Dictionary<string, string> topic) =>
        TopicConfigs.Describe(broker, topic).Single(e => e.Name == entry.Name).Synonyms.Select(s => s.Name);
}
