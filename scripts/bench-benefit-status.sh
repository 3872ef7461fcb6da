#!/usr/bin/env bash
# Load run for the benefit-status API (issue 12: "this path is hot").
#
# Builds the release server and the bare handler (examples/bare_status.rs), then per backend
# (SQLite always; PostgreSQL when --pg URL is given: a fresh database is created there and
# dropped afterwards):
#   1. `probity bench-data`: 700,000 villages and 100,000 suspension periods (a tenth of the
#      villages have periods, a third of their last ones in force);
#   2. starts `probity serve`, signs an administrator in and creates a service key with
#      benefit-status:read (through the API, as a disbursement system gets one);
#   3. single-village status: wrk, $connections connections (64) for $duration s (10), each
#      request `GET /api/v1/villages/<random one of the 700,000>/benefit-status` with the key
#      in X-Api-Key; lookups/s, p50, p99, non-200 answers;
#   4. the 10,000-code batch: wrk, 1 connection for $duration s, `POST /api/v1/benefit-status/batch`
#      with 10,000 random codes (a few hundred unknown); mean, p50, p99 per batch;
#   5. the same single-village run against the bare actix-web handler started with the same
#      worker count, in the same session right after, for the ratio.
# It prints a markdown table, the machine's load and the command line. The server runs with
# `database.pool_size` = --pool (8) and, on PostgreSQL, `sslmode=disable`: the database is on
# loopback, where TLS adds nothing but CPU (about a fifth of the throughput here); across a
# network keep TLS.
#
# Usage: scripts/bench-benefit-status.sh [--pg postgres://user@host:port/any]
#                                        [--connections N] [--duration SECS]
#                                        [--villages N] [--periods N] [--pool N]
#                                        [--binary PATH]
# Needs: wrk, curl, python3, psql for --pg. Exits non-zero if anything fails.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
pg_url=""
connections=64
duration=10
villages=700000
periods=100000
prebuilt=""
pool=8
while [ $# -gt 0 ]; do
  case "$1" in
    --pg) pg_url="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --villages) villages="$2"; shift 2 ;;
    --periods) periods="$2"; shift 2 ;;
    --binary) prebuilt="$2"; shift 2 ;;
    --pool) pool="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 64 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt install wrk" >&2; exit 69; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

echo "== building the release server and the bare handler" >&2
if [ -z "$prebuilt" ]; then
  (cd "$here" && cargo build --release --bin probity >&2)
  prebuilt="$CARGO_TARGET_DIR/release/probity"
fi
(cd "$here" && cargo build --release --example bare_status >&2)
export PROBITY_CONFIG_DIR="$here/config"
work="$(mktemp -d)"
cp "$prebuilt" "$work/probity"
cp "$CARGO_TARGET_DIR/release/examples/bare_status" "$work/bare_status"
bin="$work/probity"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cores="$(nproc)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Random villages of the generated set (codes as `probity bench-data` makes them).
cat >"$work/status.lua" <<LUA
local villages = $villages
local threads = {}
function setup(thread) table.insert(threads, thread); thread:set("id", #threads) end
function init(args)
  math.randomseed(os.time() + id * 7919)
  ok = 0; other = 0
end
function request()
  local i = math.random(0, villages - 1)
  local c = math.floor(i / 10000); local t = math.floor(i / 100) % 100; local v = i % 100
  local path = string.format("/api/v1/villages/%d%03d%03d/benefit-status", 910100 + c, 100 + t, 200 + v)
  return wrk.format("GET", path)
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, x = 0, 0
  for _, th in ipairs(threads) do o = o + th:get("ok"); x = x + th:get("other") end
  io.write(string.format("RESULT ok=%d other=%d secs=%.3f p50=%.2f p99=%.2f mean=%.2f\n",
    o, x, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end
LUA
# The batch: 10,000 codes, about 3% of them unknown.
python3 - "$villages" >"$work/batch.json" <<'PY'
import json, random, sys
villages = int(sys.argv[1])
random.seed(12)
def code(i):
    c, t, v = i // 10000, (i // 100) % 100, i % 100
    return f"{910100 + c}{100 + t:03d}{200 + v:03d}"
codes = [code(random.randrange(villages)) if random.random() > 0.03 else f"99{random.randrange(10**10):010d}"
         for _ in range(10000)]
print(json.dumps({"village_codes": codes, "on": None}))
PY
cat >"$work/batch.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$work/batch.json", "r"); wrk.body = f:read("*a"); f:close()
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, x = 0, 0
  for _, th in ipairs(threads) do o = o + th:get("ok"); x = x + th:get("other") end
  io.write(string.format("RESULT ok=%d other=%d secs=%.3f p50=%.2f p99=%.2f mean=%.2f\n",
    o, x, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.mean / 1000))
end
LUA

field() { sed -E "s/.*$1=([0-9.]+).*/\1/" <<<"$2"; }

# bare <name>: the bare handler's single-village figures, one row in $work/bare-<name>.
bare() {
  local name="$1" port out line
  port="$(free_port)"
  "$work/bare_status" "$port" 0 >/dev/null 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/api/v1/villages/910100100200/benefit-status" >/dev/null 2>&1 && break
    sleep 0.1
  done
  out="$(wrk -t2 -c"$connections" -d"${duration}s" -s "$work/status.lua" "http://127.0.0.1:$port")"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
  line="$(grep '^RESULT' <<<"$out")"
  echo "$(field ok "$line") $(field secs "$line") $(field p99 "$line")" >"$work/bare-$name"
}

# run <backend name> <database url>: one row of figures in $work/rows.
run() {
  local name="$1" url="$2" port
  port="$(free_port)"
  local env=(PROBITY_ENV=development "DATABASE_URL=$url" "PROBITY__DATA__DIR=$work/data-$name"
    PROBITY__SERVER__PORT="$port" PROBITY__LOG__LEVEL=warn PROBITY__DATABASE__POOL_SIZE="$pool")
  echo "== $name: generating $villages villages and $periods suspension periods" >&2
  local t0 t1
  t0="$(date +%s.%N)"
  env "${env[@]}" "$bin" bench-data --villages "$villages" --periods "$periods" >&2
  t1="$(date +%s.%N)"
  echo "== $name: generated in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s" >&2
  printf 'bench admin password 2026\n' | env "${env[@]}" "$bin" user create --username benchadmin --role admin >/dev/null
  env "${env[@]}" "$bin" serve >"$work/server-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local token key
  token="$(curl -fsS -H 'Content-Type: application/json' \
    -d '{"username":"benchadmin","password":"bench admin password 2026"}' \
    "http://127.0.0.1:$port/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  key="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
    -d '{"name":"bench disbursement system","scopes":["benefit-status:read"]}' \
    "http://127.0.0.1:$port/api/v1/api-keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
  # Warm the connection pool and the page cache (not measured).
  wrk -t2 -c"$connections" -d2s -H "X-Api-Key: $key" -s "$work/status.lua" "http://127.0.0.1:$port" >/dev/null
  echo "== $name: single-village status, $connections connections, ${duration}s, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  local out line batch_out batch_line cpu0 cpu1 ticks
  ticks="$(getconf CLK_TCK)"
  cpu0="$(awk '{print $14 + $15}' "/proc/$server_pid/stat")"
  out="$(wrk -t2 -c"$connections" -d"${duration}s" -H "X-Api-Key: $key" -s "$work/status.lua" "http://127.0.0.1:$port")"
  cpu1="$(awk '{print $14 + $15}' "/proc/$server_pid/stat")"
  line="$(grep '^RESULT' <<<"$out")"
  echo "== $name: 10,000-code batch, 1 connection, ${duration}s" >&2
  batch_out="$(wrk -t1 -c1 -d"${duration}s" -H "X-Api-Key: $key" -s "$work/batch.lua" "http://127.0.0.1:$port/api/v1/benefit-status/batch")"
  batch_line="$(grep '^RESULT' <<<"$batch_out")"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
  local ok cpu_us
  ok="$(field ok "$line")"
  cpu_us="$(awk -v a="$cpu0" -v b="$cpu1" -v t="$ticks" -v c="$ok" 'BEGIN { printf "%.0f", (b - a) * 1e6 / t / (c > 0 ? c : 1) }')"
  echo "== $name: bare actix-web handler, same connections and duration" >&2
  bare "$name"
  read -r bare_ok bare_secs bare_p99 <"$work/bare-$name"
  echo "$name $ok $(field secs "$line") $(field p50 "$line") $(field p99 "$line") $(field other "$line") $cpu_us $bare_ok $bare_secs $bare_p99 $(field ok "$batch_line") $(field mean "$batch_line") $(field p50 "$batch_line") $(field p99 "$batch_line") $(field other "$batch_line")" >>"$work/rows"
}

echo "== $cores cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
: >"$work/rows"
run sqlite "$work/probity.db"
if [ -n "$pg_url" ]; then
  db="probity_bench_$$"
  psql "$pg_url" -qc "CREATE DATABASE $db" >/dev/null
  run postgresql "${pg_url%/*}/$db?sslmode=disable"
  psql "$pg_url" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
fi
echo "| backend | lookups/s | p50 | p99 | non-200 | server CPU per lookup | bare handler/s (p99) | % of bare | 10,000-code batch: mean, p50, p99 (batches) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
while read -r n ok secs p50 p99 other cpu bok bsecs bp99 bn bmean bp50 bbp99 bother; do
  awk -v n="$n" -v ok="$ok" -v secs="$secs" -v p50="$p50" -v p99="$p99" -v other="$other" \
      -v cpu="$cpu" -v bok="$bok" -v bsecs="$bsecs" -v bp99="$bp99" -v bn="$bn" -v bmean="$bmean" \
      -v bp50="$bp50" -v bbp99="$bbp99" -v bother="$bother" 'BEGIN {
    rps = ok / secs; bare = bok / bsecs
    printf "| %s | %.0f | %.2f ms | %.2f ms | %d | %d µs | %.0f (%.2f ms) | %.0f%% | %.0f, %.0f, %.0f ms (%d, %d non-200) |\n",
      n, rps, p50, p99, other, cpu, bare, bp99, 100 * rps / bare, bmean, bp50, bbp99, bn, bother
  }'
done <"$work/rows"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); command: scripts/bench-benefit-status.sh${pg_url:+ --pg <url>} --connections $connections --duration $duration --pool $pool"
