using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Brook.Benchmarks.ProduceDecodeBenchmarks).Assembly).Run(args);
