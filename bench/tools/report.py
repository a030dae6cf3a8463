"""Turn a bench/run.sh JSON-lines file into the markdown report (stdout).

usage: python3 bench/tools/report.py bench/results/latest.jsonl
"""
import json
import sys

TARGETS = ["ceiling", "stratus", "dynalite", "moto"]
PEERS = ["ceiling", "dynalite", "moto"]


def load(path):
    meta, cases, starts, setups, memory = {}, {}, {}, {}, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            kind, t = r.get("kind"), r.get("target")
            if kind == "meta":
                meta = r
            elif kind == "case":
                cases[(t, r.get("op"), int(r.get("connections", 0)))] = r
            elif kind == "start":
                starts[t] = r
            elif kind == "setup":
                setups[t] = r
            elif kind == "memory":
                memory[t] = r
    return meta, cases, starts, setups, memory


def ok_rps(r):
    """req/s of successful requests, or None when the case failed outright."""
    if r is None or "error" in r:
        return None
    ok = r.get("requests", 0) - r.get("errors", 0)
    return r["rps"] if ok > 0 else None


def fmt_int(x):
    return f"{x:,.0f}"


def fmt_us(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def cell(r):
    if r is None:
        return "–"
    if "error" in r:
        return "error"
    rps = ok_rps(r)
    if rps is None:
        return f"error ({r.get('errors', 0)} failed)"
    s = f"{fmt_int(rps)} · {fmt_us(r['p50_us'])} / {fmt_us(r['p99_us'])}"
    if r.get("errors"):
        s += f" ⚠ {r['errors']} err"
    return s


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}×"


def mb(kb):
    return "–" if kb in (None, "null") else f"{kb / 1024:.1f}"


def main():
    meta, cases, starts, setups, memory = load(sys.argv[1])
    targets = [t for t in TARGETS if any(k[0] == t for k in cases) or t in starts]
    ops = []
    conns = []
    for (_, op, c) in cases:
        if op not in ops:
            ops.append(op)
        if c not in conns:
            conns.append(c)
    conns.sort()
    order = {"getitem": 0, "query": 1, "putitem": 2, "listtables": 3}
    ops.sort(key=lambda o: order.get(o, 9))

    out = []
    p = out.append
    p(f"# Stratus benchmark — {meta.get('stamp', '?')}")
    p("")
    p(
        f"{meta.get('bench_secs', '?')} s per case, closed loop, keep-alive HTTP/1.1, SigV4-signed, "
        f"load generator on the same {meta.get('cores', '?')} cores (1 thread). "
        f"Stratus `{meta.get('stratus_rev', '?')}` with `--iam off`; dynalite {meta.get('dynalite', '?')} "
        f"(node {meta.get('node', '?')}, in memory); moto {meta.get('moto', '?')} (`moto_server`). "
        "ceiling = bare hyper server answering `{}` to the same requests."
    )
    p("")
    p("## Throughput and latency")
    p("")
    p("Each cell: req/s · p50 / p99 latency in µs.")
    p("")
    p("| op | conns | " + " | ".join(targets) + " |")
    p("|---|---:|" + "---:|" * len(targets))
    for op in ops:
        for c in conns:
            p(f"| {op} | {c} | " + " | ".join(cell(cases.get((t, op, c))) for t in targets) + " |")
    p("")
    failures = {}
    for (t, op, c), r in cases.items():
        if "error" in r:
            failures.setdefault((t, r["error"]), []).append(f"{op} x{c}")
    for t, r in starts.items():
        if "error" in r:
            failures.setdefault((t, r["error"]), [])
    if failures:
        p("Failures (server output in `bench/results/logs/<target>.log`, first error body of each case in "
          "`<target>.log.loadgen`):")
        p("")
        for (t, why), what in failures.items():
            p(f"- {t}: {why}" + (f" ({', '.join(what)})" if what else ""))
        p("")

    if "stratus" in targets:
        peers = [t for t in PEERS if t in targets]
        p("## Stratus relative to each peer")
        p("")
        p("req/s ratio stratus ÷ peer (above 1× = Stratus faster); p50 ratio peer ÷ stratus in brackets.")
        p("")
        p("| op | conns | " + " | ".join(f"vs {t}" for t in peers) + " |")
        p("|---|---:|" + "---:|" * len(peers))
        for op in ops:
            for c in conns:
                s = cases.get(("stratus", op, c))
                cells = []
                for t in peers:
                    r = cases.get((t, op, c))
                    a, b = ok_rps(s), ok_rps(r)
                    txt = ratio(a, b)
                    if a is not None and b is not None and s.get("p50_us"):
                        txt += f" ({r['p50_us'] / s['p50_us']:.2f}×)"
                    cells.append(txt)
                p(f"| {op} | {c} | " + " | ".join(cells) + " |")
        p("")

    p("## Start-up and memory")
    p("")
    items = meta.get("load_items", "?")
    p(
        f"Start = process spawn to first successful ListTables. Idle RSS read 0.5 s after that. "
        f"Then {items} items of 150 bytes are PutItem'd over 4 connections, capped at "
        f"{meta.get('load_cap_secs', '?')} s (on top of the items written by the PutItem cases)."
    )
    p("")
    p("| target | start (ms) | idle RSS (MB) | setup | items loaded | load rate (items/s) | RSS after load (MB) | peak RSS (MB) |")
    p("|---|---:|---:|---|---:|---:|---:|---:|")
    for t in targets:
        st, su, m = starts.get(t, {}), setups.get(t), memory.get(t)
        start = f"{st['ready_ms']:.1f}" if st.get("ready_ms") is not None else "error"
        if su is None:
            setup = "–"
        elif "error" in su:
            setup = "error"
        else:
            setup = "ok" if su.get("verified") else "unverified"
        if m is None:
            loaded = rate = after = peak = "–"
        elif "error" in m:
            loaded, rate, after, peak = "error", "–", "–", "–"
        else:
            loaded = f"{m['loaded']:,}" + ("" if m.get("complete") else " (capped)")
            rate = fmt_int(m["load_rps"])
            after, peak = mb(m.get("rss_kb")), mb(m.get("hwm_kb"))
        p(f"| {t} | {start} | {mb(st.get('idle_rss_kb'))} | {setup} | {loaded} | {rate} | {after} | {peak} |")
    p("")

    if "stratus" in targets:
        p("## Against the targets in BRIEF.md")
        p("")
        p("| target | measured | goal | verdict |")
        p("|---|---:|---|---|")

        def rps(t, op, c):
            return ok_rps(cases.get((t, op, c)))

        def check(name, value, goal, passed, shown):
            verdict = "n/a" if value is None else ("PASS" if passed else "FAIL")
            p(f"| {name} | {shown if value is not None else '–'} | {goal} | {verdict} |")

        def rel(name, a, b, k, goal):
            v = None if a is None or b is None or b == 0 else a / b
            check(name, v, goal, v is not None and v >= k, f"{v:.2f}×" if v is not None else "")

        hi = max(conns) if conns else 16
        lo = min(conns) if conns else 1
        rel(f"GetItem x{lo} vs ceiling", rps("stratus", "getitem", lo), rps("ceiling", "getitem", lo), 0.5, "≥ 0.5×")
        g = cases.get(("stratus", "getitem", lo))
        p50 = g.get("p50_us") if g and ok_rps(g) is not None else None
        check(f"GetItem x{lo} p50", p50, "≤ 70 µs", p50 is not None and p50 <= 70, f"{p50} µs")
        rel(f"GetItem x{lo} vs dynalite", rps("stratus", "getitem", lo), rps("dynalite", "getitem", lo), 3, "≈ 3×")
        rel(f"GetItem x{hi} vs dynalite", rps("stratus", "getitem", hi), rps("dynalite", "getitem", hi), 4, "≥ 4×")
        for c in conns:
            rel(f"Query x{c} vs GetItem x{c}", rps("stratus", "query", c), rps("stratus", "getitem", c), 1 / 1.5, "≥ 0.67× (within 1.5×)")
        rel(f"PutItem x{lo} vs dynalite", rps("stratus", "putitem", lo), rps("dynalite", "putitem", lo), 1.5, "≥ 1.5×")
        rel(f"PutItem x{hi} vs dynalite", rps("stratus", "putitem", hi), rps("dynalite", "putitem", hi), 3, "≥ 3×")
        st = starts.get("stratus", {})
        v = st.get("ready_ms")
        check("start → first ListTables", v, "≤ 20 ms", v is not None and v <= 20, f"{v} ms")
        v = st.get("idle_rss_kb")
        v = v / 1024 if isinstance(v, (int, float)) else None
        check("idle RSS", v, "≤ 15 MB", v is not None and v <= 15, f"{v:.1f} MB" if v else "")
        m = memory.get("stratus", {})
        v = m.get("rss_kb") if m.get("complete") else None
        v = v / 1024 if isinstance(v, (int, float)) else None
        check(f"RSS after {items} items", v, "≤ 100 MB", v is not None and v <= 100, f"{v:.1f} MB" if v else "")
        p("")
        p("PutItem durability (group commit, fdatasync) and latency independence of table size (1 M items) "
          "are not checked by this run.")
        p("")

    print("\n".join(out))


if __name__ == "__main__":
    main()
