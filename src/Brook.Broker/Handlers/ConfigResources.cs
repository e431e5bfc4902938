namespace Brook.Broker.Handlers;

/// <summary>Kafka's config resource types (DescribeConfigs, AlterConfigs, IncrementalAlterConfigs).</summary>
internal static class ConfigResourceType
{
    public const sbyte Topic = 2;
    public const sbyte Broker = 4;
    public const sbyte BrokerLogger = 8;
}

/// <summary>Kafka's config value types as DescribeConfigs v3+ reports them.</summary>
internal static class ConfigTypeCode
{
    public static sbyte From(Storage.ConfigValueType type) => type switch
    {
        Storage.ConfigValueType.Boolean => 1,
        Storage.ConfigValueType.String => 2,
        Storage.ConfigValueType.Int => 3,
        Storage.ConfigValueType.Short => 4,
        Storage.ConfigValueType.Long => 5,
        Storage.ConfigValueType.Double => 6,
        Storage.ConfigValueType.List => 7,
        Storage.ConfigValueType.Password => 9,
        _ => 0,
    };
}

/// <summary>Checks shared by the config-altering APIs.</summary>
internal static class ConfigResources
{
    /// <summary>Kafka's message when one resource names a config twice (INVALID_REQUEST).</summary>
    public const string DuplicateKeysMessage = "Error due to duplicate config keys";

    public static bool HasDuplicateNames(IEnumerable<string> names)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return names.Any(n => !seen.Add(n));
    }
}
