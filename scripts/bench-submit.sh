#!/usr/bin/env bash
# Load run for public submissions (issue 7, "Memory under load").
#
# Builds the release binary, starts `probity serve` with raised rate limits on a fresh temporary
# SQLite database (and on PostgreSQL when --pg URL is given: a fresh database is created there
# and dropped afterwards), loads the demo divisions, runs wrk with 64 connections for 10 s
# against POST /api/v1/reports with a valid anonymous report, reads the server's peak RSS
# (VmHWM) from /proc/<pid>/status, and prints a markdown table:
#   backend | created/s | ceiling | % of ceiling | server CPU per report | peak RSS | 5xx | 503
# The ceiling is cores ÷ (time of one receipt hash with a reused block), measured in the same
# run, just before and just after the load runs (the mean of the two), with
# `cargo bench --bench hashing -- --receipt-only` from THIS checkout.
#
# Usage: scripts/bench-submit.sh [--pg postgres://user@host:port/any] [--source DIR]
#                                [--binary PATH] [--hash-ms MS]
#                                [--connections N] [--duration SECS]
#   --source DIR  build and run the server from another checkout (e.g. a worktree of the code
#                 before a change); the ceiling is still measured with this checkout's bench.
#   --binary PATH   run this already built server binary (of the --source checkout) instead of
#                   building one
#   --hash-ms MS    use this receipt-hash time (from an earlier run) instead of measuring it
# Needs: wrk (apt install wrk), psql for --pg. Exits non-zero if anything fails.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
source_dir="$here"
pg_url=""
prebuilt=""
hash_ms=""
connections=64
duration=10
while [ $# -gt 0 ]; do
  case "$1" in
    --pg) pg_url="$2"; shift 2 ;;
    --source) source_dir="$(cd "$2" && pwd)"; shift 2 ;;
    --binary) prebuilt="$2"; shift 2 ;;
    --hash-ms) hash_ms="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 64 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt install wrk" >&2; exit 69; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

if [ -n "$prebuilt" ]; then
  bin="$prebuilt"
else
  echo "== building the release server from $source_dir" >&2
  (cd "$source_dir" && cargo build --release --bin probity >&2)
  bin="$CARGO_TARGET_DIR/release/probity"
fi
# The server reads the configuration of the checkout it was built from.
export PROBITY_CONFIG_DIR="$source_dir/config"
work="$(mktemp -d)"
cp "$bin" "$work/probity"
bin="$work/probity"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# One receipt hash with a reused block, timed by the hashing bench of THIS checkout. It is
# measured right before and right after the load runs, and the ceiling uses the mean of the two,
# so that both figures come from the machine in the same state.
hash_bench=""
if [ -z "$hash_ms" ]; then
  echo "== building the hashing bench" >&2
  hash_bench="$(cd "$here" && cargo bench --bench hashing --no-run 2>&1 | sed -nE 's/.*Executable .*\((.*)\)$/\1/p' | tail -1)"
  case "$hash_bench" in /*) ;; *) hash_bench="$here/$hash_bench" ;; esac
  [ -x "$hash_bench" ] || { echo "could not build the hashing bench" >&2; exit 1; }
fi
measure_hash() {
  "$hash_bench" --receipt-only | grep '^receipt code check' | sed -E 's/.* mean=([0-9.]+) ms.*/\1/'
}
hash_before=""
if [ -n "$hash_bench" ]; then
  hash_before="$(measure_hash)"
  echo "== receipt hash before the load runs: $hash_before ms" >&2
  hash_ms="$hash_before"
fi
cores="$(nproc)"

cat >"$work/submit.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"programme":"dibao","misconduct":["favouritism"],"township_code":"360734100","village_code":"360734100201","accused":[{"name":"张某某","position":"村支书"}],"description":"村支书把低保名额给了自己的亲戚，评议会没有公示，群众意见很大。","occurred_from":"2026-03-01","anonymous":true}]]
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) created = 0; s5xx = 0; s503 = 0; other = 0 end
function response(status, headers, body)
  if status == 201 then created = created + 1
  elseif status == 503 then s503 = s503 + 1; s5xx = s5xx + 1
  elseif status >= 500 then s5xx = s5xx + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local c, f, b, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created"); f = f + t:get("s5xx"); b = b + t:get("s503"); o = o + t:get("other")
  end
  io.write(string.format("RESULT created=%d s5xx=%d s503=%d other=%d secs=%.3f\n",
    c, f, b, o, summary.duration / 1e6))
end
LUA

# run <backend name> <database url>: records one row of figures in $work/rows.
run() {
  local name="$1" url="$2" port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  local env=(PROBITY_ENV=development "DATABASE_URL=$url" "PROBITY__DATA__DIR=$work/data-$name"
    PROBITY__SERVER__PORT="$port" PROBITY__LOG__LEVEL=warn
    PROBITY__REPORTS__SUBMIT_PER_SOURCE_PER_HOUR=100000000
    PROBITY__REPORTS__SUBMIT_GLOBAL_PER_MINUTE=100000000)
  env "${env[@]}" "$bin" demo-data >/dev/null
  env "${env[@]}" "$bin" serve >"$work/server-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local idle
  idle="$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")"
  local out cpu0 cpu1 ticks
  ticks="$(getconf CLK_TCK)"
  cpu0="$(awk '{print $14 + $15}' "/proc/$server_pid/stat")"
  out="$(wrk -t2 -c"$connections" -d"${duration}s" -s "$work/submit.lua" "http://127.0.0.1:$port/api/v1/reports")"
  cpu1="$(awk '{print $14 + $15}' "/proc/$server_pid/stat")"
  local hwm
  hwm="$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
  local line created s5xx s503 other secs
  line="$(grep '^RESULT' <<<"$out")"
  created="$(sed -E 's/.*created=([0-9]+).*/\1/' <<<"$line")"
  s5xx="$(sed -E 's/.*s5xx=([0-9]+).*/\1/' <<<"$line")"
  s503="$(sed -E 's/.*s503=([0-9]+).*/\1/' <<<"$line")"
  other="$(sed -E 's/.*other=([0-9]+).*/\1/' <<<"$line")"
  secs="$(sed -E 's/.*secs=([0-9.]+).*/\1/' <<<"$line")"
  # server CPU (user + system) per created report, in ms
  local cpu_ms
  cpu_ms="$(awk -v a="$cpu0" -v b="$cpu1" -v t="$ticks" -v c="$created" 'BEGIN { printf "%.2f", (b - a) * 1000 / t / (c > 0 ? c : 1) }')"
  echo "$name $created $secs $hwm $idle $s5xx $s503 $other $cpu_ms" >>"$work/rows"
}

echo "== load: $connections connections, ${duration}s, $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
: >"$work/rows"
run sqlite "$work/probity.db"
if [ -n "$pg_url" ]; then
  db="probity_bench_$$"
  psql "$pg_url" -qc "CREATE DATABASE $db" >/dev/null
  run postgresql "${pg_url%/*}/$db"
  psql "$pg_url" -qc "DROP DATABASE $db" >/dev/null
fi
hash_after=""
if [ -n "$hash_bench" ]; then
  hash_after="$(measure_hash)"
  echo "== receipt hash after the load runs: $hash_after ms" >&2
  hash_ms="$(awk -v a="$hash_before" -v b="$hash_after" 'BEGIN { printf "%.2f", (a + b) / 2 }')"
fi
ceiling="$(awk -v c="$cores" -v ms="$hash_ms" 'BEGIN { printf "%.0f", c * 1000 / ms }')"
echo "| backend | created/s | ceiling/s | % of ceiling | server CPU per report | peak RSS | 5xx | of which 503 | other non-201 |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
while read -r n c s hwm idle f b o cpu; do
  awk -v n="$n" -v c="$c" -v s="$s" -v ceil="$ceiling" -v hwm="$hwm" -v idle="$idle" \
      -v f="$f" -v b="$b" -v o="$o" -v cpu="$cpu" 'BEGIN {
    rps = c / s
    printf "| %s | %.1f | %d | %.0f%% | %.2f ms | %.0f MiB (idle %.0f MiB) | %d | %d | %d |\n",
      n, rps, ceil, 100 * rps / ceil, cpu, hwm / 1024, idle / 1024, f, b, o
  }'
done <"$work/rows"
if [ -n "$hash_after" ]; then
  echo "receipt hash (reused block): $hash_before ms before, $hash_after ms after, mean $hash_ms ms; ceiling = $cores cores / $hash_ms ms = $ceiling hashes/s"
else
  echo "receipt hash (reused block): $hash_ms ms (given); ceiling = $cores cores / $hash_ms ms = $ceiling hashes/s"
fi
