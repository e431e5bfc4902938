using System.Net;
using Brook.Server;

namespace Brook.WebConsole.Tests;

/// <summary>How the console is served: the page and its assets from the assembly, and the switch that turns it off.</summary>
public sealed class HostingTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task The_page_and_every_asset_it_loads_come_from_the_server_under_a_same_origin_policy()
    {
        var page = await server.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var csp = string.Join(" ", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("/assets/js/app.js", html, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", html, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);

        foreach (var asset in new[] { "console.css", "favicon.svg", "js/app.js", "js/api.js", "js/ui.js", "js/chart.js", "js/pages/overview.js", "js/pages/topics.js",
                     "js/pages/topic.js", "js/pages/groups.js", "js/pages/group.js", "js/pages/security.js" })
        {
            var response = await server.Http.GetAsync($"/assets/{asset}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{asset}: {response.StatusCode}");
            var text = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("https://", text.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        Assert.Equal("text/javascript", (await server.Http.GetAsync("/assets/js/app.js")).Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/assets/js/missing.js")).StatusCode);
    }

    [Fact]
    public async Task An_unchanged_asset_is_answered_not_modified()
    {
        var first = await server.Http.GetAsync("/assets/console.css");
        var etag = first.Headers.ETag!;
        using var again = new HttpRequestMessage(HttpMethod.Get, "/assets/console.css");
        again.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await server.Http.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task With_the_console_off_only_metrics_and_health_are_served()
    {
        await using var broker = await ConsoleServer.StartAsync(consoleEnabled: false);
        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/overview")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "--console", "false" }, false)]
    [InlineData(new[] { "--override", "console.enabled=false" }, false)]
    public void The_console_switch_comes_from_the_command_line(string[] args, bool expected)
    {
        var options = ServerSettings.Load(args, new Dictionary<string, string?>(), Path.GetTempPath(), out _);
        Assert.Equal(expected, options.ConsoleEnabled);
        Assert.DoesNotContain("console.enabled", options.Broker.Configs.Keys);
    }

    [Fact]
    public void The_consoles_kafka_credentials_come_from_console_kafka_settings_and_are_no_broker_configs()
    {
        var env = new Dictionary<string, string?> { ["BROOK_CONSOLE_KAFKA_SASL_PASSWORD"] = "from-env" };
        var options = ServerSettings.Load(["--override", "console.kafka.sasl.mechanism=SCRAM-SHA-512", "--override", "console.kafka.sasl.username=admin",
            "--override", "console.listener=INTERNAL"], env, Path.GetTempPath(), out _);
        Assert.Equal(new Dictionary<string, string> { ["sasl.mechanism"] = "SCRAM-SHA-512", ["sasl.username"] = "admin", ["sasl.password"] = "from-env" },
            options.ConsoleClient);
        Assert.Equal("INTERNAL", options.ConsoleListener);
        Assert.DoesNotContain(options.Broker.Configs.Keys, k => k.StartsWith("console.", StringComparison.Ordinal));
        var typo = Assert.Throws<ArgumentException>(() => ServerSettings.Load(["--override", "console.sasl.username=admin"], new Dictionary<string, string?>(), Path.GetTempPath(), out _));
        Assert.Contains("console.sasl.username", typo.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_console_switch_comes_from_the_environment_and_bad_values_are_refused()
    {
        var env = new Dictionary<string, string?> { ["BROOK_CONSOLE_ENABLED"] = "false" };
        Assert.False(ServerSettings.Load([], env, Path.GetTempPath(), out _).ConsoleEnabled);
        Assert.True(ServerSettings.Load(["--console", "true"], env, Path.GetTempPath(), out _).ConsoleEnabled);
        Assert.Throws<ArgumentException>(() => ServerSettings.Load(["--console", "maybe"], new Dictionary<string, string?>(), Path.GetTempPath(), out _));
    }
}
