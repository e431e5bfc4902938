using System.Text.Json.Nodes;
using Confluent.Kafka;

namespace Brook.WebConsole.Tests;

/// <summary>
/// The console in headless Chromium against a broker started as the server starts it. Each test saves screenshots of the
/// pages it visits under artifacts/screenshots/console.
/// </summary>
public sealed class BrowserTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task A_topic_created_and_a_message_produced_in_the_ui_are_found_in_the_message_browser()
    {
        await using var browser = await ConsoleBrowser.StartAsync(server.BaseUrl);

        var created = await browser.RunAsync("createTopic", new { name = "ui-orders", partitions = 3 });
        Assert.Equal("3", created!["partitions"]!.GetValue<string>());
        using (var admin = server.Admin())
        {
            var metadata = admin.GetMetadata("ui-orders", TimeSpan.FromSeconds(10));
            Assert.Equal(3, Assert.Single(metadata.Topics).Partitions.Count);
        }
        await browser.ScreenshotAsync("topics");

        await server.CreateTopicAsync("ui-doomed", 1);
        await browser.RunAsync("deleteTopic", new { name = "ui-doomed" });
        using (var admin = server.Admin())
            Assert.DoesNotContain(admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == "ui-doomed");

        var produced = await browser.RunAsync("produce", new
        {
            topic = "ui-orders",
            key = "order-42",
            value = "{\"item\":\"kettle\",\"quantity\":2}",
            headers = new[] { new { key = "source", value = "console-test" } },
        });
        await browser.ScreenshotAsync("topic-produce");
        Assert.Equal("0", produced!["messagesBefore"]!.GetValue<string>());
        Assert.Equal("1", produced["messages"]!.GetValue<string>());
        var partition = produced["partition"]!.GetValue<int>();
        var offset = produced["offset"]!.GetValue<long>();

        // A real consumer sees exactly what the form sent.
        using (var consumer = server.Consumer("check-" + Guid.NewGuid().ToString("N")))
        {
            consumer.Assign(new TopicPartitionOffset("ui-orders", partition, offset));
            var record = consumer.Consume(TimeSpan.FromSeconds(20));
            Assert.NotNull(record);
            Assert.Equal("order-42", record.Message.Key);
            Assert.Equal("{\"item\":\"kettle\",\"quantity\":2}", record.Message.Value);
            Assert.Equal("console-test", System.Text.Encoding.UTF8.GetString(record.Message.Headers.GetLastBytes("source")));
        }

        using (var producer = server.Producer())
        {
            for (var i = 0; i < 5; i++) await producer.ProduceAsync("ui-orders", new Message<string, string> { Key = $"other-{i}", Value = $"plain text {i}" });
        }
        var found = await browser.RunAsync("findMessage", new { topic = "ui-orders", search = "kettle" });
        await browser.ScreenshotAsync("topic-messages");
        Assert.Equal(1, found!["rows"]!.GetValue<int>());
        Assert.Equal("order-42", found["key"]!.GetValue<string>());
        // Pretty-printed JSON.
        Assert.Equal("{\n  \"item\": \"kettle\",\n  \"quantity\": 2\n}", found["value"]!.GetValue<string>());
        Assert.Equal("console-test", found["headers"]!["source"]!.GetValue<string>());
        Assert.StartsWith("00000000  7b 22 69 74 65 6d 22 3a", found["hex"]!.GetValue<string>(), StringComparison.Ordinal);

        var text = await browser.RunAsync("findMessage", new { topic = "ui-orders", search = "plain text 3", view = "text" });
        Assert.Equal("plain text 3", text!["value"]!.GetValue<string>());
        Assert.Equal("other-3", text["key"]!.GetValue<string>());

        var partitions = await browser.RunAsync("openTopic", new { topic = "ui-orders" });
        Assert.Contains("Partition", partitions!.GetValue<string>(), StringComparison.Ordinal);
        await browser.ScreenshotAsync("topic-partitions");

        var edited = await browser.RunAsync("editConfig", new { topic = "ui-orders", name = "retention.ms", value = "7200000" });
        Assert.Contains("7200000", edited!.GetValue<string>(), StringComparison.Ordinal);
        await browser.ScreenshotAsync("topic-configs");
        var configs = await server.GetAsync<List<Brook.Admin.ConfigValue>>("/api/topics/ui-orders/configs");
        Assert.Equal("7200000", configs.Single(c => c.Name == "retention.ms").Value);

        await AssertNoPageProblemsAsync(browser);
    }

    [Fact]
    public async Task A_real_consumer_groups_lag_appears_drops_and_changes_after_a_reset_from_the_ui()
    {
        await server.CreateTopicAsync("ui-lag", 2);
        await using var browser = await ConsoleBrowser.StartAsync(server.BaseUrl);
        var consumer = server.Consumer("ui-lag-group");
        try
        {
            consumer.Subscribe("ui-lag");
            ConsoleServer.PollUntil(consumer, () => consumer.Assignment.Count == 2, "the consumer owns both partitions");
            consumer.Commit([new TopicPartitionOffset("ui-lag", 0, 0), new TopicPartitionOffset("ui-lag", 1, 0)]);
            await browser.RunAsync("waitGroupLag", new { group = "ui-lag-group", lag = 0 });

            // Lag appears: messages arrive and nobody consumes them.
            await server.FillAsync("ui-lag", 0, 7);
            await server.FillAsync("ui-lag", 1, 5);
            Assert.Equal("12", (await browser.RunAsync("waitGroupLag", new { group = "ui-lag-group", lag = 12 }))!.GetValue<string>());
            var lagging = await browser.RunAsync("groupPage", new { group = "ui-lag-group" });
            Assert.Equal("Stable", lagging!["state"]!.GetValue<string>());
            Assert.Equal(["ui-lag/0=7", "ui-lag/1=5"], Partitions(lagging));
            await browser.ScreenshotAsync("group-lagging");

            // Lag drops: the consumer reads everything and commits.
            var read = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (read < 12 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false }) read++;
            }
            Assert.Equal(12, read);
            consumer.Commit();
            await browser.RunAsync("waitGroupLag", new { group = "ui-lag-group", lag = 0 });
            var caughtUp = await browser.RunAsync("groupPage", new { group = "ui-lag-group" });
            Assert.Equal(["ui-lag/0=0", "ui-lag/1=0"], Partitions(caughtUp));
            Assert.True(caughtUp!["chartLines"]!.GetValue<int>() >= 3, "the chart draws the total and each partition");
            Assert.True(caughtUp["chartPoints"]!.GetValue<int>() >= 6, "the chart has samples from before and after");

            var listed = await browser.RunAsync("groupsList", new { group = "ui-lag-group", lag = 0 });
            Assert.Equal("Stable", listed!["state"]!.GetValue<string>());
            await browser.ScreenshotAsync("groups");
        }
        finally
        {
            consumer.Close();
            consumer.Dispose();
        }

        // Reset from the UI once the group is empty: the dry run shows the plan, applying it moves the committed offsets.
        await browser.RunAsync("waitGroupLag", new { group = "ui-lag-group", lag = 0 });
        var plan = await browser.RunAsync("resetOffsets", new { group = "ui-lag-group", mode = "to-earliest" });
        Assert.Equal(["ui-lag/0 7→0 lag 7", "ui-lag/1 5→0 lag 5"],
            plan!.AsArray().Select(p => $"{p!["tp"]} {p["current"]}→{p["next"]} lag {p["lagAfter"]}"));
        Assert.Equal(0, await server.CommittedAsync("ui-lag-group", "ui-lag", 0));
        Assert.Equal(0, await server.CommittedAsync("ui-lag-group", "ui-lag", 1));
        await browser.RunAsync("waitGroupLag", new { group = "ui-lag-group", lag = 12 });
        var reset = await browser.RunAsync("groupPage", new { group = "ui-lag-group" });
        Assert.Equal("Empty", reset!["state"]!.GetValue<string>());
        await browser.ScreenshotAsync("group-after-reset");

        var shifted = await browser.RunAsync("resetOffsets", new { group = "ui-lag-group", mode = "shift-by", value = 4 });
        Assert.Equal(["ui-lag/0 0→4 lag 3", "ui-lag/1 0→4 lag 1"],
            shifted!.AsArray().Select(p => $"{p!["tp"]} {p["current"]}→{p["next"]} lag {p["lagAfter"]}"));
        await browser.RunAsync("waitGroupLag", new { group = "ui-lag-group", lag = 4 });

        await AssertNoPageProblemsAsync(browser);
    }

    [Fact]
    public async Task The_overview_shows_the_cluster_and_live_traffic()
    {
        await server.CreateTopicAsync("ui-traffic", 1);
        await using var browser = await ConsoleBrowser.StartAsync(server.BaseUrl);
        await server.FillAsync("ui-traffic", 0, 300);
        using (var consumer = server.Consumer("ui-traffic-reader"))
        {
            consumer.Assign(new TopicPartitionOffset("ui-traffic", 0, Offset.Beginning));
            var read = 0;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (read < 300 && DateTime.UtcNow < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { IsPartitionEOF: false }) read++;
            }
            Assert.Equal(300, read);
        }

        var rates = await browser.RunAsync("waitForRates", new { minMessagesIn = 0.01, minMessagesOut = 0.01 });
        Assert.True(rates!["messagesIn"]!.GetValue<double>() > 0);
        var overview = await browser.RunAsync("overview");
        Assert.Equal(1, overview!["brokers"]!.GetValue<int>());
        var topics = await server.GetAsync<Brook.Admin.TopicSummaries>("/api/topics");
        Assert.StartsWith(topics.Topics.Count(t => !t.IsInternal).ToString(System.Globalization.CultureInfo.InvariantCulture),
            overview["topics"]!.GetValue<string>(), StringComparison.Ordinal);
        await browser.ScreenshotAsync("overview");


        await AssertNoPageProblemsAsync(browser);
    }

    [Fact]
    public async Task Without_an_authorizer_the_security_page_says_acls_are_not_enabled_at_once()
    {
        await using var browser = await ConsoleBrowser.StartAsync(server.BaseUrl);
        var page = await browser.RunAsync("security");
        Assert.True(page!["millis"]!.GetValue<long>() < 10_000, $"the page took {page["millis"]} ms");
        var note = Assert.Single(page["notes"]!.AsArray())!.GetValue<string>();
        Assert.Contains("ACLs are not enabled on this cluster", note, StringComparison.Ordinal);
        Assert.Contains("No Authorizer", note, StringComparison.Ordinal);
        Assert.Empty(page["errors"]!.AsArray());
        await browser.ScreenshotAsync("security-not-enabled");
        // The SCRAM users list answers too (the broker keeps credentials without an authorizer), and the console still works.
        Assert.NotNull(page["users"]);
        Assert.Equal(1, (await browser.RunAsync("overview"))!["brokers"]!.GetValue<int>());
        await AssertNoPageProblemsAsync(browser);
    }

    private static List<string> Partitions(JsonNode? page) =>
        page!["partitions"]!.AsArray().Select(p => $"{p!["tp"]}={p["lag"]}").ToList();

    /// <summary>No script errors, no failed requests other than the expected 501s, nothing loaded from another origin.</summary>
    private static async Task AssertNoPageProblemsAsync(ConsoleBrowser browser)
    {
        var problems = (await browser.RunAsync("problems"))!.AsArray().Select(p => p!.GetValue<string>()).ToList();
        Assert.Empty(problems);
    }
}
