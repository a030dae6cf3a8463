"""Markdown report of a bench/lambda.sh run.

usage: python3 bench/tools/lambda_report.py RUN.jsonl [STRATUS_STDOUT_LOG]

With the Stratus log (bench/results/logs/lambda/stratus.log), each case also gets the median
REPORT `Duration` of its invocations and, for gateway cases, the median latency of the
gateway's access-log lines (both measured inside Stratus).
"""
import json
import re
import statistics
import sys

ROUTE_FUNCTION = {"/py/hello": "PyHello", "/node/hello": "NodeHello"}
REPORT_RE = re.compile(r"^\[(\w+)\] REPORT RequestId: \S+\tDuration: ([0-9.]+) ms")
ACCESS_RE = re.compile(r"^\[gateway\] GET (\S+) 200 ([0-9.]+) ms")


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    pass
    return rows


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt_int(v):
    return "n/a" if v is None else f"{v:,.0f}"


def fmt_us(v):
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def fmt_ms(v):
    return "n/a" if v is None else f"{v:.1f} ms"


def fmt_x(v):
    return "n/a" if v is None else (f"{v:.2f}×" if v < 10 else f"{v:.1f}×")


def log_stats(log_path, case):
    """Median REPORT Duration (µs) and gateway latency (µs) of the case's log slice."""
    if not log_path or "log_from" not in case:
        return None, None
    try:
        with open(log_path, "rb") as f:
            f.seek(case["log_from"])
            data = f.read(max(0, case["log_to"] - case["log_from"]))
    except OSError:
        return None, None
    function = case["name"] if case["api"] == "invoke" else ROUTE_FUNCTION.get(case["name"])
    durations, access = [], []
    for raw in data.split(b"\n"):
        line = raw.decode("utf-8", "replace")
        m = REPORT_RE.match(line)
        if m and m.group(1) == function:
            durations.append(float(m.group(2)) * 1000)
            continue
        m = ACCESS_RE.match(line)
        if m and m.group(1) == case["name"]:
            access.append(float(m.group(2)) * 1000)
    return med(durations), med(access)


def main():
    rows = load(sys.argv[1])
    log_path = sys.argv[2] if len(sys.argv) > 2 else None
    meta = next((r for r in rows if r.get("kind") == "meta"), {})
    by_kind = {}
    for r in rows:
        by_kind.setdefault(r.get("kind"), []).append(r)

    # cases[(target, api, name, conns)] = list of rows, one per round
    cases = {}
    for c in by_kind.get("case", []):
        if "error" in c:
            continue
        c["report_us"], c["access_us"] = log_stats(log_path, c) if c["target"] == "stratus" else (None, None)
        cases.setdefault((c["target"], c["api"], c["name"], c["connections"]), []).append(c)
    conns_seen = sorted({k[3] for k in cases})

    def agg(target, api, name, conns, field):
        rs = cases.get((target, api, name, conns), [])
        return med([r.get(field) for r in rs])

    def errors(target, api, name, conns):
        return sum(r.get("errors", 0) for r in cases.get((target, api, name, conns), []))

    def cell(target, api, name, conns):
        rs = cases.get((target, api, name, conns))
        if not rs:
            return "n/a"
        s = f"{fmt_int(agg(target, api, name, conns, 'rps'))} · {fmt_us(agg(target, api, name, conns, 'p50_us'))} / {fmt_us(agg(target, api, name, conns, 'p99_us'))}"
        e = errors(target, api, name, conns)
        return s + (f" ⚠ {e} err" if e else "")

    def ratio(target_a, name, conns, field, invert=False):
        """Median over rounds of a/b measured in the same round (stratus vs offline)."""
        a = {r["round"]: r.get(field) for r in cases.get(("stratus", "get", name, conns), [])}
        b = {r["round"]: r.get(field) for r in cases.get((target_a, "get", name, conns), [])}
        vals = []
        for k in a:
            if k in b and a[k] and b[k]:
                vals.append(b[k] / a[k] if invert else a[k] / b[k])
        return med(vals)

    out = []
    p = out.append
    p("# Stratus Lambda invoke and gateway benchmark")
    p("")
    loads = [r.get("loadavg") for r in by_kind.get("load", [])]
    p(f"Run {meta.get('stamp', '?')}: Stratus binary built {meta.get('stratus_built', '?')} (sha256 {meta.get('stratus_sha', '?')}, "
      f"tree at `{meta.get('stratus_rev', '?')}`), {meta.get('cores', '?')} cores, "
      f"load average at start {meta.get('loadavg_start', '?')}" + (f", after each round {'; '.join(loads)}" if loads else "") + ", "
      f"{meta.get('bench_secs', '?')} s per case × {meta.get('rounds', '?')} interleaved rounds (medians shown), "
      f"{meta.get('python', '?')}, Node {meta.get('node', '?')}, serverless {meta.get('serverless', '?')} + "
      f"serverless-offline {meta.get('serverless_offline', '?')}.")
    p("Closed loop, keep-alive HTTP/1.1; each cell: requests/s · p50 / p99 latency in µs.")
    p("")

    # ---------------------------------------------------------- Invoke API
    p("## Lambda Invoke API (`POST /2015-03-31/functions/NAME/invocations`, SigV4, body `{}`)")
    p("")
    p("| conns | ceiling (bare hyper) | **Python** `return {\"ok\": True}` | **Node** `async () => ({ok: true})` |")
    p("|---:|---:|---:|---:|")
    for c in conns_seen:
        p(f"| {c} | {cell('ceiling', 'get', '/py/hello', c)} | **{cell('stratus', 'invoke', 'PyOk', c)}** | **{cell('stratus', 'invoke', 'NodeOk', c)}** |")
    p("")
    p("Median REPORT `Duration` (Stratus's clock: the runtime takes the event → its response is in), µs: "
      + ", ".join(f"Python ×{c} {fmt_us(agg('stratus', 'invoke', 'PyOk', c, 'report_us'))}, "
                  f"Node ×{c} {fmt_us(agg('stratus', 'invoke', 'NodeOk', c, 'report_us'))}" for c in conns_seen) + ".")
    p("")

    # ---------------------------------------------------------- Gateway
    p("## Gateway → warm function (`GET /py/hello`, `GET /node/hello`, REST API, payload 1.0)")
    p("")
    pool = any(k[0] == "stratus-pool" for k in cases)
    pool_n = meta.get("pool_small", "N")
    p("| route | conns | ceiling | **stratus** | serverless-offline | stratus ÷ offline req/s (p50 offline ÷ stratus) |"
      + (f" stratus `--max-instances {pool_n}` |" if pool else ""))
    p("|---|---:|---:|---:|---:|---:|" + ("---:|" if pool else ""))
    for name in ("/py/hello", "/node/hello"):
        for c in conns_seen:
            r = ratio("offline", name, c, "rps")
            rp = ratio("offline", name, c, "p50_us", invert=True)
            p(f"| {name} | {c} | {cell('ceiling', 'get', '/py/hello', c)} | **{cell('stratus', 'get', name, c)}** | "
              f"{cell('offline', 'get', name, c)} | **{fmt_x(r)}** ({fmt_x(rp)}) |"
              + (f" {cell('stratus-pool', 'get', name, c)} |" if pool else ""))
    p("")
    # serverless-offline's throughput can change from round to round (its Node worker threads slow
    # down as they serve requests): the per-round ratios, and the ratio in the round where
    # serverless-offline was fastest (the conservative figure the verdict uses).
    def best_round_ratio(name, conns):
        a = {r["round"]: r.get("rps") for r in cases.get(("stratus", "get", name, conns), [])}
        b = {r["round"]: r.get("rps") for r in cases.get(("offline", "get", name, conns), [])}
        common = [k for k in a if k in b and a[k] and b[k]]
        if not common:
            return None, []
        best = max(common, key=lambda k: b[k])
        return a[best] / b[best], [(k, a[k], b[k]) for k in sorted(common)]
    lines = []
    for name in ("/py/hello", "/node/hello"):
        for c in conns_seen:
            r, per = best_round_ratio(name, c)
            if per:
                lines.append(f"{name} ×{c}: " + ", ".join(f"round {k} {x:,.0f} vs {y:,.0f} ({x / y:.2f}×)" for k, x, y in per)
                             + f"; in serverless-offline's fastest round **{fmt_x(r)}**")
    if lines:
        p("Per round, stratus vs serverless-offline req/s: " + "; ".join(lines) + ".")
        p("")
    p("Inside Stratus (median over the cases' log lines), µs: " + ", ".join(
        f"{name} ×{c} REPORT Duration {fmt_us(agg('stratus', 'get', name, c, 'report_us'))}, "
        f"access-log latency {fmt_us(agg('stratus', 'get', name, c, 'access_us'))}"
        for name in ("/py/hello", "/node/hello") for c in conns_seen) + ".")
    p("")

    # ---------------------------------------------------------- Overhead
    handler = (by_kind.get("handler") or [{}])[0]
    rapid = {r["label"]: r for r in by_kind.get("rapid", [])}
    ceiling_p50 = agg("ceiling", "get", "/py/hello", 1, "p50_us")
    p("## Where the time goes at 1 connection (µs, medians)")
    p("")
    gw = (by_kind.get("gateway_event") or [{}])[0]
    p("`bootstrap alone` is Stratus's bootstrap driven by a minimal Runtime API (`bench/loadgen/src/bin/rapid.rs`): "
      "event written → response read, so its interpreter's HTTP, JSON and the handler, without Stratus; for the gateway rows "
      f"with the event the gateway builds ({gw.get('bytes', '?')} bytes, captured from `GET /py/echo`). "
      "`HTTP floor` is the ceiling server's p50 with the same client.")
    p("")
    p("| path | p50 | handler's own time | **p50 − handler** | REPORT Duration | bootstrap alone | HTTP floor | rest: Stratus's own (p50 − bootstrap − floor) |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|")
    overhead = {}
    rapid.setdefault("python", rapid.get("python_pyc", {}))
    for label, api, name, lang in (("Invoke → Python", "invoke", "PyOk", "python"), ("Invoke → Node", "invoke", "NodeOk", "node"),
                                   ("Gateway → Python", "get", "/py/hello", "python"), ("Gateway → Node", "get", "/node/hello", "node")):
        p50 = agg("stratus", api, name, 1, "p50_us")
        h = handler.get(f"{lang}_ns")
        h_us = h / 1000 if h is not None else None
        boot = rapid.get(lang + ("_gw" if api == "get" else ""), rapid.get(lang, {})).get("turnaround_p50_us")
        rep = agg("stratus", api, name, 1, "report_us")
        over = p50 - h_us if p50 is not None and h_us is not None else None
        overhead[(api, lang)] = over
        rest = p50 - boot - ceiling_p50 if None not in (p50, boot, ceiling_p50) else None
        p(f"| {label} | {fmt_us(p50)} | {'n/a' if h_us is None else f'{h_us:.2f}'} | **{fmt_us(over)}** | {fmt_us(rep)} | "
          f"{fmt_us(boot)} | {fmt_us(ceiling_p50)} | {fmt_us(rest)} |")
    p("")
    if rapid:
        p("Bootstraps alone: " + "; ".join(
            f"{k}: {fmt_int(v.get('rps'))} invocations/s, turnaround p50 {fmt_us(v.get('turnaround_p50_us'))} / p99 "
            f"{fmt_us(v.get('turnaround_p99_us'))} µs, cycle p50 {fmt_us(v.get('cycle_p50_us'))} µs" for k, v in rapid.items() if k != "python_pyc") + ". (`_gw`: with the gateway's event.)")
        p("")

    # ---------------------------------------------------------- Cold starts
    spawn = {r["label"]: r for r in by_kind.get("spawn", [])}
    cold = {(r.get("method"), r.get("function")): r for r in by_kind.get("cold", [])}
    p("## Cold starts (ms, medians)")
    p("")
    p("Each cold sample is paired with one run of the bare interpreter (`python3 -c pass`, `node -e 0`, with only `PATH` in "
      "its environment, as Stratus starts functions) just before it; **cold − spawn** is the median of the pairs' differences. "
      "A sample counts only if its REPORT line has an Init Duration.")
    p("")
    p("| runtime | interpreter spawn, paired (separate series of " + str(spawn.get("python", {}).get("runs", "?")) + ") | bootstrap init alone (spawn → first `next`) | **Stratus cold invoke** (after a code change) | its REPORT Init Duration | **cold − spawn** | first invoke after `stratus start` |")
    p("|---|---:|---:|---:|---:|---:|---:|")
    margins = {}
    for lang, fn in (("python", "PyOk"), ("node", "NodeOk")):
        sp = spawn.get(lang, {}).get("median_ms")
        init_alone = rapid.get(lang, {}).get("init_ms_p50")
        init_note = ""
        if lang == "python" and "python_pyc" in rapid:
            init_note = f"; {fmt_ms(rapid['python_pyc'].get('init_ms_p50'))} precompiled"
        c = cold.get(("reload", fn), {})
        lat = c.get("latency_ms_p50")
        fresh = cold.get(("fresh", fn), {}).get("latency_us") or []
        fresh_ms = med([x / 1000 for x in fresh])
        margin = c.get("cold_minus_baseline_ms_p50")
        if margin is None and lat is not None and sp is not None:
            margin = lat - sp
        margins[lang] = margin
        p(f"| {lang} | {fmt_ms(c.get('baseline_ms_p50'))} ({fmt_ms(sp)}) | {fmt_ms(init_alone)}{init_note} | **{fmt_ms(lat)}** ({c.get('cold', 0)} cold of {c.get('cold', 0) + c.get('not_cold', 0)}) | "
          f"{fmt_ms(c.get('init_ms_p50'))} | **{'n/a' if margin is None else f'{margin:+.1f} ms'}** | {fmt_ms(fresh_ms)} ({len(fresh)} starts) |")
    p("")
    extra = [f"`{v['program']}`{' (environment cleared)' if v.get('clear_env') else ' (this shell’s environment)'}: {v['median_ms']:.1f} ms"
             for k, v in spawn.items() if k not in ("python", "node")]
    if extra:
        p("Other spawn times: " + "; ".join(extra) + ".")
        p("")

    # ---------------------------------------------------------- Soak
    soak_start = (by_kind.get("soak_start") or [None])[0]
    soak_end = (by_kind.get("soak_end") or [{}])[0]
    w = sorted(by_kind.get("soak_window", []), key=lambda r: r["window_index"])
    slowdown = None
    if soak_start and w:
        total = sum(x.get("requests", 0) for x in w)
        errs = sum(x.get("errors", 0) for x in w)
        p(f"## {total:,} requests, gateway → Python, 1 connection, in windows of {soak_start.get('window', 0):,}")
        p("")
        p("One loadgen run (one keep-alive connection) per window, each after a 1 s probe of the ceiling server at 1 connection, "
          "so that a busier machine can be told from a slower Stratus: `norm.` is the window's req/s ÷ the probe's.")
        p("")
        p(f"{errs} errors in {soak_end.get('seconds', '?')} s; Stratus RSS {soak_start.get('rss_kb', 0) / 1024:.1f} MB before, "
          f"{(soak_end.get('rss_kb') or 0) / 1024:.1f} MB after.")
        p("")
        p("| window | req/s | p50 µs | p99 µs | ceiling probe req/s | norm. | load avg | Stratus RSS |")
        p("|---:|---:|---:|---:|---:|---:|---:|---:|")
        norms = []
        for x in w:
            n = x["rps"] / x["ceiling_rps"] if x.get("ceiling_rps") else None
            norms.append(n)
            p(f"| {x['window_index']} | {x['rps']:,.0f} | {fmt_us(x['p50_us'])} | {fmt_us(x['p99_us'])} | "
              f"{fmt_int(x.get('ceiling_rps'))} | {'n/a' if n is None else f'{n:.3f}'} | {x.get('loadavg', '?')} | {x.get('rss_kb', 0) / 1024:.1f} MB |")
        k = min(3, len(w) // 2)
        if k >= 1:
            first_raw = med([x["rps"] for x in w[:k]])
            last_raw = med([x["rps"] for x in w[-k:]])
            fn, ln = med(norms[:k]), med(norms[-k:])
            slowdown = ln / fn if fn and ln else last_raw / first_raw
            p("")
            p(f"Last {k} windows ÷ first {k} (medians): {last_raw / first_raw:.2f}× req/s raw, "
              f"{'n/a' if not (fn and ln) else f'{ln / fn:.2f}×'} normalised by the ceiling probes; p50 "
              f"{med([x['p50_us'] for x in w[-k:]]) / med([x['p50_us'] for x in w[:k]]):.2f}×.")
        p("")

    aged = by_kind.get("aged", [])
    aged_ratio = None
    if aged:
        pairs = {}
        for r in aged:
            pairs.setdefault(r["pair"], {})[r["which"]] = r
        rr = [v["aged"]["rps"] / v["fresh"]["rps"] for v in pairs.values() if "aged" in v and "fresh" in v and v["fresh"]["rps"]]
        pr = [v["aged"]["p50_us"] / v["fresh"]["p50_us"] for v in pairs.values() if "aged" in v and "fresh" in v and v["fresh"]["p50_us"]]
        aged_ratio = med(rr)
        p(f"**Soaked vs fresh.** Then the soaked Stratus and a freshly started one (same app and flags) took turns, "
          f"{len(pairs)} × {aged[0].get('seconds', 0):.0f} s each at 1 connection on `GET /py/hello`: soaked ÷ fresh = "
          f"**{fmt_x(aged_ratio)}** req/s, {fmt_x(med(pr))} p50 (medians of the pairs; soaked "
          f"{fmt_int(med([r['rps'] for r in aged if r['which'] == 'aged']))} req/s, fresh "
          f"{fmt_int(med([r['rps'] for r in aged if r['which'] == 'fresh']))} req/s).")
        p("")
        slowdown = aged_ratio

    # ---------------------------------------------------------- Start-up
    starts = {r["target"]: r for r in by_kind.get("start", [])}
    ready = (by_kind.get("ready") or [None])[0]
    p("## Start-up")
    p("")
    p("| what | median |")
    p("|---|---:|")
    ready_med = None
    if ready:
        ready_med = med(ready.get("ready_ms", []))
        pr = med(ready.get("printed_ms", []))
        p(f"| `stratus start`, 10 functions + 5 tables: spawn → `GET /_stratus/health` 200 on the API port ({len(ready.get('ready_ms', []))} starts; "
          f"tables listed: {'yes' if ready.get('tables_listed') else 'no'}) | **{fmt_ms(ready_med)}** (printed `Stratus ready in` {fmt_ms(pr)}) |")
    if "stratus" in starts:
        p(f"| `stratus start`, the bench app (4 functions), once | {fmt_ms(starts['stratus'].get('ready_ms'))} |")
    if "offline" in starts:
        o = starts["offline"]
        p(f"| `serverless offline start`: spawn → HTTP port answers, once | {fmt_ms(o.get('ready_ms'))} |")
        p(f"| `serverless offline start`: spawn → first `/py/hello` 200 (its Python cold start included), once | {fmt_ms(o.get('first_py_ms'))} |")
    p("")

    # ---------------------------------------------------------- Targets
    def verdict(ok):
        return "n/a" if ok is None else ("met" if ok else "**missed**")

    p("## Against the targets")
    p("")
    p("| target (issues 4, 5 / brief) | measured | verdict |")
    p("|---|---:|---|")
    for lang, label in (("python", "Python"), ("node", "Node")):
        o = overhead.get(("invoke", lang))
        p(f"| Invoke warm p50 ≤ 100 µs over the handler's own time, {label} | {fmt_us(o)} µs | {verdict(None if o is None else o <= 100)} |")
    for lang, label in (("python", "Python"), ("node", "Node")):
        m = margins.get(lang)
        p(f"| Cold start ≤ interpreter spawn + 10 ms, {label} | {'n/a' if m is None else f'{m:+.1f} ms'} | {verdict(None if m is None else m <= 10)} |")
    for name, lang, label in (("/py/hello", "python", "Python"), ("/node/hello", "node", "Node")):
        r = ratio("offline", name, 1, "rps")
        b, _ = best_round_ratio(name, 1)
        p(f"| Gateway ≥ 5× serverless-offline's throughput at 1 connection, {label} (in its fastest round; median of rounds) | "
          f"{fmt_x(b)} ({fmt_x(r)}) | {verdict(None if b is None else b >= 5)} |")
    for name, lang, label in (("/py/hello", "python", "Python"), ("/node/hello", "node", "Node")):
        o = overhead.get(("get", lang))
        p(f"| Gateway p50 ≤ 100 µs over the handler's own time, {label} | {fmt_us(o)} µs | {verdict(None if o is None else o <= 100)} |")
    for name, label in (("/py/hello", "Python"), ("/node/hello", "Node")):
        v = agg("stratus", "get", name, 16, "p99_us")
        p(f"| Gateway p99 ≤ 5 ms at 16 connections once warm, {label} | {fmt_us(v)} µs | {verdict(None if v is None else v <= 5000)} |")
    p(f"| No slowdown over 100k requests (the soaked Stratus ≥ 0.9× a fresh one, alternating; else last 3 windows ÷ first 3 normalised) | {fmt_x(slowdown)} | {verdict(None if slowdown is None else slowdown >= 0.9)} |")
    p(f"| `stratus start` → ready ≤ 50 ms, 10 functions + 5 tables | {fmt_ms(ready_med)} | {verdict(None if ready_med is None else ready_med <= 50)} |")
    p("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
