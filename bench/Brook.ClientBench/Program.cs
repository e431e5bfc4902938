using System.Diagnostics;
using Brook.Broker;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

// Usage: dotnet run -c Release --project bench/Brook.ClientBench -- [messages] [messageBytes] [partitions] [memory|disk]
//    or: ... -- start [runs]   embedded start times (in memory, on a new data dir, reopening a data dir) as JSON
if (args.Length > 0 && args[0] == "start")
{
    await StartTimes.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 10);
    return;
}
var count = args.Length > 0 ? int.Parse(args[0]) : 200_000;
var size = args.Length > 1 ? int.Parse(args[1]) : 1024;
var partitions = args.Length > 2 ? int.Parse(args[2]) : 1;
var disk = args.Length <= 3 || args[3] != "memory";
var dataDir = Path.Combine(Path.GetTempPath(), "brook-bench-" + Guid.NewGuid().ToString("N"));

// Warm-up start (JIT) and the measured start, as a test process would see its second broker.
await (await BrookBroker.StartAsync()).DisposeAsync();
var broker = await BrookBroker.StartAsync(new BrokerOptions
{
    Listeners = ["PLAINTEXT://127.0.0.1:0"],
    InMemory = !disk,
    DataDirectory = dataDir,
});
Console.WriteLine($"embedded start: {broker.StartTime.TotalMilliseconds:F1} ms ({(disk ? "disk" : "memory")})");

using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = broker.BootstrapServers }).Build())
    await admin.CreateTopicsAsync([new TopicSpecification { Name = "bench", NumPartitions = partitions, ReplicationFactor = 1 }]);

var payload = new byte[size];
Random.Shared.NextBytes(payload);
var producerConfig = new ProducerConfig
{
    BootstrapServers = broker.BootstrapServers,
    Acks = Acks.All,
    LingerMs = 5,
    BatchSize = 1_000_000,
    QueueBufferingMaxMessages = 1_000_000,
    QueueBufferingMaxKbytes = 1_048_576,
};
using (var producer = new ProducerBuilder<Null, byte[]>(producerConfig).Build())
{
    var sw = Stopwatch.StartNew();
    var failed = 0;
    for (var i = 0; i < count; i++)
    {
        while (true)
        {
            try
            {
                producer.Produce("bench", new Message<Null, byte[]> { Value = payload }, r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
                break;
            }
            catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }
    producer.Flush(TimeSpan.FromMinutes(5));
    Report("produce (acks=all)", count, size, sw.Elapsed);
    if (failed > 0) Console.WriteLine($"  {failed} deliveries failed");
}

var consumerConfig = new ConsumerConfig
{
    BootstrapServers = broker.BootstrapServers,
    GroupId = "bench",
    EnableAutoCommit = false,
    FetchMaxBytes = 52_428_800,
    MaxPartitionFetchBytes = 10_485_760,
};
using (var consumer = new ConsumerBuilder<Ignore, byte[]>(consumerConfig).Build())
{
    consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset("bench", p, Offset.Beginning)));
    var sw = Stopwatch.StartNew();
    var received = 0;
    while (received < count && sw.Elapsed < TimeSpan.FromMinutes(5))
    {
        var r = consumer.Consume(TimeSpan.FromSeconds(1));
        if (r is { IsPartitionEOF: false }) received++;
    }
    Report("consume", received, size, sw.Elapsed);
}
await broker.DisposeAsync();
if (Directory.Exists(dataDir)) Directory.Delete(dataDir, true);

static void Report(string what, int messages, int size, TimeSpan elapsed) =>
    Console.WriteLine($"{what}: {messages:N0} x {size} B in {elapsed.TotalSeconds:F2} s = {messages / elapsed.TotalSeconds:N0} msg/s, {messages * (double)size / elapsed.TotalSeconds / 1e6:F1} MB/s");
