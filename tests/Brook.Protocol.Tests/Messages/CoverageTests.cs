using System.Reflection;
using Brook.Protocol.Messages;

namespace Brook.Protocol.Tests.Messages;

/// <summary>
/// Guards the plan: every API Brook means to serve must have a definition and be covered by the
/// round-trip tests at every version, and a few well-known version ranges are pinned as facts.
/// </summary>
public class CoverageTests
{
    /// <summary>The APIs Brook plans to serve, with Kafka's key for each.</summary>
    public static TheoryData<string, short> PlannedApis => new()
    {
        { "ApiVersions", 18 }, { "Metadata", 3 }, { "Produce", 0 }, { "Fetch", 1 }, { "ListOffsets", 2 },
        { "OffsetForLeaderEpoch", 23 }, { "CreateTopics", 19 }, { "DeleteTopics", 20 }, { "CreatePartitions", 37 },
        { "DeleteRecords", 21 }, { "DescribeConfigs", 32 }, { "AlterConfigs", 33 }, { "IncrementalAlterConfigs", 44 },
        { "DescribeCluster", 60 }, { "DescribeLogDirs", 35 }, { "DescribeTopicPartitions", 75 }, { "FindCoordinator", 10 },
        { "JoinGroup", 11 }, { "SyncGroup", 14 }, { "Heartbeat", 12 }, { "LeaveGroup", 13 }, { "OffsetCommit", 8 },
        { "OffsetFetch", 9 }, { "ListGroups", 16 }, { "DescribeGroups", 15 }, { "DeleteGroups", 42 }, { "OffsetDelete", 47 },
        { "ConsumerGroupHeartbeat", 68 }, { "ConsumerGroupDescribe", 69 }, { "InitProducerId", 22 },
        { "AddPartitionsToTxn", 24 }, { "AddOffsetsToTxn", 25 }, { "EndTxn", 26 }, { "TxnOffsetCommit", 28 },
        { "DescribeProducers", 61 }, { "DescribeTransactions", 65 }, { "ListTransactions", 66 }, { "SaslHandshake", 17 },
        { "SaslAuthenticate", 36 }, { "CreateAcls", 30 }, { "DescribeAcls", 29 }, { "DeleteAcls", 31 },
        { "DescribeUserScramCredentials", 50 }, { "AlterUserScramCredentials", 51 }, { "DescribeClientQuotas", 48 },
        { "AlterClientQuotas", 49 }, { "AlterPartitionReassignments", 45 }, { "ListPartitionReassignments", 46 },
    };

    [Theory]
    [MemberData(nameof(PlannedApis))]
    public void Planned_api_has_a_definition_with_kafkas_key(string name, short key)
    {
        var api = Assert.Single(ApiCatalog.All, a => a.Name == name);
        Assert.Equal(key, api.Key);
        Assert.True(api.LowestVersion <= api.HighestVersion);
        Assert.Equal(key, api.NewRequest().ApiKey);
        Assert.Equal(key, api.NewResponse().ApiKey);
        Assert.EndsWith("Request", api.NewRequest().GetType().Name, StringComparison.Ordinal);
        Assert.EndsWith("Response", api.NewResponse().GetType().Name, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(PlannedApis))]
    public void Planned_api_is_covered_by_round_trips_at_every_version(string name, short key)
    {
        _ = key;
        var api = MessageCases.Api(name);
        var covered = MessageCases.EveryVersion()
            .Select(row => ((string)row[0], (bool)row[1], (short)row[2]))
            .Where(c => c.Item1 == name)
            .ToHashSet();
        for (var v = api.LowestVersion; v <= api.HighestVersion; v++)
        {
            Assert.Contains((name, true, v), covered);
            Assert.Contains((name, false, v), covered);
        }
    }

    [Fact]
    public void Round_trip_tests_draw_their_cases_from_every_version()
    {
        // If someone narrows the data source of the round-trip tests, the coverage above would be a lie.
        foreach (var method in new[] { nameof(RoundTripTests.Randomly_filled_message_reencodes_to_identical_bytes), nameof(RoundTripTests.Default_message_reencodes_to_identical_bytes) })
        {
            var data = typeof(RoundTripTests).GetMethod(method)!.GetCustomAttribute<MemberDataAttribute>()!;
            Assert.Equal(nameof(MessageCases.EveryVersion), data.MemberName);
            Assert.Equal(typeof(MessageCases), data.MemberType);
        }
    }

    [Fact]
    public void Catalog_holds_no_api_outside_the_plan_and_no_duplicates()
    {
        var planned = PlannedApis.Select(row => (string)row[0]).ToHashSet();
        Assert.All(ApiCatalog.All, a => Assert.Contains(a.Name, planned));
        Assert.Equal(ApiCatalog.All.Count, ApiCatalog.All.Select(a => a.Key).Distinct().Count());
        Assert.Equal(ApiCatalog.All.OrderBy(a => a.Key).Select(a => a.Key), ApiCatalog.All.Select(a => a.Key));
    }

    [Theory]
    [InlineData("Produce", 3, 11, 9)]
    [InlineData("Fetch", 4, 17, 12)]
    [InlineData("Metadata", 0, 12, 9)]
    [InlineData("ApiVersions", 0, 4, 3)]
    [InlineData("FindCoordinator", 0, 6, 3)]
    [InlineData("JoinGroup", 0, 9, 6)]
    [InlineData("OffsetCommit", 0, 9, 8)]
    [InlineData("OffsetFetch", 0, 9, 6)]
    [InlineData("CreateTopics", 0, 7, 5)]
    [InlineData("ListOffsets", 0, 10, 6)]
    [InlineData("ConsumerGroupHeartbeat", 0, 1, 0)]
    public void Well_known_version_ranges_and_flexible_thresholds(string name, short lowest, short highest, short firstFlexible)
    {
        var api = MessageCases.Api(name);
        Assert.Equal((lowest, highest, firstFlexible), (api.LowestVersion, api.HighestVersion, api.FirstFlexibleVersion));
        Assert.False(api.IsFlexible((short)(firstFlexible - 1)));
        Assert.True(api.IsFlexible(firstFlexible));
    }

    [Theory]
    [InlineData("SaslHandshake")]
    [InlineData("OffsetDelete")]
    public void Apis_without_a_flexible_version_never_use_flexible_headers(string name)
    {
        var api = MessageCases.Api(name);
        for (var v = api.LowestVersion; v <= api.HighestVersion; v++)
        {
            Assert.False(api.IsFlexible(v));
            Assert.Equal(1, api.RequestHeaderVersion(v));
            Assert.Equal(0, api.ResponseHeaderVersion(v));
        }
    }

    [Fact]
    public void ApiVersions_responses_always_use_header_v0()
    {
        // Clients parse the ApiVersions response before they know whether the broker speaks flexible headers.
        var api = MessageCases.Api("ApiVersions");
        Assert.Equal(2, api.RequestHeaderVersion(3));
        Assert.Equal(0, api.ResponseHeaderVersion(3));
        Assert.Equal(0, api.ResponseHeaderVersion(4));
        Assert.Equal(1, MessageCases.Api("Metadata").ResponseHeaderVersion(9));
    }

    [Fact]
    public void Generated_constants_agree_with_the_catalog()
    {
        Assert.Equal(ProduceRequest.LowestSupportedVersion, MessageCases.Api("Produce").LowestVersion);
        Assert.Equal(FetchResponse.HighestSupportedVersion, MessageCases.Api("Fetch").HighestVersion);
        Assert.Equal(MetadataRequest.FirstFlexibleVersion, MessageCases.Api("Metadata").FirstFlexibleVersion);
        Assert.Equal(ApiKeys.ApiVersions, ApiVersionsRequest.MessageApiKey);
    }
}
