using System.Net;
using System.Net.Http.Json;
using Brook.Admin;
using Brook.Server;

namespace Brook.WebConsole.Tests;

/// <summary>The console answers only to the host names it is reached by on purpose, so DNS rebinding cannot reach it.</summary>
public sealed class HostCheckTests(ConsoleServer server) : IClassFixture<ConsoleServer>
{
    [Fact]
    public async Task A_post_with_a_forged_host_and_a_matching_origin_is_refused_and_changes_nothing()
    {
        var port = new Uri(server.BaseUrl).Port;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/topics") { Content = JsonContent.Create(new { name = "rebound" }) };
        request.Headers.Host = $"evil.example:{port}";
        request.Headers.Add("Origin", $"http://evil.example:{port}");
        using var response = await server.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<ApiError>(ConsoleServer.Json);
        Assert.Equal("forbidden-host", error!.Kind);
        Assert.Contains("console.allowed.hosts", error.Error, StringComparison.Ordinal);
        var topics = await server.GetAsync<TopicSummaries>("/api/topics");
        Assert.DoesNotContain(topics.Topics, t => t.Name == "rebound");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/assets/js/app.js")]
    [InlineData("/api/overview")]
    [InlineData("/api/no-such-api")]
    public async Task Pages_and_reads_under_a_forged_host_are_refused(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = "evil.example";
        Assert.Equal(HttpStatusCode.Forbidden, (await server.Http.SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("LOCALHOST")]
    public async Task Loopback_names_and_the_bound_address_are_answered(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/overview");
        request.Headers.Host = $"{host}:{new Uri(server.BaseUrl).Port}";
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Metrics_and_health_answer_any_host_for_scrapers()
    {
        foreach (var path in new[] { "/metrics", "/health" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = "brook-1.monitoring.internal";
            Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(request)).StatusCode);
        }
    }

    [Fact]
    public async Task Names_in_console_allowed_hosts_are_answered()
    {
        var options = ServerSettings.Load(["--listeners", "PLAINTEXT://127.0.0.1:0", "--http", "http://127.0.0.1:0", "--in-memory",
            "--override", "console.allowed.hosts=console.example, *.brook.example"], new Dictionary<string, string?>(), Path.GetTempPath(), out _);
        Assert.Equal(["console.example", "*.brook.example"], options.ConsoleAllowedHosts);
        Assert.DoesNotContain("console.allowed.hosts", options.Broker.Configs.Keys);
        await using var broker = await ServerHost.StartAsync(options);
        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        var port = new Uri(broker.HttpAddresses[0]).Port;

        using (var create = new HttpRequestMessage(HttpMethod.Post, "/api/topics") { Content = JsonContent.Create(new { name = "allowed-host" }) })
        {
            create.Headers.Host = $"console.example:{port}";
            create.Headers.Add("Origin", $"http://console.example:{port}");
            using var created = await http.SendAsync(create);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        foreach (var (host, expected) in new[] { ("ops.brook.example", HttpStatusCode.OK), ("brook.example.evil", HttpStatusCode.Forbidden), ("evil.example", HttpStatusCode.Forbidden) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/overview");
            request.Headers.Host = host;
            Assert.True(expected == (await http.SendAsync(request)).StatusCode, host);
        }
    }
}
