#!/usr/bin/env python3
"""Turns the raw figures bench/run collected into bench/results/<date>.md and .json: the bar next to each measured
value, every case with broker and client CPU, embedded start times and BenchmarkDotNet allocations."""
import argparse
import json
import os
import platform


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cases", required=True)
    p.add_argument("--start", required=True)
    p.add_argument("--bdn", required=True)
    p.add_argument("--idle-rss-start-kb", type=int, required=True)
    p.add_argument("--idle-rss-after-kb", type=int, required=True)
    p.add_argument("--idle-private-start-kb", type=int, required=True)
    p.add_argument("--idle-private-after-kb", type=int, required=True)
    p.add_argument("--dsync-ms", type=float, required=True)
    p.add_argument("--scale", default="1")
    p.add_argument("--load-before", default="")
    p.add_argument("--load-after", default="")
    p.add_argument("--commit", default="")
    p.add_argument("--json", required=True)
    p.add_argument("--markdown", required=True)
    a = p.parse_args()

    cases = {}
    with open(a.cases) as f:
        for line in f:
            c = json.loads(line)
            cases[c["name"]] = c
    start = json.load(open(a.start))
    bdn = load_bdn(a.bdn)

    rows = []
    for name, c in cases.items():
        r = c.get("report") or {}
        messages = r.get("messages")
        if name.startswith("kcat-consume"):
            messages = cases[name.replace("kcat-consume", "consume")]["report"]["messages"]
        if name.startswith("kcat-produce"):
            messages = None
        client_cpu = c["clientUserS"] + c["clientSysS"]
        row = {
            "case": name,
            "messages": messages,
            "msgPerSec": r.get("messagesPerSecond") or (messages / c["wallS"] if messages and c["wallS"] else None),
            "mbPerSec": r.get("megabytesPerSecond"),
            "latencyMs": r.get("latencyMs"),
            "ackLatencyMs": r.get("ackLatencyMs"),
            "errors": r.get("errors", 0),
            "wallS": c["wallS"],
            "brokerCpuS": c["brokerCpuS"],
            "clientCpuS": round(client_cpu, 2),
            "brokerPeakRssMb": c["brokerPeakRssMb"],
            "brokerUsPerMsg": round(c["brokerCpuS"] / messages * 1e6, 2) if messages else None,
            "clientUsPerMsg": round(client_cpu / messages * 1e6, 2) if messages else None,
        }
        rows.append(row)
    by = {r["case"]: r for r in rows}

    kcat_walls = sorted(cases[n]["wallS"] for n in cases if n.startswith("kcat-produce"))
    lat = by["latency-produce"]["latencyMs"]
    lat_nofsync = by["latency-produce-no-fsync"]["latencyMs"]
    lat_nodelay = by["latency-produce-nodelay"]["latencyMs"] if "latency-produce-nodelay" in by else None
    e2e = by["latency-e2e"]["latencyMs"]
    alloc = {(b["method"], b["records"]): b for b in bdn}

    def best(prefix):
        return max((r for r in rows if r["case"].startswith(prefix)), key=lambda r: r["msgPerSec"] or 0)

    produce_1k = best("produce-1024-")
    produce_100 = best("produce-100-")
    peak_rss = max(r["brokerPeakRssMb"] for r in rows)
    bars = [
        ("1 KiB produce, acks=all (best case)", ">= 570k msg/s (1.5 x 380k)", f"{produce_1k['msgPerSec']:,.0f} msg/s, {produce_1k['mbPerSec']:.0f} MB/s ({produce_1k['case']})"),
        ("100 B produce, acks=all (best case)", ">= 1.9 M msg/s (1.5 x 1.27 M)", f"{produce_100['msgPerSec']:,.0f} msg/s ({produce_100['case']})"),
        ("100 B consume, brook bench (Confluent.Kafka)", ">= 2.25 M msg/s (1.5 x 1.5 M)", f"{by['consume-100']['msgPerSec']:,.0f} msg/s"),
        ("100 B consume, kcat (wall time incl. start)", ">= 2.25 M msg/s", f"{by['kcat-consume-100']['msgPerSec']:,.0f} msg/s"),
        ("kcat -P 1 M x 100 B (best of 3)", "<= 0.50-0.77 s (0.75-1.15 s / 1.5)", f"{kcat_walls[0]:.2f} s (all: {', '.join(f'{w:.2f}' for w in kcat_walls)})"),
        ("p99 produce->ack at 10k msg/s, linger 1 ms", "<= 2 ms", f"p50 {lat['p50']:.2f} / p99 {lat['p99']:.2f} / p99.9 {lat['p999']:.2f} / max {lat['max']:.2f} ms"),
        *([("  the same, client with Nagle off (TCP_NODELAY, as the Java client)", "<= 2 ms",
            f"p50 {lat_nodelay['p50']:.2f} / p99 {lat_nodelay['p99']:.2f} / p99.9 {lat_nodelay['p999']:.2f} / max {lat_nodelay['max']:.2f} ms")] if lat_nodelay else []),
        ("  the same, fsync left to the OS (as Kafka runs)", "<= 2 ms", f"p50 {lat_nofsync['p50']:.2f} / p99 {lat_nofsync['p99']:.2f} / p99.9 {lat_nofsync['p999']:.2f} / max {lat_nofsync['max']:.2f} ms"),
        ("  the disk: one 4 KiB write + sync (dd oflag=dsync, mean)", "-", f"{a.dsync_ms:.2f} ms"),
        ("end-to-end latency at 10k msg/s", "(p99 <= 2 ms)", f"p50 {e2e['p50']:.2f} / p99 {e2e['p99']:.2f} / p99.9 {e2e['p999']:.2f} / max {e2e['max']:.2f} ms"),
        ("embedded start, in memory (median of 15)", "<= 50 ms", f"{start['memory']['medianMs']:.1f} ms (max {start['memory']['maxMs']:.1f}; first in process {start['firstStartMs']:.0f})"),
        ("embedded start, new data dir (median of 15)", "<= 50 ms", f"{start['diskNew']['medianMs']:.1f} ms (max {start['diskNew']['maxMs']:.1f}; first disk start in process {start['firstDiskStartMs']:.0f})"),
        ("embedded start, reopening a data dir (median)", "<= 50 ms", f"{start['diskReopen']['medianMs']:.1f} ms (max {start['diskReopen']['maxMs']:.1f})"),
        ("idle RSS of brook-server", "<= 60 MB", f"{a.idle_rss_start_kb / 1024:.1f} MB after start ({a.idle_private_start_kb / 1024:.1f} MB private); "
         f"{a.idle_rss_after_kb / 1024:.1f} MB idle after the load ({a.idle_private_after_kb / 1024:.1f} MB private)"),
        ("RSS under load (peak)", "-", f"{peak_rss:.0f} MB"),
    ]
    for method in ("Produce", "Fetch"):
        small, large = alloc.get((method, 10)), alloc.get((method, 1000))
        if small and large:
            bars.append((f"{method} path allocation per request (10 / 1000 records)", "no per-record allocation",
                         f"{small['allocatedBytes']:,} B / {large['allocatedBytes']:,} B"))

    machine = {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "os": platform.platform(),
        "loadBefore": a.load_before,
        "loadAfter": a.load_after,
        "scale": float(a.scale),
        "commit": a.commit,
    }
    result = {"machine": machine, "bars": [{"metric": m, "bar": b, "measured": v} for m, b, v in bars],
              "cases": rows, "start": start, "idleRssMb": {"afterStart": round(a.idle_rss_start_kb / 1024, 1), "afterLoad": round(a.idle_rss_after_kb / 1024, 1),
                             "privateAfterStart": round(a.idle_private_start_kb / 1024, 1), "privateAfterLoad": round(a.idle_private_after_kb / 1024, 1)},
              "dsyncMs": a.dsync_ms,
              "benchmarkDotNet": bdn}
    with open(a.json, "w") as f:
        json.dump(result, f, indent=2)

    md = [f"# Brook benchmark", "",
          f"Commit {a.commit}; {machine['cores']} cores ({machine['cpu']}); brook-server and clients on the same machine; "
          f"load average before {a.load_before}, after {a.load_after}; message counts scaled by {a.scale}.", "",
          "## Bar", "", "| metric | bar | measured |", "| --- | --- | --- |"]
    md += [f"| {m} | {b} | {v} |" for m, b, v in bars]
    md += ["", "## Cases", "",
           "Broker and client CPU are seconds of CPU over the case (user + system); per message in microseconds.", "",
           "| case | msg/s | MB/s | latency p50 / p99 / p99.9 / max ms | wall s | broker CPU s | client CPU s | broker us/msg | client us/msg | broker peak RSS MB |",
           "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        l = r["latencyMs"]
        lat_text = f"{l['p50']:.2f} / {l['p99']:.2f} / {l['p999']:.2f} / {l['max']:.2f}" if l else "-"
        md.append(f"| {r['case']} | {fmt(r['msgPerSec'], ',.0f')} | {fmt(r['mbPerSec'], '.1f')} | {lat_text} | {r['wallS']:.2f} | "
                  f"{r['brokerCpuS']:.2f} | {r['clientCpuS']:.2f} | {fmt(r['brokerUsPerMsg'], '.2f')} | {fmt(r['clientUsPerMsg'], '.2f')} | {r['brokerPeakRssMb']:.0f} |")
    md += ["", "## BenchmarkDotNet: produce and fetch paths (dispatcher to encoded response, disk store)", "",
           "| method | records per batch | mean us | allocated B |", "| --- | ---: | ---: | ---: |"]
    md += [f"| {b['method']} | {b['records']} | {b['meanUs']:.1f} | {b['allocatedBytes']:,} |" for b in bdn]
    with open(a.markdown, "w") as f:
        f.write("\n".join(md) + "\n")


def load_bdn(path):
    data = json.load(open(path))
    out = []
    for b in data.get("Benchmarks", []):
        params = dict(kv.split("=", 1) for kv in (b.get("Parameters") or "").split("&") if "=" in kv)
        stats = b.get("Statistics") or {}
        memory = b.get("Memory") or {}
        out.append({"method": b.get("Method"), "records": int(params.get("Records", 0)),
                    "meanUs": (stats.get("Mean") or 0) / 1000.0, "allocatedBytes": int(memory.get("BytesAllocatedPerOperation") or 0)})
    return out


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


if __name__ == "__main__":
    main()
