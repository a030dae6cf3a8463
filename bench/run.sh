#!/usr/bin/env bash
# Stratus benchmark: ceiling (bare hyper), stratus, dynalite and moto side by side.
#
#   bench/run.sh                  # 10 s per case
#   BENCH_SECS=2 bench/run.sh     # quick pass
#   BENCH_TARGETS="ceiling stratus" bench/run.sh
#
# Writes bench/results/latest.md (markdown) and bench/results/latest.jsonl (raw).
# Only 127.0.0.1 is used; every loop is bounded in count and time; every server
# this script starts is killed by PID on exit.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME and printf use '.' as the decimal point

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH/.." && pwd)"
CACHE="$BENCH/.cache"
RESULTS="$BENCH/results"

BENCH_SECS="${BENCH_SECS:-10}"
BENCH_MAX_REQUESTS="${BENCH_MAX_REQUESTS:-3000000}"   # per case, on top of the time bound
BENCH_TARGETS="${BENCH_TARGETS:-ceiling stratus dynalite moto}"
BENCH_CONNS="${BENCH_CONNS:-1 16}"
BENCH_OPS="${BENCH_OPS:-getitem query putitem}"
LOAD_ITEMS="${LOAD_ITEMS:-100000}"
LOAD_CONNS="${LOAD_CONNS:-4}"
# Time cap for the 100k-item load (moto manages ~450 puts/s and will not finish).
LOAD_CAP_SECS="${LOAD_CAP_SECS:-$(( BENCH_SECS * 12 > 20 ? BENCH_SECS * 12 : 20 ))}"
READY_TIMEOUT_SECS="${READY_TIMEOUT_SECS:-30}"
PORT_BASE="${BENCH_PORT_BASE:-18400}"
SKIP_BUILD="${SKIP_BUILD:-0}"

LOADGEN="$BENCH/target/release/loadgen"
CEILING="$BENCH/target/release/ceiling"
STRATUS="${STRATUS_BIN:-$ROOT/target/release/stratus}"
DYNALITE="$CACHE/node/node_modules/dynalite/cli.js"
MOTO="$CACHE/venv/bin/moto_server"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$RESULTS/logs" "$CACHE"
RAW="$RESULTS/run-$STAMP.jsonl"
: > "$RAW"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# ------------------------------------------------------------------ cleanup
PIDS=()
TMPDIRS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait_gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
  done
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
    # A zombie child of ours: reap it.
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
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

# ------------------------------------------------------------------ helpers
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

NEXT_PORT="$PORT_BASE"
PORT=""
# Sets PORT to the next port above the last one handed out that nobody listens on.
free_port() {
  local i
  for ((i = 0; i < 200; i++)); do
    NEXT_PORT=$((NEXT_PORT + 1))
    if ! port_in_use "$NEXT_PORT"; then
      PORT="$NEXT_PORT"
      return 0
    fi
  done
  echo "no free port near $PORT_BASE" >&2
  return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo null; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo null; }

emit() { echo "$1" >> "$RAW"; }

json_str() { # minimal JSON string escaping for error messages
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/ }"
  s="${s//$'\r'/ }"
  s="${s//$'\t'/ }"
  printf '"%s"' "$s"
}

# Records every case of a target as failed (server missing / not ready).
emit_all_errors() {
  local target="$1" why="$2" op c
  emit "{\"target\":\"$target\",\"kind\":\"start\",\"error\":$(json_str "$why")}"
  for op in $BENCH_OPS; do
    for c in $BENCH_CONNS; do
      emit "{\"target\":\"$target\",\"kind\":\"case\",\"op\":\"$op\",\"connections\":$c,\"error\":$(json_str "$why")}"
    done
  done
}

# ------------------------------------------------------------------ build
STRATUS_BUILD_ERR=""
if [[ "$SKIP_BUILD" != 1 ]]; then
  log "building loadgen (release, CARGO_TARGET_DIR=bench/target)"
  (cd "$BENCH/loadgen" && CARGO_TARGET_DIR="$BENCH/target" cargo build --release --quiet)
  if [[ " $BENCH_TARGETS " == *" stratus "* && -z "${STRATUS_BIN:-}" ]]; then
    log "building stratus (cargo build --release -p stratus)"
    if ! (cd "$ROOT" && env -u CARGO_TARGET_DIR cargo build --release -p stratus --quiet) \
        > "$RESULTS/logs/stratus-build.log" 2>&1; then
      STRATUS_BUILD_ERR="cargo build -p stratus failed (see results/logs/stratus-build.log)"
      log "$STRATUS_BUILD_ERR"
    fi
  fi
fi
[[ -x "$LOADGEN" && -x "$CEILING" ]] || { echo "loadgen/ceiling not built" >&2; exit 1; }

# ------------------------------------------------------------------ peers
DYNALITE_ERR=""
MOTO_ERR=""
if [[ " $BENCH_TARGETS " == *" dynalite "* && ! -f "$DYNALITE" ]]; then
  log "installing dynalite into bench/.cache/node"
  mkdir -p "$CACHE/node"
  if ! timeout 600 npm install --prefix "$CACHE/node" --no-audit --no-fund dynalite \
      > "$RESULTS/logs/dynalite-install.log" 2>&1 || [[ ! -f "$DYNALITE" ]]; then
    DYNALITE_ERR="npm install dynalite failed (see results/logs/dynalite-install.log)"
    log "$DYNALITE_ERR"
  fi
fi
if [[ " $BENCH_TARGETS " == *" moto "* && ! -x "$MOTO" ]]; then
  log "installing moto[server] into bench/.cache/venv"
  if ! { python3 -m venv "$CACHE/venv" && timeout 900 "$CACHE/venv/bin/pip" install -q 'moto[server]'; } \
      > "$RESULTS/logs/moto-install.log" 2>&1 || [[ ! -x "$MOTO" ]]; then
    MOTO_ERR="pip install moto[server] failed (see results/logs/moto-install.log)"
    log "$MOTO_ERR"
  fi
fi

DYNALITE_VERSION="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$CACHE/node/node_modules/dynalite/package.json" 2>/dev/null | head -1)"
MOTO_VERSION="$("$CACHE/venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null || true)"
STRATUS_REV="$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo none)$(cd "$ROOT" && git status --porcelain 2>/dev/null | grep -q . && echo +dirty || true)"
emit "{\"kind\":\"meta\",\"stamp\":\"$STAMP\",\"bench_secs\":$BENCH_SECS,\"cores\":$(nproc),\"load_items\":$LOAD_ITEMS,\"load_cap_secs\":$LOAD_CAP_SECS,\"dynalite\":\"${DYNALITE_VERSION:-?}\",\"moto\":\"${MOTO_VERSION:-?}\",\"stratus_rev\":\"$STRATUS_REV\",\"node\":\"$(node --version 2>/dev/null || echo ?)\"}"

# ------------------------------------------------------------------ one target
bench_target() {
  local target="$1" port tmp pid logf out t0 ready
  free_port
  port="$PORT"
  logf="$RESULTS/logs/$target.log"
  local -a cmd
  case "$target" in
    ceiling)
      cmd=("$CEILING" --port "$port") ;;
    stratus)
      if [[ -n "$STRATUS_BUILD_ERR" ]]; then emit_all_errors "$target" "$STRATUS_BUILD_ERR"; return 0; fi
      if [[ ! -x "$STRATUS" ]]; then emit_all_errors "$target" "no binary at $STRATUS"; return 0; fi
      tmp="$(mktemp -d "${TMPDIR:-/tmp}/stratus-bench.XXXXXX")"
      TMPDIRS+=("$tmp")
      cmd=("$STRATUS" start --host 127.0.0.1 --aws-port "$port" --data-dir "$tmp" --iam off) ;;
    dynalite)
      if [[ -n "$DYNALITE_ERR" ]]; then emit_all_errors "$target" "$DYNALITE_ERR"; return 0; fi
      # in-memory; tables become ACTIVE at once (default would be 500 ms in CREATING)
      cmd=(node "$DYNALITE" --port "$port" --createTableMs 0) ;;
    moto)
      if [[ -n "$MOTO_ERR" ]]; then emit_all_errors "$target" "$MOTO_ERR"; return 0; fi
      cmd=("$MOTO" -H 127.0.0.1 -p "$port") ;;
    *)
      echo "unknown target $target" >&2; return 1 ;;
  esac
  local ep="http://127.0.0.1:$port"

  log "$target: starting on $ep"
  t0="$EPOCHREALTIME"
  "${cmd[@]}" > "$logf" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! out="$("$LOADGEN" wait --endpoint "$ep" --since "$t0" --timeout-secs "$READY_TIMEOUT_SECS" --pid "$pid")"; then
    local why="not ready within ${READY_TIMEOUT_SECS}s"
    kill -0 "$pid" 2>/dev/null && [[ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ]] \
      || why="exited before ready"
    log "$target: $why (see results/logs/$target.log)"
    stop_pid "$pid"
    emit_all_errors "$target" "server $why"
    return 0
  fi
  ready="$(sed -n 's/.*"ready_ms":\([0-9.]*\).*/\1/p' <<< "$out")"
  sleep 0.5 # let it settle before reading idle memory
  emit "{\"target\":\"$target\",\"kind\":\"start\",\"ready_ms\":$ready,\"idle_rss_kb\":$(rss_kb "$pid")}"
  log "$target: ready in ${ready} ms, idle RSS $(rss_kb "$pid") kB"

  if [[ "$target" != ceiling ]]; then
    if out="$(timeout 180 "$LOADGEN" setup --endpoint "$ep" --table bench 2>> "$logf.loadgen")"; then
      emit "{\"target\":\"$target\",\"kind\":\"setup\",${out#\{}"
    else
      log "$target: setup failed (see results/logs/$target.log.loadgen)"
      emit "{\"target\":\"$target\",\"kind\":\"setup\",\"error\":\"setup failed\"}"
    fi
  fi

  local op c
  for op in $BENCH_OPS; do
    for c in $BENCH_CONNS; do
      if ! kill -0 "$pid" 2>/dev/null; then
        emit "{\"target\":\"$target\",\"kind\":\"case\",\"op\":\"$op\",\"connections\":$c,\"error\":\"server exited\"}"
        continue
      fi
      if out="$(timeout $((BENCH_SECS + 60)) "$LOADGEN" run --endpoint "$ep" --op "$op" --connections "$c" \
          --duration-secs "$BENCH_SECS" --max-requests "$BENCH_MAX_REQUESTS" --table bench \
          2>> "$logf.loadgen")" && [[ "$out" == \{* ]]; then
        emit "{\"target\":\"$target\",\"kind\":\"case\",${out#\{}"
        log "$target: $out"
      else
        emit "{\"target\":\"$target\",\"kind\":\"case\",\"op\":\"$op\",\"connections\":$c,\"error\":\"loadgen failed\"}"
        log "$target: $op x$c: loadgen failed"
      fi
    done
  done

  if [[ "$target" != ceiling && "$LOAD_ITEMS" -gt 0 ]] && kill -0 "$pid" 2>/dev/null; then
    log "$target: loading $LOAD_ITEMS items (cap ${LOAD_CAP_SECS}s)"
    if out="$(timeout $((LOAD_CAP_SECS + 60)) "$LOADGEN" load --endpoint "$ep" --table bench --items "$LOAD_ITEMS" \
        --connections "$LOAD_CONNS" --max-secs "$LOAD_CAP_SECS" 2>> "$logf.loadgen")"; then
      sleep 0.5
      emit "{\"target\":\"$target\",\"kind\":\"memory\",\"rss_kb\":$(rss_kb "$pid"),\"hwm_kb\":$(hwm_kb "$pid"),${out#\{\"setup\":\"ok\",}"
      log "$target: $out, RSS $(rss_kb "$pid") kB"
    else
      emit "{\"target\":\"$target\",\"kind\":\"memory\",\"error\":\"load failed\"}"
    fi
  fi

  stop_pid "$pid"
}

for t in $BENCH_TARGETS; do
  bench_target "$t"
done

cp "$RAW" "$RESULTS/latest.jsonl"
python3 "$BENCH/tools/report.py" "$RAW" > "$RESULTS/run-$STAMP.md"
cp "$RESULTS/run-$STAMP.md" "$RESULTS/latest.md"
cat "$RESULTS/latest.md"
log "wrote bench/results/latest.md and bench/results/latest.jsonl"
