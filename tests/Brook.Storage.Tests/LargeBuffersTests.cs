namespace Brook.Storage.Tests;

public sealed class LargeBuffersTests
{
    [Fact]
    public void Large_arrays_are_pooled_until_trimmed()
    {
        var first = LargeBuffers.Rent(LargeBuffers.LargeFrom * 3);
        Assert.True(first.Length >= LargeBuffers.LargeFrom * 3);
        LargeBuffers.Return(first);
        // Pooled: the same size class is served from the pool. Tests run in parallel, so another test may hold it;
        // renting twice more keeps the check about pooling rather than about who got it first.
        var again = new[] { LargeBuffers.Rent(LargeBuffers.LargeFrom * 3), LargeBuffers.Rent(LargeBuffers.LargeFrom * 3) };
        Assert.Contains(first, again);
        foreach (var array in again) LargeBuffers.Return(array);

        LargeBuffers.Trim();
        var afterTrim = LargeBuffers.Rent(LargeBuffers.LargeFrom * 3);
        Assert.NotSame(first, afterTrim);
        LargeBuffers.Return(afterTrim);
    }

    [Fact]
    public void An_array_out_on_loan_over_a_trim_can_still_be_returned()
    {
        var loaned = LargeBuffers.Rent(LargeBuffers.LargeFrom);
        LargeBuffers.Trim();
        LargeBuffers.Return(loaned);
        var small = LargeBuffers.Rent(100);
        Assert.True(small.Length is >= 100 and < LargeBuffers.LargeFrom);
        LargeBuffers.Return(small);
    }

    [Fact]
    public void Arrays_beyond_the_pooled_sizes_are_plain_allocations()
    {
        var huge = LargeBuffers.Rent(100 * 1024 * 1024);
        Assert.True(huge.Length >= 100 * 1024 * 1024);
        LargeBuffers.Return(huge);
    }
}
