using Brook.Capture;

// A development tool, not shipped: a recording proxy that captures real clients' protocol frames, and a small
// Confluent.Kafka producer to drive through it. scripts/capture-fixtures.sh uses both.
var command = args.Length > 0 ? args[0] : "";
var options = Options.Parse(args.Length > 0 ? args[1..] : []);
return command switch
{
    "proxy" => await RecordingProxy.RunAsync(options),
    "confluent-produce" => await ConfluentDriver.ProduceAsync(options),
    "confluent-consume" => await ConfluentDriver.ConsumeAsync(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage:
          brook-capture proxy --listen HOST:PORT --upstream HOST:PORT --out DIR
          brook-capture confluent-produce --bootstrap HOST:PORT --topic TOPIC --codec none|gzip|snappy|lz4|zstd --client-id ID --count N
          brook-capture confluent-consume --bootstrap HOST:PORT --topic TOPIC --client-id ID --count N
        """);
    return 2;
}
