#!/usr/bin/env bash
# Load run for the investigator queue (issue 9, "1,000,000 cases"): GET /api/v1/cases.
#
# Builds the release binary, and for SQLite (a fresh temporary database) and, with --pg URL,
# PostgreSQL (a fresh database created there and dropped afterwards):
#   1. creates the staff account `bench` (supervisor and investigator: it sees every case, and
#      cases can be assigned to it) with a random password,
#   2. generates the cases with `probity generate-cases --count N --assignee bench` (timed);
#      on PostgreSQL then runs VACUUM (ANALYZE) and CHECKPOINT, so that the load's autovacuum
#      and checkpoint do not run during the measurement,
#   3. starts `probity serve` (jobs worker off, so the daily reminders do not run during the
#      measurement; access tokens living four hours, for the quiet waits), signs in as `bench`,
#   4. walks the default queue (sort `due`) DEPTH items in with pages of 200 to get the deep
#      cursor, and prints the database's plan for that deep page,
#   5. runs `wrk -t2 -c<connections> -d<duration>s` (after 5 s of warm-up and a wait for a quiet
#      CPU) against each of four URLs — the first page and the deep page (that cursor),
#      unfiltered and with `assignee=me&overdue=true` — and
# prints a markdown table: backend | query | page | items | requests/s | p50 | p99 | max | non-2xx |
# CPU busy before (the machine's CPU busy share in the 3 s before the run: other work shows there).
# The same cursor serves both queries: it is a (due date, case number) key of the default sort,
# so with `assignee=me&overdue=true` the deep page is that user's overdue cases after it.
#
# Usage: scripts/bench-queue.sh [--pg postgres://user@host:port/any] [--binary PATH]
#                               [--count N] [--depth N] [--connections N] [--duration SECS]
#                               [--quiet PCT] [--quiet-wait SECS] [--skip-sqlite]
#   --binary PATH   run this already built server binary instead of building one
#   --count N       cases to generate (default 1000000)
#   --depth N       items before the deep page (default 50000)
#   --quiet PCT     before each load run, wait (up to --quiet-wait SECS, default 900) until the
#                   machine's CPU is less than PCT% busy at normal priority over 3 s (default 25;
#                   other builds and load runs share the two cores; run builds beside a
#                   measurement with `nice -n 19`); the busy share measured is in the table
#   --skip-sqlite   measure PostgreSQL only (with --pg)
# Needs: wrk (apt install wrk), python3, sqlite3, psql for --pg. Exits non-zero if anything
# fails, including a URL that does not answer 200 before its load run.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
pg_url=""
prebuilt=""
count=1000000
depth=50000
connections=16
duration=30
quiet_pct=25
quiet_wait=900
sqlite=1
while [ $# -gt 0 ]; do
  case "$1" in
    --pg) pg_url="$2"; shift 2 ;;
    --binary) prebuilt="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --depth) depth="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --quiet) quiet_pct="$2"; shift 2 ;;
    --quiet-wait) quiet_wait="$2"; shift 2 ;;
    --skip-sqlite) sqlite=""; shift ;;
    *) echo "unknown argument $1" >&2; exit 64 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt install wrk" >&2; exit 69; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: apt install sqlite3" >&2; exit 69; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"

if [ -n "$prebuilt" ]; then
  bin="$prebuilt"
else
  echo "== building the release server" >&2
  (cd "$here" && cargo build --release --bin probity >&2)
  bin="$CARGO_TARGET_DIR/release/probity"
fi
export PROBITY_CONFIG_DIR="$here/config"
work="$(mktemp -d)"
cp "$bin" "$work/probity"
bin="$work/probity"
server_pid=""
pg_db=""
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then psql "$pg_url" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
password="$(python3 -c 'import secrets; print("Bq-" + secrets.token_urlsafe(24))')"

cat >"$work/queue.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; bad = 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  io.write(string.format("RESULT ok=%d bad=%d secs=%.3f p50=%.2f p99=%.2f max=%.2f\n",
    o, b, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
LUA

# The HTTP steps that are not load: sign in, walk to the deep cursor, count a page's items.
cat >"$work/client.py" <<'PY'
import base64, json, sys, urllib.request

base = sys.argv[2]

def call(path, token=None, body=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode())
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)

if sys.argv[1] == "login":
    print(call("/api/v1/auth/login", body={"username": "bench", "password": sys.stdin.read().strip()})["access_token"])
elif sys.argv[1] == "walk":
    token, depth = sys.argv[3], int(sys.argv[4])
    seen, cursor = 0, None
    while seen < depth:
        limit = min(200, depth - seen)
        page = call("/api/v1/cases?limit=%d" % limit + ("&cursor=" + cursor if cursor else ""), token)
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            sys.exit("the queue ends after %d items, before %d" % (seen, depth))
    key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    print(cursor, key)
elif sys.argv[1] == "page":
    page = call(sys.argv[4], sys.argv[3])
    print(len(page["items"]), sum(page["counts"].values()))
PY

# explain <backend> <url> <due> <number> <today> <bench user id>: the plans of the deep pages.
explain() {
  local name="$1" url="$2" due="$3" number="$4" today="$5" me="$6"
  local deep="SELECT id FROM cases WHERE (cases.due_on, cases.number) > ('$due', '$number') ORDER BY due_on, number LIMIT 50"
  local mine="SELECT id FROM cases WHERE assignee_id = '$me' AND due_on < '$today' AND (cases.due_on, cases.number) > ('$due', '$number') ORDER BY due_on, number LIMIT 50"
  local counts="SELECT status, COUNT(*) FROM cases WHERE assignee_id = '$me' AND due_on < '$today' GROUP BY status"
  echo "== $name: plans of the deep pages and the filtered counts" >&2
  if [ "$name" = sqlite ]; then
    for q in "$deep" "$mine" "$counts"; do sqlite3 "$url" "EXPLAIN QUERY PLAN $q" | sed 's/^/   /' >&2; done
  else
    for q in "$deep" "$mine" "$counts"; do psql "$url" -qAt -c "EXPLAIN (ANALYZE, COSTS OFF) $q" | sed 's/^/   /' >&2; done
  fi
}

# cpu_busy SECS: the share of all CPU time (every process on the machine) busy at normal
# priority over SECS (niced work, such as a build started with `nice -n 19`, is not counted).
cpu_busy() {
  local a b
  read -r -a a < /proc/stat
  sleep "$1"
  read -r -a b < /proc/stat
  awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); total = 0
    for (i = 2; i <= n; i++) total += y[i] - x[i]
    # idle and iowait, and "nice": work at nice 19 (builds running beside a measurement;
    # the scheduler gives them ~1.5% of a core against the server) does not count as busy.
    idle = (y[3] - x[3]) + (y[5] - x[5]) + (y[6] - x[6])
    printf "%.0f", (total > 0 ? 100 * (total - idle) / total : 0)
  }'
}

# wait_quiet: waits until the CPU is less than $quiet_pct% busy (at most $quiet_wait s) and
# prints the last share measured.
wait_quiet() {
  local busy waited=0
  while :; do
    busy="$(cpu_busy 3)"
    if [ "$busy" -lt "$quiet_pct" ] || [ "$waited" -ge "$quiet_wait" ]; then break; fi
    sleep 7; waited=$((waited + 10))
  done
  echo "$busy"
}

# run <backend name> <database url>: records the rows of figures in $work/rows.
run() {
  local name="$1" url="$2" port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  local env=(PROBITY_ENV=development "DATABASE_URL=$url" "PROBITY__DATA__DIR=$work/data-$name"
    PROBITY__SERVER__PORT="$port" PROBITY__LOG__LEVEL=warn
    PROBITY__JOBS__WORKER_ENABLED=false PROBITY__AUTH__ACCESS_TOKEN_TTL_SECS=14400)
  local me
  me="$(env "${env[@]}" "$bin" user create --username bench --role supervisor --role investigator \
    <<<"$password" 2>/dev/null | sed -nE 's/^created user (.*)$/\1/p')"
  [ -n "$me" ] || { echo "could not create the user bench" >&2; exit 1; }
  echo "== $name: generating $count cases" >&2
  local generated
  generated="$(env "${env[@]}" "$bin" generate-cases --count "$count" --assignee bench 2>"$work/generate-$name.log")" || {
    cat "$work/generate-$name.log" >&2; exit 1; }
  echo "   $generated" >&2
  echo "$name $generated" >>"$work/generated"
  if [ "$name" = postgresql ]; then
    # The bulk load's own aftermath (autovacuum of a million new rows, the checkpoint that
    # writes them) is not what a queue page costs: settle it before measuring.
    echo "== $name: VACUUM (ANALYZE) and CHECKPOINT after the load" >&2
    psql "$url" -qc "VACUUM (ANALYZE)" >/dev/null
    psql "$url" -qc "CHECKPOINT" >/dev/null
  fi
  env "${env[@]}" "$bin" serve >"$work/server-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  local base="http://127.0.0.1:$port" token cursor key
  token="$(python3 "$work/client.py" login "$base" <<<"$password")"
  read -r cursor key < <(python3 "$work/client.py" walk "$base" "$token" "$depth")
  echo "   deep cursor after $depth items: $key" >&2
  local today due number
  today="$(TZ=Asia/Shanghai date +%F)"
  IFS='|' read -r _ due number <<<"$key"
  explain "$name" "$url" "$due" "$number" "$today" "$me"
  local query page path items total line busy
  for query in all mine; do
    for page in first deep; do
      path="/api/v1/cases?"
      [ "$query" = mine ] && path="${path}assignee=me&overdue=true&"
      [ "$page" = deep ] && path="${path}cursor=$cursor&"
      path="${path%[?&]}"
      read -r items total < <(python3 "$work/client.py" page "$base" "$token" "$path")
      # Warm up (every pooled connection opened, caches filled), then wait for quiet, then measure.
      BENCH_TOKEN="$token" wrk -t2 -c"$connections" -d5s -s "$work/queue.lua" "$base$path" >/dev/null
      busy="$(wait_quiet)"
      line="$(BENCH_TOKEN="$token" wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$work/queue.lua" "$base$path" | grep '^RESULT')"
      line="$line busy=$busy"
      echo "   $query $page: $items items of $total; $line" >&2
      echo "$name $query $page $items $total $line" >>"$work/rows"
    done
  done
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
}

echo "== queue load: $count cases, depth $depth, $connections connections, ${duration}s per URL, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
: >"$work/rows"
: >"$work/generated"
[ -n "$sqlite" ] && run sqlite "$work/probity.db"
if [ -n "$pg_url" ]; then
  pg_db="probity_bench_queue_$$"
  psql "$pg_url" -qc "CREATE DATABASE $pg_db" >/dev/null
  run postgresql "${pg_url%/*}/$pg_db"
  psql "$pg_url" -qc "DROP DATABASE $pg_db" >/dev/null
  pg_db=""
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| backend | query | page | items | requests/s | p50 | p99 | max | non-2xx | CPU busy before |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
while read -r n q p items total _ ok bad secs p50 p99 max busy; do
  ok="${ok#ok=}"; bad="${bad#bad=}"; secs="${secs#secs=}"
  p50="${p50#p50=}"; p99="${p99#p99=}"; max="${max#max=}"; busy="${busy#busy=}"
  [ "$q" = all ] && q="unfiltered" || q="assignee=me&overdue=true"
  [ "$p" = deep ] && p="deep ($depth in)"
  awk -v n="$n" -v q="$q" -v p="$p" -v items="$items" -v total="$total" -v ok="$ok" -v bad="$bad" \
      -v secs="$secs" -v p50="$p50" -v p99="$p99" -v max="$max" -v busy="$busy" 'BEGIN {
    printf "| %s | `%s` (%d cases) | %s | %d | %.0f | %.1f ms | %.1f ms | %.1f ms | %d | %d%% |\n",
      n, q, total, p, items, (ok + bad) / secs, p50, p99, max, bad, busy
  }'
done <"$work/rows"
echo
while read -r n g; do echo "$n: $g"; done <"$work/generated"
