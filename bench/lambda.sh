#!/usr/bin/env bash
# Stratus Lambda and gateway benchmark (issues 4 and 5): the Invoke API and the API gateway in
# front of trivial Python and Node handlers, against a bare hyper server (the HTTP ceiling) and
# the same app on serverless-offline, in one run.
#
#   bench/lambda.sh                      # 10 s per case, 3 rounds: 10-17 minutes
#   BENCH_SECS=2 BENCH_ROUNDS=1 bench/lambda.sh   # quick pass
#   BENCH_TARGETS="ceiling stratus" bench/lambda.sh  # without serverless-offline
#
# Writes bench/results/lambda-latest.md (markdown) and lambda-latest.jsonl (raw lines).
# Only 127.0.0.1 is used; every loop is bounded in count and time; every server this script
# starts is killed by PID (serverless-offline: by its own process group) on exit.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and printf use '.' as the decimal point

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
CACHE="$BENCH/.cache"
RESULTS="$BENCH/results"
APP_SRC="$BENCH/apps/functions"

BENCH_SECS="${BENCH_SECS:-10}"            # per case
BENCH_ROUNDS="${BENCH_ROUNDS:-3}"         # every case runs this many times, interleaved; medians reported
BENCH_CONNS="${BENCH_CONNS:-1 16}"
BENCH_MAX_REQUESTS="${BENCH_MAX_REQUESTS:-3000000}"  # per case, on top of the time bound
BENCH_TARGETS="${BENCH_TARGETS:-ceiling stratus offline}"
WARM_SECS="${WARM_SECS:-2}"               # 16-connection warm-up per function before measuring
SOAK_REQUESTS="${SOAK_REQUESTS:-100000}"  # gateway → Python, 1 connection (0 to skip)
SOAK_WINDOW="${SOAK_WINDOW:-10000}"
SOAK_CAP_SECS="${SOAK_CAP_SECS:-300}"
AGED_PAIRS="${AGED_PAIRS:-5}"             # after the soak: alternations of the soaked Stratus and a fresh one
AGED_SECS="${AGED_SECS:-2}"
COLD_SAMPLES="${COLD_SAMPLES:-10}"        # cold starts per runtime and method
SPAWN_RUNS="${SPAWN_RUNS:-20}"            # runs of `python3 -c pass` / `node -e 0`
RAPID_INVOCATIONS="${RAPID_INVOCATIONS:-20000}"
READY_SAMPLES="${READY_SAMPLES:-10}"      # starts of the 10-function, 5-table app
READY_TIMEOUT_SECS="${READY_TIMEOUT_SECS:-60}"
PORT_BASE="${BENCH_PORT_BASE:-18700}"
# A second Stratus with a smaller pool (--max-instances N) for the 16-connection gateway cases:
# on 2 cores, 16 instances of a runtime compete for the CPU (0 to skip).
POOL_SMALL="${POOL_SMALL:-4}"
SKIP_BUILD="${SKIP_BUILD:-0}"

LOADGEN="$BENCH/target/release/loadgen"
CEILING="$BENCH/target/release/ceiling"
RAPID="$BENCH/target/release/rapid"
STRATUS="${STRATUS_BIN:-$ROOT/target/release/stratus}"
OFFLINE_DIR="$CACHE/offline"
SLS="$OFFLINE_DIR/node_modules/serverless/bin/serverless.js"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS/logs" "$CACHE"
RAW="$RESULTS/lambda-run-$STAMP.jsonl"
: > "$RAW"
LOGS="$RESULTS/logs/lambda"
mkdir -p "$LOGS"

log() { printf '[lambda-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
emit() { echo "$1" >> "$RAW"; }

# ------------------------------------------------------------------ cleanup
PIDS=()     # servers, killed by PID
GROUPS_=()  # process groups (serverless-offline and its python children), killed by -PGID
TMPDIRS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${GROUPS_[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}" "${GROUPS_[@]}"; do
    wait_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in "${GROUPS_[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  local d
  for d in "${TMPDIRS[@]}"; do rm -rf -- "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits up to 5 s for a PID to exit. Returns 1 if it is still there.
wait_gone() {
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

remove_from() { # remove_from ARRAY_NAME PID
  local -n arr="$1"
  local keep=() p
  for p in "${arr[@]}"; do [[ "$p" == "$2" ]] || keep+=("$p"); done
  arr=("${keep[@]}")
}

stop_pid() {
  local pid="$1"
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" || true; }
  wait "$pid" 2>/dev/null || true
  remove_from PIDS "$pid"
}

stop_group() {
  local pgid="$1"
  kill -TERM -- "-$pgid" 2>/dev/null || true
  wait_gone "$pgid" || true
  sleep 0.2
  kill -KILL -- "-$pgid" 2>/dev/null || true
  wait "$pgid" 2>/dev/null || true
  remove_from GROUPS_ "$pgid"
}

# ------------------------------------------------------------------ helpers
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT="$PORT_BASE"
PORT=""
free_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    NEXT_PORT=$((NEXT_PORT + 1))
    if ! port_in_use "$NEXT_PORT"; then PORT="$NEXT_PORT"; return 0; fi
  done
  echo "no free port near $PORT_BASE" >&2
  return 1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo null; }
json_str() {
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"; s="${s//$'\n'/ }"; s="${s//$'\r'/ }"; s="${s//$'\t'/ }"
  printf '"%s"' "$s"
}
has_target() { [[ " $BENCH_TARGETS " == *" $1 "* ]]; }
file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# run_case TARGET KIND NAME ENDPOINT CONNS SECS ROUND [extra loadgen args...]
# KIND: invoke (NAME = function) or get (NAME = path). Emits one "case" line.
run_case() {
  local target="$1" kind="$2" name="$3" ep="$4" conns="$5" secs="$6" round="$7"
  shift 7
  local out args=() from to
  if [[ "$kind" == invoke ]]; then args=(--op invoke --function "$name"); else args=(--op get --path "$name"); fi
  from="$(file_size "$LOGS/stratus.log")"
  if out="$(timeout $((secs + 60)) "$LOADGEN" run --endpoint "$ep" "${args[@]}" --connections "$conns" \
      --duration-secs "$secs" --max-requests "$BENCH_MAX_REQUESTS" --expect '"ok"' "$@" \
      2>> "$LOGS/$target.loadgen")" && [[ "$out" == \{* ]]; then
    to="$(file_size "$LOGS/stratus.log")"
    emit "{\"kind\":\"case\",\"target\":\"$target\",\"api\":\"$kind\",\"name\":\"$name\",\"round\":$round,\"log_from\":$from,\"log_to\":$to,${out#\{}"
    log "$target $kind $name x$conns: $out"
  else
    emit "{\"kind\":\"case\",\"target\":\"$target\",\"api\":\"$kind\",\"name\":\"$name\",\"round\":$round,\"connections\":$conns,\"error\":\"loadgen failed\"}"
    log "$target $kind $name x$conns: loadgen failed (see $LOGS/$target.loadgen)"
  fi
}

# ------------------------------------------------------------------ build / install
if [[ "$SKIP_BUILD" != 1 ]]; then
  log "building loadgen, ceiling, rapid (release, CARGO_TARGET_DIR=bench/target)"
  (cd "$BENCH/loadgen" && CARGO_TARGET_DIR="$BENCH/target" cargo build --release --quiet)
fi
[[ -x "$LOADGEN" && -x "$CEILING" && -x "$RAPID" ]] || { echo "loadgen/ceiling/rapid not built" >&2; exit 1; }
[[ -x "$STRATUS" ]] || { echo "no stratus binary at $STRATUS (cargo build --release -p stratus, or STRATUS_BIN=)" >&2; exit 1; }

OFFLINE_ERR=""
if has_target offline && [[ ! -f "$SLS" || ! -d "$OFFLINE_DIR/node_modules/serverless-offline" ]]; then
  log "installing serverless@3 and serverless-offline@13 into bench/.cache/offline"
  mkdir -p "$OFFLINE_DIR"
  [[ -f "$OFFLINE_DIR/package.json" ]] || echo '{"name":"stratus-bench-offline","private":true}' > "$OFFLINE_DIR/package.json"
  if ! (cd "$OFFLINE_DIR" && timeout 900 npm install --no-audit --no-fund serverless@3 serverless-offline@13) \
      > "$LOGS/offline-install.log" 2>&1; then
    OFFLINE_ERR="npm install serverless@3 serverless-offline@13 failed (see $LOGS/offline-install.log)"
    log "$OFFLINE_ERR"
  fi
fi

PY_LAUNCHER="$(command -v python3 || true)"
PYTHON="$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)" # the real interpreter behind a shim
NODE="$(command -v node || true)"
[[ -n "$PYTHON" && -n "$NODE" ]] || { echo "python3 and node are needed" >&2; exit 1; }
pkg_version() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$1" 2>/dev/null | head -1; }
STRATUS_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo none)$(cd "$ROOT" && git status --porcelain -- crates 2>/dev/null | grep -q . && echo +dirty || true)"
# The binary may be older than HEAD: say when it was built.
STRATUS_BUILT="$(date -u -r "$STRATUS" +%Y-%m-%dT%H:%M:%SZ)"
STRATUS_SHA="$(sha256sum "$STRATUS" | cut -c1-12)"
emit "{\"kind\":\"meta\",\"stamp\":\"$STAMP\",\"bench_secs\":$BENCH_SECS,\"rounds\":$BENCH_ROUNDS,\"cores\":$(nproc),\"stratus_rev\":\"$STRATUS_REV\",\"stratus_built\":\"$STRATUS_BUILT\",\"stratus_sha\":\"$STRATUS_SHA\",\"loadavg_start\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"python\":$(json_str "$("$PYTHON" --version 2>&1) ($PYTHON)"),\"python_launcher\":$(json_str "$PY_LAUNCHER"),\"node\":\"$("$NODE" --version)\",\"serverless\":\"$(pkg_version "$OFFLINE_DIR/node_modules/serverless/package.json")\",\"serverless_offline\":\"$(pkg_version "$OFFLINE_DIR/node_modules/serverless-offline/package.json")\",\"pool_small\":$POOL_SMALL,\"soak_requests\":$SOAK_REQUESTS,\"soak_window\":$SOAK_WINDOW}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/stratus-lambda-bench.XXXXXX")"
TMPDIRS+=("$WORK")
# A copy of the app, so the cold-start phase can change files in it (hot reload).
cp -r "$APP_SRC" "$WORK/app"
rm -rf "$WORK/app/.stratus"
export STRATUS_CACHE_DIR="${STRATUS_CACHE_DIR:-$CACHE/stratus-cache}"

# ------------------------------------------------------------------ 1. the runtimes on their own
log "spawn time of the interpreters ($SPAWN_RUNS runs each)"
spawn_case() { # LABEL [--clear-env] PROGRAM ARGS...
  local label="$1" out clear=()
  shift
  [[ "$1" == --clear-env ]] && { clear=(--clear-env); shift; }
  if out="$(timeout 300 "$LOADGEN" spawn --runs "$SPAWN_RUNS" "${clear[@]}" -- "$@")"; then
    emit "{\"kind\":\"spawn\",\"label\":\"$label\",${out#\{}"
    log "spawn $label: $out"
  fi
}
# With only PATH in the environment, as Stratus starts functions (the reference), and with this
# shell's environment (NODE_OPTIONS, NODE_EXTRA_CA_CERTS and the like change Node's start-up).
spawn_case python --clear-env "$PYTHON" -c pass
spawn_case node --clear-env "$NODE" -e 0
spawn_case python_shell_env "$PYTHON" -c pass
spawn_case node_shell_env "$NODE" -e 0
spawn_case python_no_site --clear-env "$PYTHON" -S -c pass
[[ "$PY_LAUNCHER" != "$PYTHON" ]] && SPAWN_RUNS=$(( SPAWN_RUNS < 10 ? SPAWN_RUNS : 10 )) spawn_case python_launcher "$PY_LAUNCHER" -c pass

log "the handlers' own time"
py_handler_ns="$(cd "$APP_SRC/py" && "$PYTHON" -c '
import timeit, app
n = 200000
print(round(min(timeit.repeat(lambda: app.handler({}, None), number=n, repeat=5)) / n * 1e9, 1))')"
node_handler_ns="$(cd "$APP_SRC/node" && "$NODE" --input-type=module -e '
const { handler } = await import("./app.mjs");
const n = 200000; let best = Infinity;
for (let r = 0; r < 5; r++) { const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) await handler({}, {}); best = Math.min(best, Number(process.hrtime.bigint() - t) / n); }
console.log(best.toFixed(1));')"
emit "{\"kind\":\"handler\",\"python_ns\":$py_handler_ns,\"node_ns\":$node_handler_ns}"
log "handler: python ${py_handler_ns} ns, node ${node_handler_ns} ns per call"

# The bootstraps driven by a minimal Runtime API (bench/loadgen/src/bin/rapid.rs), with the
# environment Stratus gives them (env cleared), from their code folder.
log "Stratus's bootstraps without Stratus (rapid, $RAPID_INVOCATIONS invocations, $COLD_SAMPLES spawns)"
rapid_case() { # LABEL CODE_DIR PROGRAM BOOTSTRAP EXTRA_ENV... [-- RAPID_OPTIONS...]
  local label="$1" dir="$2" program="$3" boot="$4" out envs=() opts=()
  shift 4
  while [[ $# -gt 0 && "$1" != -- ]]; do envs+=("$1"); shift; done
  [[ "${1:-}" == -- ]] && { shift; opts=("$@"); }
  if out="$(cd "$dir" && timeout 300 env -i PATH="$PATH" HOME="$HOME" LANG=en_US.UTF-8 TZ=:UTC \
      _HANDLER="${RAPID_HANDLER:-app.handler}" LAMBDA_TASK_ROOT="$dir" AWS_LAMBDA_FUNCTION_NAME=bench AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256 AWS_REGION=us-east-1 "${envs[@]}" \
      "$RAPID" --invocations "$RAPID_INVOCATIONS" --spawns "$COLD_SAMPLES" "${opts[@]}" -- "$program" "$boot" 2>> "$LOGS/rapid.log")"; then
    emit "{\"kind\":\"rapid\",\"label\":\"$label\",${out#\{}"
    log "rapid $label: $out"
  else
    log "rapid $label failed (see $LOGS/rapid.log)"
  fi
}
# Both bootstraps as Stratus runs them: their connection handed over (--direct).
rapid_case python "$WORK/app/py" "$PYTHON" "$ROOT/crates/lambda/runtimes/python/bootstrap.py" \
  AWS_EXECUTION_ENV=AWS_Lambda_python3.11 PYTHONUNBUFFERED=1 PYTHONPYCACHEPREFIX="$WORK/pycache" -- --direct
# The same bootstrap compiled ahead (what Stratus runs since d0db44f): init without the compile.
"$PYTHON" -c 'import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)' \
  "$ROOT/crates/lambda/runtimes/python/bootstrap.py" "$WORK/bootstrap.pyc"
RAPID_INVOCATIONS=1000 rapid_case python_pyc "$WORK/app/py" "$PYTHON" "$WORK/bootstrap.pyc" \
  AWS_EXECUTION_ENV=AWS_Lambda_python3.11 PYTHONUNBUFFERED=1 PYTHONPYCACHEPREFIX="$WORK/pycache" -- --direct
# As Stratus runs Node: its connection handed over (--direct), the heap flags Lambda derives from
# the memory size (256 MB here; --expose-gc is not allowed in NODE_OPTIONS, and adds no cost of
# its own once another V8 flag is set).
NODE_LAMBDA_OPTIONS="--max-semi-space-size=12 --max-old-space-size=231"
rapid_case node "$WORK/app/node" "$NODE" "$ROOT/crates/lambda/runtimes/node/bootstrap.cjs" \
  AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x NODE_OPTIONS="$NODE_LAMBDA_OPTIONS" -- --direct

# ------------------------------------------------------------------ 2. start the servers
CEIL_EP="" ; STRATUS_API="" ; STRATUS_AWS="" ; OFFLINE_EP=""
STRATUS_PID="" ; OFFLINE_PGID=""

if has_target ceiling; then
  free_port; CEIL_EP="http://127.0.0.1:$PORT"
  "$CEILING" --port "$PORT" > "$LOGS/ceiling.log" 2>&1 &
  PIDS+=("$!")
  "$LOADGEN" wait --endpoint "$CEIL_EP" --since "$EPOCHREALTIME" --timeout-secs 10 --pid "$!" > /dev/null \
    || { log "ceiling did not start"; CEIL_EP=""; }
fi

start_stratus() { # APP_DIR LOGFILE [MAX_INSTANCES] -> sets STRATUS_PID, STRATUS_API, STRATUS_AWS, READY_MS
  local app="$1" logf="$2" instances="${3:-16}" t0 out
  free_port; local api="$PORT"; free_port; local aws="$PORT"
  STRATUS_API="http://127.0.0.1:$api"; STRATUS_AWS="http://127.0.0.1:$aws"
  t0="$EPOCHREALTIME"
  "$STRATUS" start "$app" --host 127.0.0.1 --api-port "$api" --aws-port "$aws" --in-memory --iam off \
    --max-instances "$instances" --idle-timeout 3600 > "$logf" 2>&1 &
  STRATUS_PID=$!
  PIDS+=("$STRATUS_PID")
  if out="$("$LOADGEN" wait --endpoint "$STRATUS_API" --get /_stratus/health --since "$t0" \
      --timeout-secs "$READY_TIMEOUT_SECS" --pid "$STRATUS_PID")"; then
    READY_MS="$(sed -n 's/.*"ready_ms":\([0-9.]*\).*/\1/p' <<< "$out")"
    return 0
  fi
  READY_MS=null
  return 1
}

if has_target stratus; then
  log "stratus: starting $WORK/app"
  if start_stratus "$WORK/app" "$LOGS/stratus.log"; then
    emit "{\"kind\":\"start\",\"target\":\"stratus\",\"ready_ms\":$READY_MS,\"idle_rss_kb\":$(rss_kb "$STRATUS_PID")}"
    log "stratus: ready in $READY_MS ms"
  else
    log "stratus: not ready (see $LOGS/stratus.log)"
    stop_pid "$STRATUS_PID"; STRATUS_PID=""
  fi
fi

# The event the gateway builds for a GET like the load generator's (Host and Accept headers), as
# GET /py/echo returns it; the bootstraps alone are then timed with it.
if [[ -n "$STRATUS_PID" ]] && timeout 30 python3 - "${STRATUS_API#http://127.0.0.1:}" "$WORK/gateway-event.json" <<'PY' 2>> "$LOGS/rapid.log"
import http.client, json, sys
port, out = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
c.putrequest("GET", "/py/echo", skip_accept_encoding=True)
c.putheader("Accept", "*/*")
c.endheaders()
r = c.getresponse()
body = r.read()
assert r.status == 200, (r.status, body[:200])
event = json.loads(body)
event["path"] = event["resource"] = "/py/hello"
if isinstance(event.get("requestContext"), dict):
    event["requestContext"]["path"] = event["requestContext"]["resourcePath"] = "/py/hello"
with open(out, "w") as f:
    f.write(json.dumps(event, separators=(",", ":")))
PY
then
  ev="$(cat "$WORK/gateway-event.json")"
  log "gateway event: ${#ev} bytes"
  emit "{\"kind\":\"gateway_event\",\"bytes\":${#ev}}"
  RAPID_HANDLER=app.hello rapid_case python_gw "$WORK/app/py" "$PYTHON" "$ROOT/crates/lambda/runtimes/python/bootstrap.py" \
    AWS_EXECUTION_ENV=AWS_Lambda_python3.11 PYTHONUNBUFFERED=1 PYTHONPYCACHEPREFIX="$WORK/pycache" -- --event "$ev" --spawns 1 --direct
  RAPID_HANDLER=app.hello rapid_case node_gw "$WORK/app/node" "$NODE" "$ROOT/crates/lambda/runtimes/node/bootstrap.cjs" \
    AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x NODE_OPTIONS="$NODE_LAMBDA_OPTIONS" -- --event "$ev" --spawns 1 --direct
else
  log "could not capture the gateway's event (see $LOGS/rapid.log)"
fi

POOL_PID="" ; POOL_API=""
if [[ -n "$STRATUS_PID" && "$POOL_SMALL" -gt 0 ]]; then
  main_pid="$STRATUS_PID"; main_api="$STRATUS_API"; main_aws="$STRATUS_AWS"
  if start_stratus "$WORK/app" "$LOGS/stratus-pool.log" "$POOL_SMALL"; then
    POOL_PID="$STRATUS_PID"; POOL_API="$STRATUS_API"
    log "stratus --max-instances $POOL_SMALL: ready in $READY_MS ms"
  else
    stop_pid "$STRATUS_PID"
  fi
  STRATUS_PID="$main_pid"; STRATUS_API="$main_api"; STRATUS_AWS="$main_aws"
fi

if has_target offline && [[ -z "$OFFLINE_ERR" ]]; then
  # serverless resolves plugins from the service folder: a folder with the app's files and a
  # node_modules link to the installed packages.
  mkdir -p "$WORK/offline"
  cp "$APP_SRC/serverless.yml" "$WORK/offline/"
  cp -r "$APP_SRC/py" "$APP_SRC/node" "$WORK/offline/"
  ln -s "$OFFLINE_DIR/node_modules" "$WORK/offline/node_modules"
  free_port; oport="$PORT"; free_port; olport="$PORT"
  OFFLINE_EP="http://127.0.0.1:$oport"
  log "serverless-offline: starting on $OFFLINE_EP"
  t0="$EPOCHREALTIME"
  # setsid: its own process group, so its python children are stopped with it.
  (cd "$WORK/offline" && exec setsid env SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off \
      SLS_DEPRECATION_DISABLE='*' SLS_INTERACTIVE_SETUP_DISABLE=1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      "$NODE" "$SLS" offline start --host 127.0.0.1 --httpPort "$oport" --lambdaPort "$olport" \
      --noPrependStageInUrl --noTimeout --terminateIdleLambdaTime 3600) > "$LOGS/offline.log" 2>&1 &
  OFFLINE_PGID=$!
  GROUPS_+=("$OFFLINE_PGID")
  if out="$("$LOADGEN" wait --endpoint "$OFFLINE_EP" --get /_ready --any-status --since "$t0" \
      --timeout-secs "$READY_TIMEOUT_SECS" --pid "$OFFLINE_PGID")"; then
    listen_ms="$(sed -n 's/.*"ready_ms":\([0-9.]*\).*/\1/p' <<< "$out")"
    first_ms=null
    if out="$("$LOADGEN" wait --endpoint "$OFFLINE_EP" --get /py/hello --since "$t0" --timeout-secs 30 --pid "$OFFLINE_PGID")"; then
      first_ms="$(sed -n 's/.*"ready_ms":\([0-9.]*\).*/\1/p' <<< "$out")"
    fi
    emit "{\"kind\":\"start\",\"target\":\"offline\",\"ready_ms\":$listen_ms,\"first_py_ms\":$first_ms,\"idle_rss_kb\":$(rss_kb "$OFFLINE_PGID")}"
    log "serverless-offline: listening after $listen_ms ms, first /py/hello answered after $first_ms ms"
  else
    log "serverless-offline: not ready (see $LOGS/offline.log)"
    stop_group "$OFFLINE_PGID"; OFFLINE_EP=""
  fi
fi

# ------------------------------------------------------------------ 3. warm-up
warm() { # TARGET KIND NAME EP
  timeout $((WARM_SECS + 60)) "$LOADGEN" run --endpoint "$4" --op "$2" $([[ "$2" == invoke ]] && echo --function || echo --path) "$3" \
    --connections 16 --duration-secs "$WARM_SECS" --max-requests 1000000 >/dev/null 2>> "$LOGS/$1.loadgen" || true
}
if [[ -n "$STRATUS_PID" ]]; then
  log "stratus: warming 16 instances of each function"
  for f in PyOk NodeOk; do warm stratus invoke "$f" "$STRATUS_AWS"; done
  for p in /py/hello /node/hello; do warm stratus get "$p" "$STRATUS_API"; done
  emit "{\"kind\":\"warm\",\"target\":\"stratus\",\"rss_kb\":$(rss_kb "$STRATUS_PID"),\"instances\":$(pgrep -c -P "$STRATUS_PID" || echo 0)}"
fi
if [[ -n "$POOL_PID" ]]; then
  log "stratus --max-instances $POOL_SMALL: warming"
  for p in /py/hello /node/hello; do warm stratus-pool get "$p" "$POOL_API"; done
fi
if [[ -n "$OFFLINE_EP" ]]; then
  log "serverless-offline: warming (16 connections per route)"
  for p in /py/hello /node/hello; do warm offline get "$p" "$OFFLINE_EP"; done
fi

# ------------------------------------------------------------------ 4. the cases, interleaved rounds
for ((round = 1; round <= BENCH_ROUNDS; round++)); do
  log "round $round of $BENCH_ROUNDS"
  for c in $BENCH_CONNS; do
    [[ -n "$CEIL_EP" ]] && run_case ceiling get /py/hello "$CEIL_EP" "$c" "$BENCH_SECS" "$round" --expect '{}'
    if [[ -n "$STRATUS_PID" ]]; then
      run_case stratus invoke PyOk "$STRATUS_AWS" "$c" "$BENCH_SECS" "$round"
      run_case stratus invoke NodeOk "$STRATUS_AWS" "$c" "$BENCH_SECS" "$round"
      run_case stratus get /py/hello "$STRATUS_API" "$c" "$BENCH_SECS" "$round"
      run_case stratus get /node/hello "$STRATUS_API" "$c" "$BENCH_SECS" "$round"
    fi
    if [[ -n "$POOL_PID" && "$c" -gt "$POOL_SMALL" ]]; then
      run_case stratus-pool get /py/hello "$POOL_API" "$c" "$BENCH_SECS" "$round"
      run_case stratus-pool get /node/hello "$POOL_API" "$c" "$BENCH_SECS" "$round"
    fi
    if [[ -n "$OFFLINE_EP" ]]; then
      run_case offline get /py/hello "$OFFLINE_EP" "$c" "$BENCH_SECS" "$round"
      run_case offline get /node/hello "$OFFLINE_EP" "$c" "$BENCH_SECS" "$round"
    fi
  done
  emit "{\"kind\":\"load\",\"round\":$round,\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
done
if [[ -n "$POOL_PID" ]]; then
  stop_pid "$POOL_PID"
fi

# serverless-offline is done: stop it before the soak and the cold starts, which it is not part of.
if [[ -n "$OFFLINE_EP" ]]; then
  emit "{\"kind\":\"memory\",\"target\":\"offline\",\"rss_kb\":$(rss_kb "$OFFLINE_PGID")}"
  stop_group "$OFFLINE_PGID"
fi

# ------------------------------------------------------------------ 5. 100k requests, then cold starts
if [[ -n "$STRATUS_PID" && "$SOAK_REQUESTS" -gt 0 ]]; then
  # In windows of SOAK_WINDOW requests, one loadgen run (one keep-alive connection) each, with a
  # 1 s probe of the ceiling server before each window: the machine is shared, and the probe
  # tells a slower Stratus from a busier machine.
  windows=$(( (SOAK_REQUESTS + SOAK_WINDOW - 1) / SOAK_WINDOW ))
  log "stratus: $SOAK_REQUESTS requests gateway → Python at 1 connection, $windows windows of $SOAK_WINDOW"
  emit "{\"kind\":\"soak_start\",\"rss_kb\":$(rss_kb "$STRATUS_PID"),\"requests\":$SOAK_REQUESTS,\"window\":$SOAK_WINDOW}"
  soak_t0="$EPOCHREALTIME"
  for ((w = 1; w <= windows; w++)); do
    probe=null
    if [[ -n "$CEIL_EP" ]] && out="$(timeout 60 "$LOADGEN" run --endpoint "$CEIL_EP" --op get --path /py/hello \
        --connections 1 --duration-secs 1 --max-requests 1000000 2>> "$LOGS/ceiling.loadgen")"; then
      probe="$(sed -n 's/.*"rps":\([0-9.]*\).*/\1/p' <<< "$out")"
    fi
    if out="$(timeout $((SOAK_CAP_SECS + 60)) "$LOADGEN" run --endpoint "$STRATUS_API" --op get --path /py/hello \
        --connections 1 --duration-secs "$SOAK_CAP_SECS" --max-requests "$SOAK_WINDOW" --expect '"ok"' \
        2>> "$LOGS/stratus.loadgen")"; then
      emit "{\"kind\":\"soak_window\",\"window_index\":$w,\"ceiling_rps\":${probe:-null},\"rss_kb\":$(rss_kb "$STRATUS_PID"),\"loadavg\":\"$(cut -d' ' -f1 /proc/loadavg)\",${out#\{}"
      log "soak window $w: $out (ceiling probe ${probe} req/s)"
    else
      log "soak window $w: loadgen failed"
    fi
  done
  emit "{\"kind\":\"soak_end\",\"seconds\":$(awk -v a="$soak_t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}'),\"rss_kb\":$(rss_kb "$STRATUS_PID")}"

  # The soaked Stratus (every case above plus the soak) against a fresh one, alternating, so the
  # machine's load hits both alike: a slowdown with age shows as a ratio below 1.
  if [[ "$AGED_PAIRS" -gt 0 ]]; then
    aged_pid="$STRATUS_PID"; aged_api="$STRATUS_API"; aged_aws="$STRATUS_AWS"
    if start_stratus "$WORK/app" "$LOGS/stratus-fresh-soak.log"; then
      fresh_pid="$STRATUS_PID"; fresh_api="$STRATUS_API"
      # Warmed like the soaked one (16 instances of each function), so only their age differs.
      for f in PyOk NodeOk; do warm stratus invoke "$f" "$STRATUS_AWS"; done
      for p in /py/hello /node/hello; do warm stratus get "$p" "$fresh_api"; done
      log "soaked vs fresh Stratus, $AGED_PAIRS alternations of ${AGED_SECS} s"
      for ((i = 1; i <= AGED_PAIRS; i++)); do
        for which in aged fresh; do
          if [[ "$which" == aged ]]; then ep="$aged_api"; else ep="$fresh_api"; fi
          if out="$(timeout $((AGED_SECS + 60)) "$LOADGEN" run --endpoint "$ep" --op get --path /py/hello --connections 1 \
              --duration-secs "$AGED_SECS" --max-requests 1000000 --expect '"ok"' 2>> "$LOGS/stratus.loadgen")"; then
            emit "{\"kind\":\"aged\",\"which\":\"$which\",\"pair\":$i,${out#\{}"
          fi
        done
      done
      stop_pid "$fresh_pid"
    fi
    STRATUS_PID="$aged_pid"; STRATUS_API="$aged_api"; STRATUS_AWS="$aged_aws"
  fi
fi

if [[ -n "$STRATUS_PID" && "$COLD_SAMPLES" -gt 0 ]]; then
  for f in PyOk:py NodeOk:node; do
    fn="${f%%:*}"; dir="${f##*:}"
    if [[ "$fn" == PyOk ]]; then baseline="$PYTHON -c pass"; else baseline="$NODE -e 0"; fi
    log "stratus: $COLD_SAMPLES cold starts of $fn (a file changes in its code folder before each)"
    if out="$(timeout $((COLD_SAMPLES * 20 + 60)) "$LOADGEN" cold --endpoint "$STRATUS_AWS" --function "$fn" \
        --bump "$WORK/app/$dir/.bench-bump" --log "$LOGS/stratus.log" --samples "$COLD_SAMPLES" --expect '"ok"' \
        --baseline "$baseline" --clear-env \
        2>> "$LOGS/stratus.loadgen")"; then
      emit "{\"kind\":\"cold\",\"method\":\"reload\",${out#\{}"
      log "cold $fn: $out"
    else
      log "cold $fn failed (see $LOGS/stratus.loadgen)"
    fi
  done
fi
if [[ -n "$STRATUS_PID" ]]; then
  emit "{\"kind\":\"memory\",\"target\":\"stratus\",\"rss_kb\":$(rss_kb "$STRATUS_PID")}"
  stop_pid "$STRATUS_PID"
  STRATUS_PID=""
fi

# ------------------------------------------------------------------ 6. fresh starts
if has_target stratus && [[ "$COLD_SAMPLES" -gt 0 ]]; then
  # The first invocation after `stratus start`: includes finding the interpreter (one run of
  # it, through any shim) on top of the cold start.
  for fn in PyOk NodeOk; do
    log "stratus: first invocation of $fn after a fresh start, $COLD_SAMPLES times"
    lat=()
    for ((i = 0; i < COLD_SAMPLES; i++)); do
      if start_stratus "$WORK/app" "$LOGS/stratus-fresh.log"; then
        if out="$(timeout 60 "$LOADGEN" run --endpoint "$STRATUS_AWS" --op invoke --function "$fn" --connections 1 \
            --duration-secs 30 --max-requests 1 --expect '"ok"' 2>> "$LOGS/stratus.loadgen")"; then
          lat+=("$(sed -n 's/.*"max_us":\([0-9.]*\).*/\1/p' <<< "$out")")
        fi
      fi
      stop_pid "$STRATUS_PID"
    done
    emit "{\"kind\":\"cold\",\"method\":\"fresh\",\"function\":\"$fn\",\"latency_us\":[$(IFS=,; echo "${lat[*]}")]}"
  done

  # Start-to-ready of an app with 10 functions and 5 tables.
  mkdir -p "$WORK/ten/src"
  cp "$APP_SRC/py/app.py" "$WORK/ten/src/"
  {
    printf "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"
    printf "Globals:\n  Function:\n    Runtime: python3.11\n    CodeUri: src/\n    Handler: app.hello\nResources:\n"
    for ((i = 1; i <= 5; i++)); do
      printf "  Table%d:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: T%d\n      BillingMode: PAY_PER_REQUEST\n" "$i" "$i"
      printf "      AttributeDefinitions:\n        - {AttributeName: pk, AttributeType: S}\n        - {AttributeName: sk, AttributeType: S}\n"
      printf "      KeySchema:\n        - {AttributeName: pk, KeyType: HASH}\n        - {AttributeName: sk, KeyType: RANGE}\n"
    done
    for ((i = 1; i <= 10; i++)); do
      printf "  Fn%d:\n    Type: AWS::Serverless::Function\n    Properties:\n" "$i"
      printf "      Environment:\n        Variables:\n          TABLE: !Ref Table%d\n" $(( (i - 1) % 5 + 1 ))
      printf "      Policies:\n        - DynamoDBCrudPolicy:\n            TableName: !Ref Table%d\n" $(( (i - 1) % 5 + 1 ))
      printf "      Events:\n        Get:\n          Type: Api\n          Properties:\n            Path: /f%d\n            Method: get\n" "$i"
    done
  } > "$WORK/ten/template.yaml"
  log "stratus: start-to-ready of a 10-function, 5-table app, $READY_SAMPLES times"
  ready=(); printed=(); tables_ok=0
  for ((i = 0; i < READY_SAMPLES; i++)); do
    if start_stratus "$WORK/ten" "$LOGS/stratus-ten.log"; then
      ready+=("$READY_MS")
      p="$(sed -n 's/^Stratus ready in \([0-9]*\) ms.*/\1/p' "$LOGS/stratus-ten.log" | head -1)"
      [[ -n "$p" ]] && printed+=("$p")
      if [[ $i == 0 ]] && "$LOADGEN" run --endpoint "$STRATUS_AWS" --op listtables --connections 1 --duration-secs 5 \
          --max-requests 1 --expect '"T5"' 2>> "$LOGS/stratus.loadgen" | grep -q '"errors":0'; then
        tables_ok=1
      fi
    fi
    stop_pid "$STRATUS_PID"
  done
  emit "{\"kind\":\"ready\",\"functions\":10,\"tables\":5,\"tables_listed\":$tables_ok,\"ready_ms\":[$(IFS=,; echo "${ready[*]}")],\"printed_ms\":[$(IFS=,; echo "${printed[*]}")]}"
fi

# ------------------------------------------------------------------ 7. report
cp "$RAW" "$RESULTS/lambda-latest.jsonl"
python3 "$BENCH/tools/lambda_report.py" "$RAW" "$LOGS/stratus.log" > "$RESULTS/lambda-run-$STAMP.md"
cp "$RESULTS/lambda-run-$STAMP.md" "$RESULTS/lambda-latest.md"
cat "$RESULTS/lambda-latest.md"
log "wrote bench/results/lambda-latest.md and bench/results/lambda-latest.jsonl"
