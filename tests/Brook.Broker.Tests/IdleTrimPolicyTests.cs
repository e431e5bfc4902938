namespace Brook.Broker.Tests;

public sealed class IdleTrimPolicyTests
{
    private const long Quiet = IdleTrimPolicy.QuietBytesPerCheck / 2;

    [Fact]
    public void A_light_steady_load_is_left_alone()
    {
        var policy = new IdleTrimPolicy(0);
        var total = 0L;
        // Far more than the trim threshold in all, but never a burst.
        for (var i = 0; i < 1000; i++) Assert.False(policy.ShouldTrim(total += Quiet));
    }

    [Fact]
    public void Trims_once_after_a_burst_when_the_rate_has_stayed_low()
    {
        var policy = new IdleTrimPolicy(0);
        var total = 0L;
        // A burst: allocating fast is never the time to trim.
        for (var i = 0; i < 5; i++) Assert.False(policy.ShouldTrim(total += IdleTrimPolicy.TrimAfterBytes));
        for (var i = 1; i < IdleTrimPolicy.QuietChecks; i++) Assert.False(policy.ShouldTrim(total += Quiet));
        Assert.True(policy.ShouldTrim(total += Quiet));
        // Nothing new allocated since: no second trim however long the quiet lasts.
        for (var i = 0; i < 100; i++) Assert.False(policy.ShouldTrim(total += Quiet));
    }

    [Fact]
    public void A_short_pause_in_the_load_does_not_trim()
    {
        var policy = new IdleTrimPolicy(0);
        var total = 0L;
        Assert.False(policy.ShouldTrim(total += IdleTrimPolicy.TrimAfterBytes * 2));
        for (var round = 0; round < 10; round++)
        {
            for (var i = 1; i < IdleTrimPolicy.QuietChecks; i++) Assert.False(policy.ShouldTrim(total += Quiet));
            Assert.False(policy.ShouldTrim(total += IdleTrimPolicy.QuietBytesPerCheck * 4));
        }
    }
}
