using Brook.Admin.Bench;

namespace Brook.Cli.Tests;

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_of_a_uniform_spread_are_within_the_bucket_precision()
    {
        var histogram = new LatencyHistogram();
        for (var micros = 1; micros <= 100_000; micros++) histogram.Record(micros);

        Assert.Equal(100_000, histogram.Count);
        Assert.InRange(histogram.Percentile(0.5), 50_000, 50_000 * 1.016);
        Assert.InRange(histogram.Percentile(0.99), 99_000, 99_000 * 1.016);
        Assert.InRange(histogram.Percentile(0.999), 99_900, 100_000);
        Assert.Equal(100_000, histogram.Max);
        Assert.Equal(50_000.5, histogram.Mean, 3);
        var summary = histogram.Summary();
        Assert.Equal(100.0, summary.Max);
        Assert.True(summary.P50 < summary.P99 && summary.P99 <= summary.P999 && summary.P999 <= summary.Max);
    }

    [Fact]
    public void Small_values_are_exact_and_a_single_outlier_is_the_max()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 999; i++) histogram.Record(42);
        histogram.Record(5_000_000);

        Assert.Equal(42, histogram.Percentile(0.5));
        Assert.Equal(42, histogram.Percentile(0.99));
        Assert.Equal(5_000_000, histogram.Percentile(1.0));
        Assert.Equal(5_000_000, histogram.Max);
        Assert.Equal(0, new LatencyHistogram().Percentile(0.99));
    }
}
