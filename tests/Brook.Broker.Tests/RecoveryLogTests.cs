using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Brook.Broker.Tests;

/// <summary>Recovery does not repair silently: each cut is logged with what was lost and why, and counted on /metrics.</summary>
public sealed class RecoveryLogTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "brook-recovery-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private BrokerOptions Options() => new() { Listeners = ["PLAINTEXT://127.0.0.1:0"], DataDirectory = _dataDir, HttpListeners = ["http://127.0.0.1:0"] };

    [Fact]
    public async Task Bytes_cut_off_a_segment_tail_are_logged_with_the_offsets_lost_and_counted()
    {
        var segment = await FillAsync("torn", batches: 10);
        var length = new FileInfo(segment).Length;
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write)) file.SetLength(length - 100);

        var log = new LogCapture();
        await using var broker = await BrookBroker.StartAsync(Options(), log.AddTo);
        var warning = Assert.Single(log.Lines, l => l.Level == LogLevel.Warning && l.Message.StartsWith("recovery:", StringComparison.Ordinal));
        Assert.Equal("Brook.Storage.Recovery", warning.Category);
        Assert.Contains("torn-0 segment 00000000000000000000.log", warning.Message, StringComparison.Ordinal);
        // The last of the ten one-record batches (offset 9) was cut short: its bytes before the cut are dropped.
        var kept = length - 100;
        var dropped = new FileInfo(segment).Length;
        Assert.Contains($"dropped {kept - dropped} bytes (offsets 9 to 9)", warning.Message, StringComparison.Ordinal);
        Assert.Contains("torn write", warning.Message, StringComparison.Ordinal);
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Message.StartsWith("recovery: clean shutdown", StringComparison.Ordinal)
            && l.Message.Contains("1 repairs", StringComparison.Ordinal));

        using var http = new HttpClient { BaseAddress = new Uri(broker.HttpAddresses[0]) };
        var metrics = await http.GetStringAsync("/metrics");
        Assert.Contains($"brook_recovery_truncated_bytes_total {(kept - dropped).ToString(CultureInfo.InvariantCulture)}\n", metrics, StringComparison.Ordinal);
        Assert.Contains("brook_recovery_repairs_total 1\n", metrics, StringComparison.Ordinal);
        Assert.Equal(9, broker.Store.GetPartition("torn", 0)!.LogEndOffset);
    }

    [Fact]
    public async Task A_crc_mismatch_found_after_a_crash_is_logged_as_such()
    {
        var segment = await FillAsync("flipped", batches: 5);
        // A crash: no clean-shutdown marker, so recovery checks every batch's CRC; the last batch's last byte is changed.
        File.Delete(Path.Combine(_dataDir, "logs", ".clean_shutdown"));
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length - 1;
            var last = file.ReadByte();
            file.Position = file.Length - 1;
            file.WriteByte((byte)(last ^ 0xFF));
        }

        var log = new LogCapture();
        await using var broker = await BrookBroker.StartAsync(Options(), log.AddTo);
        var warning = Assert.Single(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("flipped-0", StringComparison.Ordinal));
        Assert.Contains("offsets 4 to 4", warning.Message, StringComparison.Ordinal);
        Assert.Contains("CRC mismatch", warning.Message, StringComparison.Ordinal);
        Assert.Contains(log.Lines, l => l.Message.StartsWith("recovery: no clean shutdown", StringComparison.Ordinal));
    }

    /// <summary>Creates a one-partition topic with one record per batch, stops the broker cleanly, returns the segment's path.</summary>
    private async Task<string> FillAsync(string topic, int batches)
    {
        await using (var broker = await BrookBroker.StartAsync(Options()))
        {
            await Clients.CreateTopicAsync(broker, topic, 1);
            using var producer = Clients.Producer(broker, c => c.LingerMs = 0);
            for (var i = 0; i < batches; i++) await producer.ProduceAsync(topic, new Message<string, string> { Key = "k" + i, Value = new string('v', 200) });
        }
        return Path.Combine(_dataDir, "logs", $"{topic}-0", "00000000000000000000.log");
    }
}
