#!/usr/bin/env bash
# The cost of IAM per request (issue 7): GetItem throughput and latency of one Stratus with
# `--iam off` and one with `--iam enforce`, side by side in one run, in interleaved rounds.
# Under enforce two callers are measured:
#   enforce-admin  the administrator key (test/test): SigV4 verified, no policy evaluated;
#   enforce-role   a function's minted credentials (session token included): SigV4 verified,
#                  then the role's policies evaluated with the request's condition keys
#                  (dynamodb:LeadingKeys, dynamodb:Attributes, ...) and the usage recorded.
#
#   bench/iam.sh                           # 3 s per case, 7 interleaved rounds: about 2.5 minutes
#   BENCH_SECS=2 BENCH_ROUNDS=1 bench/iam.sh   # quick pass
# This machine is noisy: short cases in many interleaved rounds, and each round's ratio to the
# `off` case measured seconds before it, track drift better than a few long cases.
#
# Writes bench/results/iam-latest.md and iam-latest.jsonl. Only 127.0.0.1 is used; every loop
# is bounded in count and time; the servers are stopped by PID on exit.
set -euo pipefail
export LC_ALL=C

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
RESULTS="$BENCH/results"
BENCH_SECS="${BENCH_SECS:-3}"
BENCH_ROUNDS="${BENCH_ROUNDS:-7}"
BENCH_CONNS="${BENCH_CONNS:-1 16}"
BENCH_MAX_REQUESTS="${BENCH_MAX_REQUESTS:-3000000}"
PORT_BASE="${BENCH_PORT_BASE:-18900}"
SKIP_BUILD="${SKIP_BUILD:-0}"
LOADGEN="$BENCH/target/release/loadgen"
STRATUS="${STRATUS_BIN:-$ROOT/target/release/stratus}"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS/logs"
RAW="$RESULTS/iam-run-$STAMP.jsonl"
: > "$RAW"
log() { printf '[iam-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

PIDS=()
TMPDIRS=()
cleanup() {
  local pid d
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for d in "${TMPDIRS[@]}"; do rm -rf -- "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ "$SKIP_BUILD" != 1 ]]; then
  log "building the load generator and stratus (release)"
  (cd "$BENCH/loadgen" && CARGO_TARGET_DIR="$BENCH/target" cargo build --release --quiet)
  if [[ -z "${STRATUS_BIN:-}" ]]; then
    (cd "$ROOT" && env -u CARGO_TARGET_DIR cargo build --release -p stratus --quiet)
  fi
fi
[[ -x "$LOADGEN" && -x "$STRATUS" ]] || { echo "loadgen or stratus not built" >&2; exit 1; }

# start NAME PORT MODE: a Stratus serving bench/apps/iam (copied) with its own data folder,
# left in $STARTED_TMP (not a subshell: the PID must reach the cleanup list).
start() {
  local name="$1" port="$2" mode="$3" tmp
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/stratus-iam-bench.XXXXXX")"
  TMPDIRS+=("$tmp")
  cp -r "$BENCH/apps/iam" "$tmp/app"
  "$STRATUS" start "$tmp/app" --host 127.0.0.1 --aws-port "$port" --api-port "$((port + 50))" \
    --data-dir "$tmp/data" --iam "$mode" --parameter-overrides "CredsFile=$tmp/creds.json" \
    > "$RESULTS/logs/iam-$name.log" 2>&1 &
  PIDS+=("$!")
  STARTED_PID="$!"
  "$LOADGEN" wait --endpoint "http://127.0.0.1:$port" --since "$EPOCHREALTIME" --timeout-secs 30 --pid "$!" > /dev/null
  "$LOADGEN" setup --endpoint "http://127.0.0.1:$port" > "$tmp/setup.json"
  STARTED_TMP="$tmp"
}

OFF_PORT="$PORT_BASE"
ENF_PORT="$((PORT_BASE + 1))"
log "starting stratus --iam off on $OFF_PORT and --iam enforce on $ENF_PORT"
start off "$OFF_PORT" off
OFF_PID="$STARTED_PID"
start enforce "$ENF_PORT" enforce
ENF_TMP="$STARTED_TMP"
ENF_PID="$STARTED_PID"
CLK_TCK="$(getconf CLK_TCK)"
# CPU time (user + system, in clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The function's minted credentials: one invocation writes them to CREDS_FILE.
"$LOADGEN" run --endpoint "http://127.0.0.1:$ENF_PORT" --op invoke --function bench-reader \
  --connections 1 --max-requests 1 --duration-secs 30 > /dev/null
for _ in $(seq 100); do [[ -s "$ENF_TMP/creds.json" ]] && break; sleep 0.1; done
[[ -s "$ENF_TMP/creds.json" ]] || { echo "the function did not write its credentials" >&2; exit 1; }
field() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" "$ENF_TMP/creds.json"; }
ROLE_KEY="$(field AWS_ACCESS_KEY_ID)"
ROLE_SECRET="$(field AWS_SECRET_ACCESS_KEY)"
ROLE_TOKEN="$(field AWS_SESSION_TOKEN)"

# case TARGET CONNS ROUND
run_case() {
  local target="$1" conns="$2" round="$3" port line pid before after
  local -a env_=()
  case "$target" in
    off) port="$OFF_PORT"; pid="$OFF_PID" ;;
    enforce-admin) port="$ENF_PORT"; pid="$ENF_PID" ;;
    enforce-role) port="$ENF_PORT"; pid="$ENF_PID"
      env_=(LOADGEN_ACCESS_KEY_ID="$ROLE_KEY" LOADGEN_SECRET_ACCESS_KEY="$ROLE_SECRET" LOADGEN_SESSION_TOKEN="$ROLE_TOKEN") ;;
  esac
  before="$(cpu_ticks "$pid")"
  line="$(env "${env_[@]}" "$LOADGEN" run --endpoint "http://127.0.0.1:$port" --op getitem \
    --connections "$conns" --duration-secs "$BENCH_SECS" --max-requests "$BENCH_MAX_REQUESTS" \
    --label "$target")"
  after="$(cpu_ticks "$pid")"
  echo "{\"target\":\"$target\",\"conns\":$conns,\"round\":$round,\"server_cpu_s\":$(awk -v a="$after" -v b="$before" -v t="$CLK_TCK" 'BEGIN{printf "%.3f", (a-b)/t}'),\"result\":$line}" >> "$RAW"
  log "$target c=$conns round $round: $line"
}

for round in $(seq "$BENCH_ROUNDS"); do
  for conns in $BENCH_CONNS; do
    for target in off enforce-admin enforce-role; do
      run_case "$target" "$conns" "$round"
    done
  done
done

# Every role request must have been allowed (the function's policy grants GetItem): the usage
# the server recorded says how many were evaluated.
USAGE="$(curl -s "http://127.0.0.1:$ENF_PORT/_stratus/iam/usage")"
echo "{\"usage\":$USAGE}" >> "$RAW"

python3 - "$RAW" "$RESULTS/iam-latest.md" "$BENCH_SECS" <<'EOF'
import json, statistics, sys
raw, out, secs = sys.argv[1], sys.argv[2], sys.argv[3]
rows, usage, raw_rows = {}, None, []
for line in open(raw):
    item = json.loads(line)
    if "usage" in item:
        usage = item["usage"]
        continue
    raw_rows.append(item)
    rows.setdefault((item["target"], item["conns"]), []).append(item["result"])
def med(results, key):
    return statistics.median(r[key] for r in results)
lines = [f"# IAM cost per request (GetItem, {secs} s per case; medians over rounds; the ratio is the median of each round's ratio to `off` in that round)", "",
         "| caller | conns | req/s | p50 µs | p99 µs | errors | req/s ÷ off | server CPU µs/request | CPU ÷ off |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
def by_round(target, conns):
    return {r["round"]: r["result"] for r in raw_rows if r["target"] == target and r["conns"] == conns}
for conns in sorted({c for _, c in rows}):
    base = by_round("off", conns)
    for target in ["off", "enforce-admin", "enforce-role"]:
        results = rows.get((target, conns), [])
        if not results:
            continue
        errors = sum(r.get("errors", 0) for r in results)
        mine = by_round(target, conns)
        ratios = [mine[k]["rps"] / base[k]["rps"] for k in mine if k in base and base[k]["rps"] > 0]
        ratio = statistics.median(ratios) if ratios else float("nan")
        cpu = {r["round"]: r["server_cpu_s"] * 1e6 / max(r["result"]["requests"], 1)
               for r in raw_rows if r["target"] == target and r["conns"] == conns}
        base_cpu = {r["round"]: r["server_cpu_s"] * 1e6 / max(r["result"]["requests"], 1)
                    for r in raw_rows if r["target"] == "off" and r["conns"] == conns}
        cpu_ratios = [cpu[k] / base_cpu[k] for k in cpu if base_cpu.get(k)]
        lines.append(f"| {target} | {conns} | {med(results, 'rps'):,.0f} | {med(results, 'p50_us'):.0f} | "
                     f"{med(results, 'p99_us'):.0f} | {errors} | {ratio:.3f} | {statistics.median(cpu.values()):.1f} | "
                     f"{statistics.median(cpu_ratios) if cpu_ratios else float('nan'):.3f} |")
if usage:
    for record in usage.get("usage", []):
        lines.append("")
        lines.append(f"Recorded by the enforce server: {record['function']} {record['action']} on "
                     f"{record['resource']}: {record['allowed']} allowed, {record['denied']} denied.")
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
cp "$RAW" "$RESULTS/iam-latest.jsonl"
