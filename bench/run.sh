#!/usr/bin/env bash
# Benchmark hongbao's HTTP API with the shared load generator (../shared/bench/loadgen.py), on loopback.
#
# For each store: start `hongbao serve` on a fresh data folder (SQLite) or a fresh PostgreSQL database,
# wait for /health, run the workloads with --audit and the server's CPU (--pid), write JSON and text
# results to bench/results/, stop the server (and drop the database).  Every step is bounded in time.
#
#   bench/run.sh                                  # SQLite then PostgreSQL: w1 w3 w1b ceiling, default sizes
#   bench/run.sh --store sqlite --workloads w1 --users 2000 --repeat 2   # a quick one
#   bench/run.sh --store postgres --workers 2     # two API processes (each with its own gate)
#   bench/run.sh --store sqlite --workloads w1 --profile 8 --tag profile  # py-spy the server in W1 runs 2..
#   bench/run.sh --store sqlite --workloads w1 --variant async-deps   # bench/variant_server.py instead
#
# Environment: PYTHON (an interpreter with aiohttp; default .venv/bin/python or python3), HONGBAO (the
# hongbao command; default next to PYTHON), PYSPY (default py-spy next to PYTHON or on PATH),
# PG_URL (default postgresql://postgres@127.0.0.1:5432), LOADGEN (default ../shared/bench/loadgen.py).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

STORES=both
WORKLOADS=w1,w3,w1b,ceiling
WORKERS=1
PORT=""
USERS=10000
SHARES=100
REPEAT=5
CONCURRENCY=64
PROFILE=0
SPLIT=double_mean
TAG=""
VARIANT=""
STEP_TIMEOUT_S=900

usage() { sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --store) STORES=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --users) USERS=$2; shift 2 ;;
    --shares) SHARES=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --concurrency) CONCURRENCY=$2; shift 2 ;;
    --split) SPLIT=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --variant) VARIANT=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 ;;
  esac
done
[[ -n $VARIANT && $WORKERS -gt 1 ]] && { echo "--variant serves one process: drop --workers" >&2; exit 2; }
case $STORES in sqlite|postgres) ;; both) STORES="sqlite postgres" ;; *) echo "--store: sqlite, postgres or both" >&2; exit 2 ;; esac

if [[ -z ${PYTHON:-} ]]; then
  if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=$(command -v python3); fi
fi
BIN=$(dirname "$PYTHON")
HONGBAO=${HONGBAO:-$([[ -x $BIN/hongbao ]] && echo "$BIN/hongbao" || command -v hongbao)}
[[ -n $HONGBAO ]] || { echo "run.sh: no hongbao command next to $PYTHON or on PATH (make install, or set HONGBAO=...)" >&2; exit 2; }
PYSPY=${PYSPY:-$([[ -x $BIN/py-spy ]] && echo "$BIN/py-spy" || command -v py-spy || true)}
PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432}
LOADGEN=${LOADGEN:-../shared/bench/loadgen.py}
RESULTS=bench/results
mkdir -p "$RESULTS"
[[ -z $PORT ]] && PORT=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The benchmark server: cheap argon2 (set-up registers thousands of users; login is untimed), and a
# group limit above the W1 user count (every storm packet is a group packet in one big group).
export HONGBAO_ARGON2_TIME_COST=1 HONGBAO_ARGON2_MEMORY_KIB=8
export HONGBAO_GROUP_MEMBERS_MAX=$((USERS > 10000 ? USERS + 1 : 20001))  # W1b uses 4,000 users
unset HONGBAO_DATABASE_URL HONGBAO_DATA_DIR

SERVER_PID=""
DATA_DIR=""
PG_DB=""
FAILED=()

psql_admin() { PGOPTIONS=--client-min-messages=warning psql "$PG_URL/postgres" -v ON_ERROR_STOP=1 -qAtc "$1"; }

stop_server() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
  if [[ -n $PG_DB ]]; then psql_admin "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || true; PG_DB=""; fi
  if [[ -n $DATA_DIR ]]; then rm -rf "$DATA_DIR"; DATA_DIR=""; fi
}
trap stop_server EXIT
trap 'exit 130' INT TERM

start_server() {  # start_server STORE
  local store=$1 url=() log
  DATA_DIR=$(mktemp -d /tmp/hongbao-bench.XXXXXX)
  if [[ $store == postgres ]]; then
    PG_DB=hongbao_bench_$$
    psql_admin "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"
    psql_admin "CREATE DATABASE $PG_DB"
    url=(--database-url "$PG_URL/$PG_DB")
  fi
  log=$RESULTS/${NAME}-server.log
  if [[ -n $VARIANT ]]; then  # one process, a suggested speed-up applied from outside src/
    "$PYTHON" bench/variant_server.py --port "$PORT" --data-dir "$DATA_DIR" --variant "$VARIANT" \
      "${url[@]}" >"$log" 2>&1 &
  else
    "$HONGBAO" serve --no-demo --host 127.0.0.1 --port "$PORT" --data-dir "$DATA_DIR" --workers "$WORKERS" \
      "${url[@]}" >"$log" 2>&1 &
  fi
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server died:"; cat "$log"; exit 1; }
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null || { echo "server not up after 60 s"; cat "$log"; exit 1; }
  PIDS=(--pid "server=$SERVER_PID")
  if [[ $WORKERS -gt 1 ]]; then  # uvicorn's worker processes are children of the serving process
    sleep 2
    local n=0 child
    for child in $(worker_pids); do
      n=$((n + 1)); PIDS+=(--pid "worker$n=$child")
    done
  fi
  echo "== $NAME: server pid $SERVER_PID on port $PORT (${PIDS[*]})"
}

worker_pids() {  # the server's API worker processes (not multiprocessing's resource tracker)
  ps -o pid=,args= --ppid "$SERVER_PID" | awk '!/resource_tracker/ {print $1}'
}

profile_during() {  # profile_during TEXT_LOG OUT: py-spy the server from W1's second run on
  local text=$1 out=$2 target=$SERVER_PID
  [[ $WORKERS -gt 1 ]] && target=$(worker_pids | head -n 1)
  for _ in $(seq 1 $((STEP_TIMEOUT_S * 2))); do
    grep -q "run 1:" "$text" 2>/dev/null && break
    sleep 0.5
  done
  "$PYSPY" record -p "$target" -d "$PROFILE" -r 100 -f raw -o "$out.raw" --nonblocking >/dev/null 2>&1 || true
  "$PYSPY" record -p "$target" -d "$PROFILE" -r 100 -f raw -o "$out.gil.raw" --nonblocking --gil \
    >/dev/null 2>&1 || true
}

loadgen() {  # loadgen WORKLOAD ARGS...: one bounded loadgen run, JSON and text into bench/results
  local workload=$1; shift
  local base=$RESULTS/${NAME}-$workload rc=0 spy=""
  local cmd=("$PYTHON" "$LOADGEN" --adapter-file bench/loadgen_adapter.py --adapter hongbao
             --option "split=$SPLIT" --url "http://127.0.0.1:$PORT" "${PIDS[@]}" --json "$base.json")
  if [[ $workload == ceiling ]]; then
    cmd=("$PYTHON" "$LOADGEN" "${PIDS[@]}" --json "$base.json" ceiling "http://127.0.0.1:$PORT/health")
  else
    cmd+=("$workload" "$@")
  fi
  echo "\$ ${cmd[*]}" | tee "$base.txt"
  echo "# uptime before: $(uptime)" >>"$base.txt"
  echo "# code: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "($(git status --porcelain -- src 2>/dev/null | wc -l) files changed under src/)" >>"$base.txt"
  if [[ $workload == w1 && $PROFILE != 0 && -n $PYSPY ]]; then
    profile_during "$base.txt" "$RESULTS/${NAME}-w1-profile" &
    spy=$!
  fi
  timeout "$STEP_TIMEOUT_S" "${cmd[@]}" 2>&1 | tee -a "$base.txt" || rc=$?
  [[ -n $spy ]] && wait "$spy" || true
  echo "# uptime after: $(uptime)" >>"$base.txt"
  if [[ $rc -ne 0 ]]; then FAILED+=("$NAME-$workload (exit $rc)"); fi
}

for store in $STORES; do
  NAME=$store
  [[ $WORKERS -gt 1 ]] && NAME=$NAME-w$WORKERS
  [[ -n $VARIANT ]] && NAME=$NAME-${VARIANT//,/+}
  [[ -n $TAG ]] && NAME=$NAME-$TAG
  start_server "$store"
  for workload in ${WORKLOADS//,/ }; do
    case $workload in
      w1)  # a profiled run skips the audit: its untimed reads between storms would fill the profile
        audit=(--audit); [[ $PROFILE != 0 ]] && audit=()
        loadgen w1 --users "$USERS" --shares "$SHARES" --concurrency "$CONCURRENCY" --repeat "$REPEAT" "${audit[@]}" ;;
      w1b) loadgen w1b --concurrency "$CONCURRENCY" --repeat "$REPEAT" --audit ;;
      w3) loadgen w3 ;;
      ceiling) loadgen ceiling ;;
      *) echo "unknown workload $workload (w1, w1b, w3, ceiling)" >&2; exit 2 ;;
    esac
  done
  stop_server
done

if [[ ${#FAILED[@]} -gt 0 ]]; then
  echo "FAILED: ${FAILED[*]}"
  exit 1
fi
echo "all workloads passed their checks; results in $RESULTS/"
