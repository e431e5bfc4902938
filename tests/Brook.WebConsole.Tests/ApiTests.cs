using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Brook.Admin;
using Confluent.Kafka;

namespace Brook.WebConsole.Tests;

/// <summary>The console's JSON API against a broker started as the server starts it, checked with real Kafka clients.</summary>
public sealed class ApiTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task A_topic_created_through_the_api_is_listed_with_its_partitions_messages_size_and_configs()
    {
        var created = await server.SendAsync(HttpMethod.Post, "/api/topics", new
        {
            name = "api-created",
            partitions = 2,
            configs = new Dictionary<string, string> { ["retention.ms"] = "3600000", ["cleanup.policy"] = "compact" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await server.FillAsync("api-created", 1, 3);

        var topics = await server.GetAsync<TopicSummaries>("/api/topics");
        var topic = Assert.Single(topics.Topics, t => t.Name == "api-created");
        Assert.Equal(2, topic.Partitions);
        Assert.Equal(3, topic.Messages);
        Assert.True(topic.SizeBytes > 0, $"size {topic.SizeBytes}");
        Assert.Equal("3600000", topic.RetentionMs);
        Assert.Equal("compact", topic.CleanupPolicy);
        Assert.Null(topics.SizeError);
        Assert.Contains(topics.Topics, t => t.Name == "__consumer_offsets" && t.IsInternal);

        var details = await server.GetAsync<TopicView>("/api/topics/api-created");
        Assert.Equal([0L, 3L], details.Partitions.Select(p => p.EndOffset));
        Assert.Equal(0, details.Partitions[0].SizeBytes);
        Assert.True(details.Partitions[1].SizeBytes > 0);
        Assert.Equal(details.SizeBytes, topic.SizeBytes);
    }

    [Fact]
    public async Task A_topic_id_is_shown_in_kafkas_url_safe_form()
    {
        // Enough topics that some id has a character standard base64 writes as '+' or '/'.
        var names = Enumerable.Range(0, 12).Select(i => $"api-id-{i}").ToList();
        foreach (var name in names) await server.CreateTopicAsync(name, 1);
        foreach (var name in names)
        {
            var shown = (await server.GetAsync<TopicView>($"/api/topics/{name}")).TopicId;
            Assert.Equal(server.Broker.Store.GetTopic(name)!.TopicId.ToString(), shown);
            Assert.Matches("^[A-Za-z0-9_-]{22}$", shown);
        }
    }

    [Fact]
    public async Task A_topic_is_deleted_through_the_api()
    {
        await server.CreateTopicAsync("api-doomed", 1);
        var deleted = await server.SendAsync(HttpMethod.Delete, "/api/topics/api-doomed");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var admin = server.Admin();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(metadata.Topics, t => t.Topic == "api-doomed");
    }

    [Fact]
    public async Task A_produced_message_is_read_back_by_a_real_consumer_and_browsed_with_key_value_and_headers()
    {
        await server.CreateTopicAsync("api-produce", 3);
        var response = await server.SendAsync(HttpMethod.Post, "/api/topics/api-produce/messages", new
        {
            partition = 2,
            key = "order-7",
            value = "{\"total\": 12.5}",
            headers = new[] { new { key = "source", value = "console" } },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var delivered = (await response.Content.ReadFromJsonAsync<DeliveredMessage>(ConsoleServer.Json))!;
        Assert.Equal(2, delivered.Partition);
        Assert.Equal(0, delivered.Offset);

        using (var consumer = server.Consumer("reader-" + Guid.NewGuid().ToString("N")))
        {
            consumer.Assign(new TopicPartitionOffset("api-produce", 2, Offset.Beginning));
            var record = consumer.Consume(TimeSpan.FromSeconds(20));
            Assert.NotNull(record);
            Assert.Equal("order-7", record.Message.Key);
            Assert.Equal("{\"total\": 12.5}", record.Message.Value);
            Assert.Equal("console", Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes("source")));
        }

        var browsed = await server.GetAsync<BrowseView>("/api/topics/api-produce/messages?from=oldest");
        var message = Assert.Single(browsed.Messages);
        Assert.Equal("order-7", Encoding.UTF8.GetString(message.Key!));
        Assert.Equal("{\"total\": 12.5}", Encoding.UTF8.GetString(message.Value!));
        Assert.Equal("console", Encoding.UTF8.GetString(Assert.Single(message.Headers, h => h.Key == "source").Value!));
        Assert.Equal(delivered.Timestamp, message.Timestamp);
    }

    [Fact]
    public async Task Browsing_starts_from_newest_oldest_an_offset_or_a_time_and_filters_by_a_search_string()
    {
        await server.CreateTopicAsync("api-browse", 2);
        await server.FillAsync("api-browse", 0, 30);
        await server.FillAsync("api-browse", 1, 5);
        static List<string> Values(BrowseView view) => view.Messages.Select(m => $"{m.Partition}:{Encoding.UTF8.GetString(m.Value!)}").ToList();

        var newest = await server.GetAsync<BrowseView>("/api/topics/api-browse/messages?partition=0&limit=3");
        Assert.Equal(["0:v29", "0:v28", "0:v27"], Values(newest));

        var oldest = await server.GetAsync<BrowseView>("/api/topics/api-browse/messages?partition=0&from=oldest&limit=2");
        Assert.Equal(["0:v0", "0:v1"], Values(oldest));

        var fromOffset = await server.GetAsync<BrowseView>("/api/topics/api-browse/messages?partition=0&from=offset&offset=25&limit=100");
        Assert.Equal(Enumerable.Range(25, 5).Select(i => $"0:v{i}"), Values(fromOffset));
        Assert.Equal(25, fromOffset.Messages[0].Offset);

        var search = await server.GetAsync<BrowseView>("/api/topics/api-browse/messages?from=oldest&search=V2&limit=100");
        Assert.Equal(new[] { "0:v2", "1:v2" }.Concat(Enumerable.Range(20, 10).Select(i => $"0:v{i}")).Order(StringComparer.Ordinal),
            Values(search).Order(StringComparer.Ordinal));
        Assert.Equal(35, search.Scanned);

        var headerSearch = await server.GetAsync<BrowseView>("/api/topics/api-browse/messages?from=newest&search=k4&partition=1");
        Assert.Equal(["1:v4"], Values(headerSearch));

        var later = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds();
        var future = await server.GetAsync<BrowseView>($"/api/topics/api-browse/messages?from=timestamp&timestamp={later}");
        Assert.Empty(future.Messages);
        var past = await server.GetAsync<BrowseView>("/api/topics/api-browse/messages?from=timestamp&timestamp=2000-01-01T00:00:00Z&limit=500");
        Assert.Equal(35, past.Messages.Count);
    }

    [Fact]
    public async Task Topic_configs_are_described_altered_and_reset()
    {
        await server.CreateTopicAsync("api-configs", 1);
        var altered = await server.SendAsync(HttpMethod.Patch, "/api/topics/api-configs/configs", new { set = new Dictionary<string, string> { ["retention.ms"] = "120000" } });
        Assert.Equal(HttpStatusCode.NoContent, altered.StatusCode);
        var configs = await server.GetAsync<List<ConfigValue>>("/api/topics/api-configs/configs");
        var retention = Assert.Single(configs, c => c.Name == "retention.ms");
        Assert.Equal("120000", retention.Value);
        Assert.Equal("DYNAMIC_TOPIC_CONFIG", retention.Source);

        await server.SendAsync(HttpMethod.Patch, "/api/topics/api-configs/configs", new { delete = new[] { "retention.ms" } });
        configs = await server.GetAsync<List<ConfigValue>>("/api/topics/api-configs/configs");
        Assert.Equal("604800000", Assert.Single(configs, c => c.Name == "retention.ms").Value);
    }

    [Fact]
    public async Task Failures_answer_with_a_status_and_a_one_line_error_of_the_right_kind()
    {
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, "/api/topics/no-such-topic"), HttpStatusCode.NotFound, "not-found", "no-such-topic");
        await server.CreateTopicAsync("api-twice", 1);
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Post, "/api/topics", new { name = "api-twice" }), HttpStatusCode.Conflict, "conflict", "api-twice");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Post, "/api/topics", new { name = "bad/name" }), HttpStatusCode.BadRequest, "invalid", "bad/name");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, "/api/topics/api-twice/messages?from=sideways"), HttpStatusCode.BadRequest, "invalid", "sideways");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Patch, "/api/topics/api-twice/configs", new { set = new Dictionary<string, string> { ["retention.ms"] = "soon" } }),
            HttpStatusCode.BadRequest, "invalid", "retention.ms");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, "/api/groups/no-such-group"), HttpStatusCode.NotFound, "not-found", "no-such-group");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, "/api/nothing-here"), HttpStatusCode.NotFound, "not-found", "no such API");
    }

    [Fact]
    public async Task Without_an_authorizer_acls_answer_unsupported_at_once_and_the_admin_connection_stays_good()
    {
        // Without an authorizer the broker answers the ACL APIs SECURITY_DISABLED, as Kafka does.
        var clock = Stopwatch.StartNew();
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Get, "/api/acls"), HttpStatusCode.NotImplemented, "unsupported", "No Authorizer");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"listing took {clock.Elapsed}");
        await AssertErrorAsync(await server.SendAsync(HttpMethod.Post, "/api/acls",
            new { resourceType = "topic", resourceName = "orders", patternType = "literal", principal = "User:alice", host = "*", operation = "read", permission = "allow" }),
            HttpStatusCode.NotImplemented, "unsupported", "");
        Assert.NotNull(await server.GetAsync<TopicSummaries>("/api/topics"));
    }

    [Fact]
    public async Task Scram_users_are_listed_at_once_even_when_there_are_none_and_the_admin_connection_stays_good()
    {
        // An empty answer once stopped the shared librdkafka admin client for good: list first, then use the console.
        var clock = Stopwatch.StartNew();
        var none = await server.GetAsync<List<ScramUserView>>("/api/users");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"listing took {clock.Elapsed}");
        Assert.DoesNotContain(none, u => u.User == "api-carol");
        Assert.NotNull(await server.GetAsync<TopicSummaries>("/api/topics"));
        Assert.NotNull(await server.GetAsync<Overview>("/api/overview"));

        Assert.Equal(HttpStatusCode.NoContent, (await server.SendAsync(HttpMethod.Post, "/api/users", new { user = "api-carol", password = "pw", iterations = 4096 })).StatusCode);
        var carol = Assert.Single(await server.GetAsync<List<ScramUserView>>("/api/users"), u => u.User == "api-carol");
        Assert.Equal([new ScramCredentialView("SCRAM-SHA-256", 4096)], carol.Credentials);
        Assert.Equal(HttpStatusCode.NoContent, (await server.SendAsync(HttpMethod.Delete, "/api/users/api-carol")).StatusCode);
        Assert.DoesNotContain(await server.GetAsync<List<ScramUserView>>("/api/users"), u => u.User == "api-carol");
    }

    [Fact]
    public async Task Changes_from_another_origin_are_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/topics") { Content = JsonContent.Create(new { name = "api-cross-origin" }) };
        request.Headers.Add("Origin", "http://elsewhere.example");
        var response = await server.Http.SendAsync(request);
        await AssertErrorAsync(response, HttpStatusCode.Forbidden, "forbidden", "another origin");

        using var sameOrigin = new HttpRequestMessage(HttpMethod.Post, "/api/topics") { Content = JsonContent.Create(new { name = "api-same-origin" }) };
        sameOrigin.Headers.Add("Origin", server.BaseUrl);
        Assert.Equal(HttpStatusCode.Created, (await server.Http.SendAsync(sameOrigin)).StatusCode);
        var topics = await server.GetAsync<TopicSummaries>("/api/topics");
        Assert.DoesNotContain(topics.Topics, t => t.Name == "api-cross-origin");
        Assert.Contains(topics.Topics, t => t.Name == "api-same-origin");
    }

    [Fact]
    public async Task A_real_groups_lag_is_reported_sampled_over_time_and_reset_with_a_dry_run_first()
    {
        await server.CreateTopicAsync("api-lag", 2);
        await server.FillAsync("api-lag", 0, 8);
        await server.FillAsync("api-lag", 1, 4);
        using var consumer = server.Consumer("api-lag-group");
        consumer.Subscribe("api-lag");
        ConsoleServer.PollUntil(consumer, () => consumer.Assignment.Count == 2, "the consumer owns both partitions");
        consumer.Commit([new TopicPartitionOffset("api-lag", 0, 3), new TopicPartitionOffset("api-lag", 1, 4)]);

        var summary = Assert.Single(await server.GetAsync<List<GroupSummary>>("/api/groups"), g => g.GroupId == "api-lag-group");
        Assert.Equal(5, summary.TotalLag);
        Assert.Equal(1, summary.Members);
        Assert.Equal(["api-lag"], summary.Topics);

        var group = await server.GetAsync<GroupView>("/api/groups/api-lag-group");
        Assert.Equal("Stable", group.State);
        Assert.Equal([5L, 0L], group.Partitions.Select(p => p.Lag!.Value));
        Assert.All(group.Partitions, p => Assert.Equal(consumer.MemberId, p.MemberId));
        Assert.Equal(["api-lag/0", "api-lag/1"], Assert.Single(group.Members).Assignment);
        var history = await ConsoleServer.EventuallyAsync(() => server.GetAsync<GroupView>("/api/groups/api-lag-group"), g => g.History.Count >= 2, "two lag samples");
        Assert.Equal(5, history.History[^1].Total);
        Assert.Equal(5, history.History[^1].Partitions["api-lag/0"]);

        var dryRun = await server.SendAsync(HttpMethod.Post, "/api/groups/api-lag-group/reset-offsets", new { mode = "to-earliest", execute = false });
        var plan = (await dryRun.Content.ReadFromJsonAsync<ResetOffsetsView>(ConsoleServer.Json))!;
        Assert.False(plan.Executed);
        Assert.Equal(1, plan.ActiveMembers);
        Assert.Equal([(3L, 0L, 8L), (4L, 0L, 4L)], plan.Partitions.Select(p => (p.CurrentOffset!.Value, p.NewOffset, p.LagAfter)));
        Assert.Equal(3, await server.CommittedAsync("api-lag-group", "api-lag", 0));

        var refused = await server.SendAsync(HttpMethod.Post, "/api/groups/api-lag-group/reset-offsets", new { mode = "to-earliest", execute = true });
        await AssertErrorAsync(refused, HttpStatusCode.Conflict, "conflict", "active member");

        consumer.Close();
        var applied = await server.SendAsync(HttpMethod.Post, "/api/groups/api-lag-group/reset-offsets",
            new { mode = "shift-by", value = -2, topic = "api-lag", partitions = new[] { 0 }, execute = true });
        Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        Assert.True((await applied.Content.ReadFromJsonAsync<ResetOffsetsView>(ConsoleServer.Json))!.Executed);
        Assert.Equal(1, await server.CommittedAsync("api-lag-group", "api-lag", 0));
        Assert.Equal(4, await server.CommittedAsync("api-lag-group", "api-lag", 1));
        var after = await server.GetAsync<GroupView>("/api/groups/api-lag-group");
        Assert.Equal(7, after.TotalLag);
    }

    [Fact]
    public async Task The_overview_counts_the_cluster_and_shows_live_rates_from_the_brokers_counters()
    {
        await server.CreateTopicAsync("api-rates", 1);
        await server.FillAsync("api-rates", 0, 200);
        using (var consumer = server.Consumer("reader-" + Guid.NewGuid().ToString("N")))
        {
            consumer.Assign(new TopicPartitionOffset("api-rates", 0, Offset.Beginning));
            var read = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (read < 200 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false }) read++;
            }
            Assert.Equal(200, read);
        }

        var rates = await ConsoleServer.EventuallyAsync(() => server.GetAsync<Rates>("/api/rates"),
            r => r.MessagesInPerSec > 0 && r.MessagesOutPerSec > 0 && r.BytesInPerSec > 0 && r.BytesOutPerSec > 0, "rates show the traffic");
        Assert.Equal("broker-metrics", rates.Source);
        // Per-second rates over samples about a second apart: their sum is near the 200 messages, never far above
        // (a loaded machine stretches the sampling interval, so the bound is loose).
        Assert.InRange(rates.History.Sum(s => s.MessagesIn), 1, 400);

        var overview = await server.GetAsync<Overview>("/api/overview");
        var broker = Assert.Single(overview.Brokers);
        Assert.True(broker.IsController);
        Assert.Contains(server.Broker.BootstrapServers, broker.AdvertisedListeners, StringComparison.Ordinal);
        Assert.Equal(server.Broker.Node.ClusterId, overview.ClusterId);
        var topics = await server.GetAsync<TopicSummaries>("/api/topics");
        Assert.Equal(topics.Topics.Count(t => !t.IsInternal), overview.Topics);
        Assert.Equal(topics.Topics.Sum(t => t.Partitions), overview.Partitions);
        Assert.True(overview.Messages >= 200);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string kind, string mentions)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var error = System.Text.Json.JsonSerializer.Deserialize<ApiError>(body, ConsoleServer.Json)!;
        Assert.Equal(kind, error.Kind);
        Assert.Contains(mentions, error.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', error.Error);
    }
}
