#!/usr/bin/env bash
# Issue 6's DynamoDB benchmark: Query on a global secondary index and on the base table of a
# 1,000-item and a 1,000,000-item table, BatchWriteItem item rate and TransactWriteItems
# throughput, Stratus side by side with dynalite and moto in one run.
#
#   bench/dynamodb6.sh                       # full run, about 15 minutes
#   QUICK=1 bench/dynamodb6.sh               # quick pass (100k-item big table, 1 round), ~2 minutes
#   BENCH_TARGETS="stratus dynalite" bench/dynamodb6.sh
#
# Writes bench/results/dynamodb6-latest.md (also printed) and dynamodb6-latest.jsonl, plus
# timestamped copies. Only 127.0.0.1 is used; every loop is bounded in count and time; every
# server this script starts is stopped by its PID on exit, nothing is killed by name.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and printf use '.' as the decimal point

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
CACHE="$BENCH/.cache"
RESULTS="$BENCH/results"

QUICK="${QUICK:-0}"
if [[ "$QUICK" == 1 ]]; then
  : "${BENCH_SECS:=2}" "${BENCH_ROUNDS:=1}" "${BIG_ITEMS:=100000}" "${LOAD_CAP_SECS:=60}" "${MOTO_LOAD_CAP_SECS:=30}"
fi
BENCH_SECS="${BENCH_SECS:-5}"              # per case and round
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"          # interleaved rounds; the report gives medians
BENCH_MAX_REQUESTS="${BENCH_MAX_REQUESTS:-2000000}" # per case, on top of the time bound
BENCH_TARGETS="${BENCH_TARGETS:-stratus dynalite moto}"
SMALL_ITEMS="${SMALL_ITEMS:-1000}"
BIG_ITEMS="${BIG_ITEMS:-1000000}"
LOAD_CONNS="${LOAD_CONNS:-4}"
LOAD_CAP_SECS="${LOAD_CAP_SECS:-360}"      # time cap of the big load, per target
MOTO_LOAD_CAP_SECS="${MOTO_LOAD_CAP_SECS:-150}" # moto's own cap (it cannot reach 1M in bounded time)
QUERY_CONNS="${QUERY_CONNS:-1}"
QUERY_LIMIT="${QUERY_LIMIT:-10}"
WRITE_CONNS="${WRITE_CONNS:-1 4}"
BATCH_SIZE="${BATCH_SIZE:-25}"
TX_PUTS="${TX_PUTS:-2}"
TX_UPDATES="${TX_UPDATES:-2}"
READY_TIMEOUT_SECS="${READY_TIMEOUT_SECS:-30}"
PORT_BASE="${BENCH_PORT_BASE:-18900}"
SKIP_BUILD="${SKIP_BUILD:-0}"

DDB6="$BENCH/target/release/ddb6"
STRATUS="${STRATUS_BIN:-$ROOT/target/release/stratus}"
DYNALITE="$CACHE/node/node_modules/dynalite/cli.js"
MOTO="$CACHE/venv/bin/moto_server"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS/logs/dynamodb6" "$CACHE"
LOGS="$RESULTS/logs/dynamodb6"
RAW="$RESULTS/dynamodb6-run-$STAMP.jsonl"
: > "$RAW"

log() { printf '[ddb6 %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ------------------------------------------------------------------ cleanup
PIDS=()
TMPDIRS=()
wait_gone() { # up to 5 s for a PID to exit; 1 if it is still there
  local pid="$1" i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    if [[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" == Z ]]; then
      wait "$pid" 2>/dev/null || true
      return 0
    fi
    sleep 0.05
  done
  return 1
}
stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" || true; }
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid d
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true; done
  for d in "${TMPDIRS[@]}"; do rm -rf -- "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ helpers
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT="$PORT_BASE"
PORT=""
free_port() { # sets PORT to the next port above the last one handed out that nobody listens on
  local i
  for ((i = 0; i < 200; i++)); do
    NEXT_PORT=$((NEXT_PORT + 1))
    if ! port_in_use "$NEXT_PORT"; then PORT="$NEXT_PORT"; return 0; fi
  done
  echo "no free port near $PORT_BASE" >&2
  return 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null | grep . || echo null; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null | grep . || echo null; }
emit() { echo "$1" >> "$RAW"; }
json_str() {
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"; s="${s//$'\n'/ }"; s="${s//$'\r'/ }"; s="${s//$'\t'/ }"
  printf '"%s"' "${s:0:300}"
}
alive() { kill -0 "$1" 2>/dev/null && [[ "$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null)" != Z ]]; }

# ------------------------------------------------------------------ build and install
if [[ "$SKIP_BUILD" != 1 ]]; then
  log "building ddb6 (release, CARGO_TARGET_DIR=bench/target)"
  (cd "$BENCH/loadgen" && CARGO_TARGET_DIR="$BENCH/target" cargo build --release --quiet --bin ddb6)
  if [[ " $BENCH_TARGETS " == *" stratus "* && -z "${STRATUS_BIN:-}" ]]; then
    log "building stratus (cargo build --release -p stratus)"
    (cd "$ROOT" && env -u CARGO_TARGET_DIR cargo build --release -p stratus --quiet) > "$LOGS/stratus-build.log" 2>&1 \
      || log "cargo build -p stratus failed (see $LOGS/stratus-build.log)"
  fi
fi
[[ -x "$DDB6" ]] || { echo "bench/target/release/ddb6 not built" >&2; exit 1; }

if [[ " $BENCH_TARGETS " == *" dynalite "* && ! -f "$DYNALITE" ]]; then
  log "installing dynalite into bench/.cache/node"
  mkdir -p "$CACHE/node"
  timeout 600 npm install --prefix "$CACHE/node" --no-audit --no-fund dynalite > "$LOGS/dynalite-install.log" 2>&1 \
    || log "npm install dynalite failed (see $LOGS/dynalite-install.log)"
fi
if [[ " $BENCH_TARGETS " == *" moto "* && ! -x "$MOTO" ]]; then
  log "installing moto[server] into bench/.cache/venv"
  { [[ -x "$CACHE/venv/bin/pip" ]] || python3 -m venv "$CACHE/venv"; } > "$LOGS/moto-install.log" 2>&1
  timeout 900 "$CACHE/venv/bin/pip" install -q 'moto[server]' >> "$LOGS/moto-install.log" 2>&1 \
    || log "pip install moto[server] failed (see $LOGS/moto-install.log)"
fi

DYNALITE_VERSION="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$CACHE/node/node_modules/dynalite/package.json" 2>/dev/null | head -1)"
MOTO_VERSION="$("$CACHE/venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null || true)"
STRATUS_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo none)$(cd "$ROOT" && git status --porcelain 2>/dev/null | grep -q . && echo +dirty || true)"
STRATUS_MTIME="$(date -u -r "$STRATUS" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo ?)"
emit "{\"kind\":\"meta\",\"stamp\":\"$STAMP\",\"bench_secs\":$BENCH_SECS,\"rounds\":$BENCH_ROUNDS,\"cores\":$(nproc),\"small_items\":$SMALL_ITEMS,\"big_items\":$BIG_ITEMS,\"load_cap_secs\":$LOAD_CAP_SECS,\"moto_load_cap_secs\":$MOTO_LOAD_CAP_SECS,\"load_conns\":$LOAD_CONNS,\"query_limit\":$QUERY_LIMIT,\"batch_size\":$BATCH_SIZE,\"tx_puts\":$TX_PUTS,\"tx_updates\":$TX_UPDATES,\"dynalite\":\"${DYNALITE_VERSION:-?}\",\"moto\":\"${MOTO_VERSION:-?}\",\"stratus_rev\":\"$STRATUS_REV\",\"stratus_bin_mtime\":\"$STRATUS_MTIME\",\"node\":\"$(node --version 2>/dev/null || echo ?)\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"

# ------------------------------------------------------------------ start the targets
declare -A EP PID_OF BIG_PREFIX SMALL_PREFIX TX_OK
TARGETS=()
start_target() {
  local target="$1" tmp out t0 pid ready logf="$LOGS/$1.log"
  free_port
  local port="$PORT" ep="http://127.0.0.1:$PORT"
  local -a cmd
  case "$target" in
    stratus)
      [[ -x "$STRATUS" ]] || { emit "{\"target\":\"stratus\",\"kind\":\"start\",\"error\":\"no binary at $STRATUS\"}"; return 0; }
      tmp="$(mktemp -d "${TMPDIR:-/tmp}/stratus-ddb6.XXXXXX")"
      TMPDIRS+=("$tmp")
      free_port
      # An empty app folder (no template), data durable on disk in the temp dir.
      cmd=("$STRATUS" start "$tmp" --host 127.0.0.1 --aws-port "$port" --api-port "$PORT" --data-dir "$tmp/data" --iam off) ;;
    dynalite)
      [[ -f "$DYNALITE" ]] || { emit "{\"target\":\"dynalite\",\"kind\":\"start\",\"error\":\"not installed\"}"; return 0; }
      cmd=(node "$DYNALITE" --port "$port" --createTableMs 0) ;;   # in memory
    moto)
      [[ -x "$MOTO" ]] || { emit "{\"target\":\"moto\",\"kind\":\"start\",\"error\":\"not installed\"}"; return 0; }
      cmd=("$MOTO" -H 127.0.0.1 -p "$port") ;;                    # in memory
    *) echo "unknown target $target" >&2; return 1 ;;
  esac
  log "$target: starting on $ep"
  : > "$logf.ddb6"
  t0="$EPOCHREALTIME"
  "${cmd[@]}" > "$logf" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! out="$("$DDB6" wait --endpoint "$ep" --since "$t0" --timeout-secs "$READY_TIMEOUT_SECS" --pid "$pid" 2>> "$logf.ddb6")"; then
    log "$target: not ready (see $logf)"
    emit "{\"target\":\"$target\",\"kind\":\"start\",\"error\":\"not ready within ${READY_TIMEOUT_SECS}s\"}"
    stop_pid "$pid"
    return 0
  fi
  ready="$(sed -n 's/.*"ready_ms":\([0-9.]*\).*/\1/p' <<< "$out")"
  EP[$target]="$ep"
  PID_OF[$target]="$pid"
  TARGETS+=("$target")
  emit "{\"target\":\"$target\",\"kind\":\"start\",\"ready_ms\":$ready,\"idle_rss_kb\":$(rss_kb "$pid")}"
}
for t in $BENCH_TARGETS; do start_target "$t"; done
[[ ${#TARGETS[@]} -gt 0 ]] || { echo "no target started" >&2; exit 1; }

# ddb6 SUBCOMMAND ARGS... against TARGET, bounded by TIMEOUT seconds; prints its JSON line.
run_ddb6() {
  local target="$1" secs="$2"; shift 2
  timeout "$secs" "$DDB6" "$@" --endpoint "${EP[$target]}" 2>> "$LOGS/$target.log.ddb6"
}

# ------------------------------------------------------------------ tables and the small load
for t in "${TARGETS[@]}"; do
  for table in small big writes txns; do
    if out="$(run_ddb6 "$t" 120 create --table "$table")"; then
      emit "{\"target\":\"$t\",\"kind\":\"create\",${out#\{}"
    else
      emit "{\"target\":\"$t\",\"kind\":\"create\",\"table\":\"$table\",\"error\":\"create failed\"}"
      log "$t: CreateTable $table failed (see $LOGS/$t.log.ddb6)"
    fi
  done
  out="$(run_ddb6 "$t" 200 load --table small --items "$SMALL_ITEMS" --connections "$LOAD_CONNS" --max-secs 120 || echo '{"error":"load failed"}')"
  emit "{\"target\":\"$t\",\"kind\":\"load\",\"phase\":\"small\",${out#\{}"
  SMALL_PREFIX[$t]="$(sed -n 's/.*"prefix":\([0-9]*\).*/\1/p' <<< "$out")"
  log "$t: small load: $out"
  # Does it support TransactWriteItems at all? (dynalite 4 does not.)
  out="$(run_ddb6 "$t" 30 transact --table txns --connections 1 --duration-secs 5 --max-requests 1 \
    --puts "$TX_PUTS" --updates "$TX_UPDATES" || echo '{"rps":0}')"
  if [[ "$out" == *'"errors":0'* ]]; then
    TX_OK[$t]=1
  else
    TX_OK[$t]=0
    why="$(grep 'TransactWriteItems' "$LOGS/$t.log.ddb6" | tail -1)"
    emit "{\"target\":\"$t\",\"kind\":\"unsupported\",\"op\":\"transactwrite\",\"why\":$(json_str "$why")}"
    log "$t: TransactWriteItems not supported: $why"
  fi
done

# One timed case against every target, in an order rotated each round.
# case_all ROUND PHASE CASE CONNS SUBCOMMAND ARGS...   (ARGS may hold @SMALL@ / @BIG@ item counts)
case_all() {
  local round="$1" phase="$2" name="$3" conns="$4"; shift 4
  local n=${#TARGETS[@]} i t out args
  for ((i = 0; i < n; i++)); do
    t="${TARGETS[$(((i + round) % n))]}"
    if ! alive "${PID_OF[$t]}"; then
      emit "{\"target\":\"$t\",\"kind\":\"case\",\"round\":$round,\"phase\":\"$phase\",\"case\":\"$name\",\"connections\":$conns,\"error\":\"server exited\"}"
      continue
    fi
    if [[ "$1" == transact && "${TX_OK[$t]}" != 1 ]]; then continue; fi
    args=("$@")
    args=("${args[@]//@SMALL@/${SMALL_PREFIX[$t]:-0}}")
    args=("${args[@]//@BIG@/${BIG_PREFIX[$t]:-0}}")
    if out="$(run_ddb6 "$t" $((BENCH_SECS + 60)) "${args[@]}" --connections "$conns" \
        --duration-secs "$BENCH_SECS" --max-requests "$BENCH_MAX_REQUESTS")" && [[ "$out" == \{* ]]; then
      emit "{\"target\":\"$t\",\"kind\":\"case\",\"round\":$round,\"phase\":\"$phase\",\"case\":\"$name\",${out#\{}"
      log "r$round $t $name x$conns: $out"
    else
      emit "{\"target\":\"$t\",\"kind\":\"case\",\"round\":$round,\"phase\":\"$phase\",\"case\":\"$name\",\"connections\":$conns,\"error\":\"ddb6 failed\"}"
      log "r$round $t $name x$conns: ddb6 failed"
    fi
  done
}

# ------------------------------------------------------------------ writes (before the big load)
# Batches and transactions first, while each server holds only the 1k-item table: moto's
# TransactWriteItems copies its whole database per transaction, so its figure depends on size.
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
  log "write round $r of $BENCH_ROUNDS"
  for c in $WRITE_CONNS; do
    case_all "$r" writes batchwrite "$c" batch --table writes --batch "$BATCH_SIZE"
    case_all "$r" writes transactwrite "$c" transact --table txns --puts "$TX_PUTS" --updates "$TX_UPDATES"
  done
done

# ------------------------------------------------------------------ the big load
for t in "${TARGETS[@]}"; do
  cap="$LOAD_CAP_SECS"
  [[ "$t" == moto ]] && cap="$MOTO_LOAD_CAP_SECS"
  log "$t: loading $BIG_ITEMS items with BatchWriteItem ($LOAD_CONNS conns, cap ${cap}s)"
  out="$(run_ddb6 "$t" $((cap + 90)) load --table big --items "$BIG_ITEMS" --connections "$LOAD_CONNS" --max-secs "$cap" \
    || echo '{"error":"load failed"}')"
  sleep 1
  pid="${PID_OF[$t]}"
  emit "{\"target\":\"$t\",\"kind\":\"load\",\"phase\":\"big\",\"cap_secs\":$cap,\"rss_kb\":$(rss_kb "$pid"),\"hwm_kb\":$(hwm_kb "$pid"),${out#\{}"
  BIG_PREFIX[$t]="$(sed -n 's/.*"prefix":\([0-9]*\).*/\1/p' <<< "$out")"
  log "$t: big load: $out; RSS $(rss_kb "$pid") kB"
done

# ------------------------------------------------------------------ queries: 1k vs big, table vs index
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
  log "query round $r of $BENCH_ROUNDS"
  for c in $QUERY_CONNS; do
    case_all "$r" queries query_table_small "$c" query --table small --items @SMALL@ --limit "$QUERY_LIMIT"
    case_all "$r" queries query_table_big "$c" query --table big --items @BIG@ --limit "$QUERY_LIMIT"
    case_all "$r" queries query_gsi_small "$c" query --table small --index gsi1 --items @SMALL@ --limit "$QUERY_LIMIT"
    case_all "$r" queries query_gsi_big "$c" query --table big --index gsi1 --items @BIG@ --limit "$QUERY_LIMIT"
  done
  # Transactions again, now that the server also holds the big table.
  case_all "$r" queries transactwrite_bigdb 1 transact --table txns --puts "$TX_PUTS" --updates "$TX_UPDATES"
done

for t in "${TARGETS[@]}"; do
  pid="${PID_OF[$t]}"
  disk=null
  if [[ "$t" == stratus && ${#TMPDIRS[@]} -gt 0 ]]; then disk="$(du -sk "${TMPDIRS[0]}" | cut -f1)"; fi
  emit "{\"target\":\"$t\",\"kind\":\"end\",\"alive\":$(alive "$pid" && echo true || echo false),\"rss_kb\":$(rss_kb "$pid"),\"hwm_kb\":$(hwm_kb "$pid"),\"disk_kb\":$disk}"
done
emit "{\"kind\":\"meta_end\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"stamp_end\":\"$(date -u +%Y%m%dT%H%M%SZ)\"}"

# ------------------------------------------------------------------ report
python3 - "$RAW" > "$RESULTS/dynamodb6-run-$STAMP.md" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
meta = next((r for r in rows if r.get("kind") == "meta"), {})
meta_end = next((r for r in rows if r.get("kind") == "meta_end"), {})
targets = [r["target"] for r in rows if r.get("kind") == "start" and "error" not in r]
peers = [t for t in targets if t != "stratus"]
cases = [r for r in rows if r.get("kind") == "case"]

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def sel(t, case, conns):
    return [r for r in cases if r["target"] == t and r["case"] == case and r.get("connections") == conns and "error" not in r]

def f(x, d=0):
    if x is None: return "n/a"
    if abs(x) >= 1000: return f"{x:,.0f}"
    if abs(x) >= 100: return f"{x:.0f}"
    return f"{x:.{max(d,1)}f}" if abs(x) < 10 else f"{x:.1f}"

def ratio(x):
    if x is None: return "n/a"
    return f"{x:.2f}×" if x < 10 else f"{x:.1f}×" if x < 100 else f"{x:.0f}×"

def cell(t, case, conns, rate="rps"):
    rs = sel(t, case, conns)
    if not rs:
        uns = [r for r in rows if r.get("kind") == "unsupported" and r["target"] == t and case.startswith(r["op"])]
        if uns: return "not supported"
        errs = [r for r in cases if r["target"] == t and r["case"] == case and r.get("connections") == conns]
        return "error" if errs else "—"
    ok = [r for r in rs if r["rps"] > 0]
    if not ok: return "error (0 ok)"
    v = f"{f(med([r[rate] for r in ok]))} · {f(med([r['p50_us'] for r in ok]))} / {f(med([r['p99_us'] for r in ok]))}"
    errs = sum(r["errors"] for r in rs)
    if errs: v += f" ⚠ {errs} err of {sum(r['requests'] for r in rs)}"
    if any(r.get("verified") is False for r in rs): v += " (unverified)"
    return v

def round_ratios(a, case, conns, b, key, invert=False, bcase=None, bconns=None):
    """Median over rounds of a.key / b.key (same round)."""
    bcase = bcase or case
    bconns = bconns or conns
    out = []
    for r in sel(a, case, conns):
        o = [x for x in sel(b, bcase, bconns) if x["round"] == r["round"]]
        if not o or not r[key] or not o[0][key]: continue
        out.append(o[0][key] / r[key] if invert else r[key] / o[0][key])
    return med(out)

loads = {(r["target"], r.get("phase")): r for r in rows if r.get("kind") == "load"}
def size_of(t, which):
    l = loads.get((t, which), {})
    return l.get("prefix")

p = print
p(f"# DynamoDB indexes, batches and transactions (issue 6) — run {meta.get('stamp')}")
p()
p(f"Stratus `{meta.get('stratus_rev')}` (binary built {meta.get('stratus_bin_mtime')}; `--iam off`, durable `--data-dir`), "
  f"dynalite {meta.get('dynalite')} (in memory), moto {meta.get('moto')} (in memory), node {meta.get('node')}; "
  f"{meta.get('cores')} cores; load average {meta.get('loadavg')} at start, {meta_end.get('loadavg')} at end. "
  f"{meta.get('rounds')} interleaved rounds of {meta.get('bench_secs')} s per case; cells are medians of the rounds: "
  "ops/s · p50 / p99 µs. Closed loop, keep-alive HTTP/1.1, SigV4-signed requests (test/test).")
p()
p("Tables: `pk` S HASH, `sk` S RANGE, global index `gsi1` (`gpk` S HASH, `gsk` S RANGE, projection ALL), "
  "items of ~150 bytes; every base partition and every index partition holds 20 items. "
  f"Query: one random complete partition per request, `Limit {meta.get('query_limit')}`.")
p()
p("## Table sizes reached")
p()
p("| target | small table | big table (BatchWriteItem, %s conns) | load time | items/s | RSS after the load | peak RSS |" % meta.get("load_conns"))
p("|---|---:|---:|---:|---:|---:|---:|")
for t in targets:
    s = loads.get((t, "small"), {}); b = loads.get((t, "big"), {})
    mb = lambda kb: f"{kb/1024:,.0f} MB" if isinstance(kb, (int, float)) else "n/a"
    capnote = "" if b.get("complete") else f" (cap {b.get('cap_secs')} s)"
    p(f"| {t} | {s.get('prefix','n/a'):,} | {b.get('prefix', 0):,} of {b.get('requested', 0):,}{capnote}"
      f"{' ⚠ %d err' % b['errors'] if b.get('errors') else ''} | {f(b.get('seconds'))} s | {f(b.get('items_per_s'))} | {mb(b.get('rss_kb'))} | {mb(b.get('hwm_kb'))} |")
p()
p("## Query: base table and global index, small vs big table (1 connection)")
p()
qc = sorted({r["connections"] for r in cases if r["case"].startswith("query")})
p("| query | conns | " + " | ".join(f"**{t}**" if t == "stratus" else t for t in targets) + " |")
p("|---|---:|" + "---:|" * len(targets))
names = {"query_table_small": "table, small", "query_table_big": "table, big", "query_gsi_small": "gsi1, small", "query_gsi_big": "gsi1, big"}
for c in qc:
    for case in ["query_table_small", "query_table_big", "query_gsi_small", "query_gsi_big"]:
        p(f"| {names[case]} | {c} | " + " | ".join(cell(t, case, c) for t in targets) + " |")
p()
p("Size dependence: big ÷ small p50 (median of the per-round ratios; 1.00× = latency independent of size), and the big table's size:")
p()
p("| | " + " | ".join(targets) + " |")
p("|---|" + "---:|" * len(targets))
for c in qc:
    for kind in ["table", "gsi"]:
        p(f"| {kind} p50, {c} conn | " + " | ".join(ratio(round_ratios(t, f"query_{kind}_big", c, t, "p50_us", bcase=f"query_{kind}_small")) for t in targets) + " |")
        p(f"| {kind} p99, {c} conn | " + " | ".join(ratio(round_ratios(t, f"query_{kind}_big", c, t, "p99_us", bcase=f"query_{kind}_small")) for t in targets) + " |")
    p(f"| big table items | " + " | ".join(f"{size_of(t,'big') or 0:,}" for t in targets) + " |")
p()
p("GSI ÷ base-table p50 on the same table (median of per-round ratios):")
p()
p("| | " + " | ".join(targets) + " |")
p("|---|" + "---:|" * len(targets))
for c in qc:
    for size in ["small", "big"]:
        p(f"| {size}, {c} conn | " + " | ".join(ratio(round_ratios(t, f"query_gsi_{size}", c, t, "p50_us", bcase=f"query_table_{size}")) for t in targets) + " |")
p()
p(f"## BatchWriteItem ({meta.get('batch_size')} new items per request) and TransactWriteItems "
  f"({meta.get('tx_puts')} Put + {meta.get('tx_updates')} Update) — cells: items/s (batch) or transactions/s · p50 / p99 µs")
p()
p("| op | conns | " + " | ".join(f"**{t}**" if t == "stratus" else t for t in targets) + " |")
p("|---|---:|" + "---:|" * len(targets))
wc = sorted({r["connections"] for r in cases if r["case"] in ("batchwrite", "transactwrite", "transactwrite_bigdb")})
for case, label, rate in [("batchwrite", "BatchWriteItem (items/s)", "items_per_s"), ("transactwrite", "TransactWriteItems (tx/s)", "rps"),
                          ("transactwrite_bigdb", "TransactWriteItems, big table loaded (tx/s)", "rps")]:
    for c in wc:
        if not any(r["case"] == case and r.get("connections") == c for r in cases): continue
        p(f"| {label} | {c} | " + " | ".join(cell(t, case, c, rate) for t in targets) + " |")
p()
if "stratus" in targets and peers:
    p("## Stratus relative to each peer")
    p()
    p("Throughput ratio Stratus ÷ peer (above 1× = Stratus faster) and, in brackets, p50 ratio peer ÷ Stratus; medians of the per-round ratios.")
    p()
    p("| case | conns | " + " | ".join(f"vs {t}" for t in peers) + " |")
    p("|---|---:|" + "---:|" * len(peers))
    allcases = [("query_table_small", "Query table, small"), ("query_table_big", "Query table, big"), ("query_gsi_small", "Query gsi1, small"),
                ("query_gsi_big", "Query gsi1, big"), ("batchwrite", "BatchWriteItem"), ("transactwrite", "TransactWriteItems"),
                ("transactwrite_bigdb", "TransactWriteItems, big table loaded")]
    for case, label in allcases:
        for c in sorted({r["connections"] for r in cases if r["case"] == case}):
            cells = []
            for peer in peers:
                rate = "items_per_s" if case == "batchwrite" else "rps"
                a = round_ratios("stratus", case, c, peer, rate)
                b = round_ratios("stratus", case, c, peer, "p50_us", invert=True)
                cells.append("n/a" if a is None else f"{ratio(a)} ({ratio(b)})")
            p(f"| {label} | {c} | " + " | ".join(cells) + " |")
    sb = loads.get(("stratus", "big"), {}).get("items_per_s")
    cells = []
    for peer in peers:
        pb = loads.get((peer, "big"), {}).get("items_per_s")
        cells.append(ratio(sb / pb) if sb and pb else "n/a")
    p(f"| big-table load, BatchWriteItem items/s (one run each) | {meta.get('load_conns')} | " + " | ".join(cells) + " |")
    p()
    p("Note: the peers' big tables are the sizes in the first table; a ratio on the big table compares Stratus at its size with the peer at the peer's.")
    p()
ends = {r["target"]: r for r in rows if r.get("kind") == "end"}
p("## End of run")
p()
for t in targets:
    e = ends.get(t, {})
    disk = f", data dir {e['disk_kb']/1024:,.0f} MB" if e.get("disk_kb") else ""
    rss = f"{e['rss_kb']/1024:,.0f} MB" if isinstance(e.get('rss_kb'), (int, float)) else "n/a"
    hwm = f"{e['hwm_kb']/1024:,.0f} MB" if isinstance(e.get('hwm_kb'), (int, float)) else "n/a"
    p(f"- {t}: alive {e.get('alive')}, RSS {rss}, peak {hwm}{disk}")
for r in rows:
    if r.get("kind") == "unsupported":
        p(f"- {r['target']}: {r['op']} not supported: `{r['why']}`")
    if r.get("kind") == "create" and "error" in r:
        p(f"- {r['target']}: CreateTable {r.get('table')} failed")
PY
cp "$RAW" "$RESULTS/dynamodb6-latest.jsonl"
cp "$RESULTS/dynamodb6-run-$STAMP.md" "$RESULTS/dynamodb6-latest.md"
cat "$RESULTS/dynamodb6-latest.md"
log "wrote bench/results/dynamodb6-latest.md and .jsonl (server logs in bench/results/logs/dynamodb6/)"
