#!/usr/bin/env bash
# The served path measured from outside, as a client sees it: the local platform as ./run-local.sh
# runs it (every service in its own JVM), wrk (Debian's; installed when missing, as root) in its own
# process, 64 connections. The same read (a player's own state, PLAYERS players with their tokens):
#   direct  - straight to each player's game-state instance (two wrk, one per instance, 32 each)
#   gateway - through the gateway (token check, rate limit, affinity, relay)
#   401     - the gateway refusing a request with no token: its cheapest answer, the ceiling
# and the same command (a player buying a potion, then discarding one: each appends events), direct
# and through the gateway (each player is first granted gold and potions by a game server's token),
# and a gift of one gold straight to the giver's instance: to a player on the same instance, and to
# one on the other (two-phase commit over HTTP), with the ratio to the direct command.
# Prints requests/s, latency and CPU milliseconds per request of the JVM that answered, and the
# ratio gateway / direct measured in the same run. About 8 minutes after the build (COMPARE_JAR
# adds about 6 more; SKIP_GATEWAY=1 measures the direct paths and gifts only, about 5). PostgreSQL runs
# relaxed (--relaxed, no fsync), as in the runs quoted in the README and docs/benchmarks.md.
# Options: COMPARE_JAR=path/to/gateway-exec.jar (also runs that gateway beside this build's and
# alternates measured reads and commands between the two: a before/after on the same machine
# minute, see docs/benchmarks.md), COMPARE_ENV="NAME=value ..." (more environment for that gateway
# only: this build's jar as base with CITADEL_GATEWAY_DIRECT_GAME_PATH=false measures GamePath),
# SECONDS_EACH=15 (measured), WARMUP=40 (per path, not measured: with 10 s the JIT was
# still compiling and took a fifth of the gateway's CPU and more than half of game-state's reads),
# PLAYERS=1024 (with 128, half of the commands waited behind the same player's previous one).
# The platform runs with --loadtest: sign-ups hash with bcrypt strength 6, not 10 (a thousand
# players sign up in seconds), and the gateway's per-player limit is raised (the limiter still
# runs on every request, leased as always).
set -euo pipefail
COMPARE_JAR=${COMPARE_JAR:+$(realpath "$COMPARE_JAR")} # before the cd: relative to the caller
[ -z "$COMPARE_JAR" ] || [ -f "$COMPARE_JAR" ] || { echo "no such jar: $COMPARE_JAR" >&2; exit 1; }
cd "$(dirname "$0")"
EACH=${SECONDS_EACH:-15}
PLAYERS=${PLAYERS:-1024}
WARMUP=${WARMUP:-40}
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
  else
    echo "wrk is missing (Debian: apt-get install wrk)" >&2
    exit 1
  fi
fi
./mvnw -B -q -DskipTests -Dspotless.check.skip=true install
WORK=$(mktemp -d "${TMPDIR:-/tmp}/citadel-bench.XXXXXX")
java -Dcitadel.root="$PWD" -jar infra/target/infra-*-exec.jar --clean --relaxed --loadtest \
  >"$WORK/platform.log" 2>&1 &
PLATFORM=$!
stop() { # [exit status of the script]
  local status=${1:-$?}
  pkill -P $$ wrk 2>/dev/null || true
  if [ "$status" != 0 ]; then # kept for a look: wrk's outputs and every service's log
    local kept="${TMPDIR:-/tmp}/citadel-bench-failed.$(date +%s)"
    cp -r "$WORK" "$kept" 2>/dev/null && cp .platform/*.log "$kept"/ 2>/dev/null || true
    echo "failed (exit $status): outputs and service logs kept in $kept" >&2
  fi
  kill -TERM "$PLATFORM" 2>/dev/null || true
  wait "$PLATFORM" 2>/dev/null || true
  rm -rf "$WORK"
}
trap stop EXIT
for _ in $(seq 1 300); do
  grep -q "Citadel is up" "$WORK/platform.log" && break
  kill -0 "$PLATFORM" 2>/dev/null || { cat "$WORK/platform.log"; exit 1; }
  sleep 1
done
grep -q "Citadel is up" "$WORK/platform.log" || { echo "platform not up" >&2; exit 1; }

echo "Signing up $PLAYERS players through the gateway ..."
python3 - "$WORK" "$PLAYERS" <<'PY'
import json, sys, threading, time, urllib.request, uuid
from concurrent.futures import ThreadPoolExecutor
work, players = sys.argv[1], int(sys.argv[2])
def call(method, url, body=None, token=None):
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers, json.loads(r.read() or b"{}")
out = {"game-state-a": open(f"{work}/a.txt", "w"), "game-state-b": open(f"{work}/b.txt", "w")}
every = open(f"{work}/all.txt", "w")
lock = threading.Lock()
def sign_up(i):
    creds = {"nickname": "b" + uuid.uuid4().hex[:12], "password": "correct horse"}
    _, signed = call("POST", "http://127.0.0.1:8080/api/members", creds)
    _, login = call("POST", "http://127.0.0.1:8080/api/members/login", creds)
    pid, tok = signed["playerId"], login["token"]
    for attempt in range(300):
        try:
            headers, _ = call("GET", f"http://127.0.0.1:8080/api/game/players/{pid}", token=tok)
            break
        except Exception:
            time.sleep(0.1)
    else:
        raise SystemExit(f"player {pid} never appeared in game-state")
    line = f"{pid} {tok}\n"
    with lock:
        out[headers["X-Citadel-Instance"]].write(line)
        every.write(line)
with ThreadPoolExecutor(8) as pool:
    list(pool.map(sign_up, range(players)))
for f in list(out.values()) + [every]:
    f.close()
PY
echo "Granting each player gold and potions (a game server's token) ..."
SECRET=$(sed -n 's/.*curl -s -u game-server:\([^ ]*\) .*/\1/p' "$WORK/platform.log" | head -1)
[ -n "$SECRET" ] || { echo "no game-server secret in $WORK/platform.log" >&2; exit 1; }
python3 - "$WORK" "$SECRET" <<'PY'
import base64, json, sys, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor
work, secret = sys.argv[1], sys.argv[2]
req = urllib.request.Request("http://127.0.0.1:8081/oauth2/token", method="POST",
    data=urllib.parse.urlencode({"grant_type": "client_credentials", "audience": "game-state"}).encode())
req.add_header("Authorization", "Basic " + base64.b64encode(f"game-server:{secret}".encode()).decode())
with urllib.request.urlopen(req, timeout=30) as r:
    token = json.loads(r.read())["access_token"]
def grant(name, port, line):
    pid = line.split()[0]
    body = {"rewardId": "bench-" + pid, "gold": 1_000_000_000,
            "items": [{"itemId": "potion", "quantity": 5000}]}
    req = urllib.request.Request(f"http://127.0.0.1:{port}/internal/players/{pid}/grants",
        method="POST", data=json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    req.add_header("Authorization", "Bearer " + token)
    urllib.request.urlopen(req, timeout=30).read()
with ThreadPoolExecutor(8) as pool:
    list(pool.map(lambda job: grant(*job),
        [(name, port, line) for name, port in (("a", 8083), ("b", 8084))
         for line in open(f"{work}/{name}.txt")]))
PY
# A player's purchases and discards alternate (per wrk process), so their potions stay near 5,000.
cat >"$WORK/command.lua" <<'LUA'
local players = {}
for line in io.lines(os.getenv("PLAYERS")) do
  local id, tok = line:match("(%S+) (%S+)")
  table.insert(players, {id, tok})
end
local turn = {}
request = function()
  local i = math.random(#players)
  turn[i] = (turn[i] or 0) + 1
  local name = (turn[i] % 2 == 1) and "purchase" or "discard-item"
  return wrk.format("POST", "/api/game/players/" .. players[i][1] .. "/commands/" .. name,
    {["Authorization"] = "Bearer " .. players[i][2], ["Content-Type"] = "application/json"},
    '{"itemId":"potion","quantity":1}')
end
LUA
# A gift of one gold from a random player of PLAYERS (their token, their instance) to a random other
# player of RECEIVERS: the same file for gifts within one instance, the other instance's for gifts
# across two. Every player holds a billion gold, so no gift is refused for want of it.
cat >"$WORK/gift.lua" <<'LUA'
local players, receivers = {}, {}
for line in io.lines(os.getenv("PLAYERS")) do
  local id, tok = line:match("(%S+) (%S+)")
  table.insert(players, {id, tok})
end
for line in io.lines(os.getenv("RECEIVERS")) do
  table.insert(receivers, (line:match("(%S+)")))
end
request = function()
  local g = players[math.random(#players)]
  local to = receivers[math.random(#receivers)]
  while to == g[1] do to = receivers[math.random(#receivers)] end
  return wrk.format("POST", "/api/game/players/" .. g[1] .. "/gifts",
    {["Authorization"] = "Bearer " .. g[2], ["Content-Type"] = "application/json"},
    '{"to":"' .. to .. '","gold":1}')
end
-- Refusals a client sends again (409: a player busy through every retry; 503: overload) apart from
-- any other failure.
local threads = {}
function setup(thread) table.insert(threads, thread) end
refused, failed = 0, 0
function response(status, headers, body)
  if status == 409 or status == 503 then
    refused = refused + 1
  elseif status >= 300 then
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local r, f = 0, 0
  for _, t in ipairs(threads) do r = r + t:get("refused"); f = f + t:get("failed") end
  io.write(string.format("Refused: %d\nOther failures: %d\n", r, f))
end
LUA
cat >"$WORK/read.lua" <<'LUA'
local players = {}
for line in io.lines(os.getenv("PLAYERS")) do
  local id, tok = line:match("(%S+) (%S+)")
  table.insert(players, {id, tok})
end
request = function()
  local p = players[math.random(#players)]
  return wrk.format("GET", "/api/game/players/" .. p[1], {["Authorization"] = "Bearer " .. p[2]})
end
LUA
# The pids the launcher printed for this run's services ("  gateway   http://...  (pid N, log ...)").
pid_of() { awk -v s="$1" '$1 == s' "$WORK/platform.log" | sed -n 's/.*(pid \([0-9]*\),.*/\1/p' | head -1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
GW=$(pid_of gateway)
HZ=$(getconf CLK_TCK)
run() { # name, then wrk invocations as "PLAYERS-file url [RECEIVERS-file]"
  local name=$1 pids=$2; shift 2
  if [ -n "${SKIP_GATEWAY:-}" ] && [[ $name == *gateway* || $name == 401 ]]; then return 0; fi
  local before=0 after=0 p
  for p in $pids; do before=$((before + $(cpu_ticks "$p"))); done
  local i=0 loads=() load file url others
  for target in "$@"; do
    read -r file url others <<<"$target"
    PLAYERS=$file RECEIVERS=${others:-$file} wrk -t1 -c$((64 / $#)) -d"${EACH}s" --latency \
      -s "$WORK/${SCRIPT:-read}.lua" "$url" >"$WORK/$name.$i.out" &
    loads+=($!)
    i=$((i + 1))
  done
  for load in "${loads[@]}"; do
    wait "$load" || { echo "wrk failed: see $WORK/$name.*.out" >&2; cat "$WORK/$name".*.out >&2; exit 1; }
  done
  for p in $pids; do after=$((after + $(cpu_ticks "$p"))); done
  python3 - "$WORK" "$name" "$i" "$((after - before))" "$HZ" <<'PY'
import re, sys
work, name, n, ticks, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rps = total = 0.0; p50 = p99 = 0.0; non2xx = 0
def ms(v, unit): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
for i in range(n):
    t = open(f"{work}/{name}.{i}.out").read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    total += int(re.search(r"(\d+) requests in", t).group(1))
    m = re.search(r"50%\s+([\d.]+)(us|ms|s)", t); p50 = max(p50, ms(*m.groups()))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t); p99 = max(p99, ms(*m.groups()))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", t); non2xx += int(m.group(1)) if m else 0
cpu = ticks / hz * 1000 / max(total, 1)
print(f"| {name} | {rps:,.0f} | {p50:.1f} ms | {p99:.1f} ms | {cpu:.2f} | {non2xx:,} |")
open(f"{work}/{name}.rps", "w").write(str(rps))
open(f"{work}/{name}.cpu", "w").write(str(cpu))
if name.startswith("gift") or name.startswith("warm-gift"):
    # A gift may be refused when its players stay busy with other gifts through every retry (409
    # "busy; try again") or under overload (503), both sent again by a client: shown beside the
    # figures (requests/s counts them), as long as they are a small share with the requests wrk gave
    # up on after 2 s (a tail, counted the same). Any other failure fails the run.
    refused = failed = timeouts = 0
    for i in range(n):
        t = open(f"{work}/{name}.{i}.out").read()
        refused += int(re.search(r"Refused: (\d+)", t).group(1))
        failed += int(re.search(r"Other failures: (\d+)", t).group(1))
        m = re.search(r"Socket errors: .*timeout (\d+)", t); timeouts += int(m.group(1)) if m else 0
    if failed or refused + timeouts > total * 0.05:
        for i in range(n):
            sys.stderr.write(open(f"{work}/{name}.{i}.out").read())
        sys.exit(f"{name}: of {total} gifts {refused} refused (409 busy, 503), {failed} failed otherwise,"
                 f" {timeouts} timed out: the figures are not the path's")
elif name != "401" and non2xx:  # warm-up phases too: a path that fails is not warming up
    for i in range(n):
        sys.stderr.write(open(f"{work}/{name}.{i}.out").read())
    sys.exit(f"{name}: {non2xx} answers were not 2xx: the figures are not the path's")
PY
}
GSPIDS="$(pid_of game-state-a) $(pid_of game-state-b)"
echo "Warming up (${WARMUP}s each) ..."
EACH_SAVED=$EACH; EACH=$WARMUP
run warm-direct "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083" "$WORK/b.txt http://127.0.0.1:8084" >/dev/null
run warm-gateway "$GW" "$WORK/all.txt http://127.0.0.1:8080" >/dev/null
SCRIPT=command run warm-command-direct "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083" "$WORK/b.txt http://127.0.0.1:8084" >/dev/null
SCRIPT=command run warm-command-gateway "$GW" "$WORK/all.txt http://127.0.0.1:8080" >/dev/null
SCRIPT=gift run warm-gift-same "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083" "$WORK/b.txt http://127.0.0.1:8084" >/dev/null
SCRIPT=gift run warm-gift-across "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083 $WORK/b.txt" \
  "$WORK/b.txt http://127.0.0.1:8084 $WORK/a.txt" >/dev/null
EACH=$EACH_SAVED
echo
echo "| path | requests/s | p50 | p99 | CPU ms per request (answering JVMs) | non-2xx |"
echo "|---|---|---|---|---|---|"
run direct "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083" "$WORK/b.txt http://127.0.0.1:8084"
run gateway "$GW" "$WORK/all.txt http://127.0.0.1:8080"
SCRIPT=command run command-direct "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083" "$WORK/b.txt http://127.0.0.1:8084"
SCRIPT=command run command-gateway "$GW" "$WORK/all.txt http://127.0.0.1:8080"
# Gifts, straight to the giver's instance (its coordinator): both players there, or the receiver on
# the other instance (prepare and commit over HTTP). Non-2xx here: refused (409 busy, 503 overload).
SCRIPT=gift run gift-same "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083" "$WORK/b.txt http://127.0.0.1:8084"
SCRIPT=gift run gift-across "$GSPIDS" "$WORK/a.txt http://127.0.0.1:8083 $WORK/b.txt" \
  "$WORK/b.txt http://127.0.0.1:8084 $WORK/a.txt"
if [ -n "$COMPARE_JAR" ]; then
  # A/B in one run: another gateway jar (e.g. built from an older commit) beside this run's, with
  # its environment and JVM options on other ports, the same players and services; measured phases
  # alternate between the two (the order swapped each pair) so both see the same machine. Like the
  # platform's, it runs extracted (not from the nested jar), without a class-data archive.
  read -r BASE_PORT BASE_MGMT < <(python3 -c '
import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
  java -Djarmode=tools -jar "$COMPARE_JAR" extract --destination "$WORK/base" >/dev/null
  BASE_JAR=$(ls "$WORK"/base/*.jar | head -1)
  mapfile -t JVM_OPTS < <(tr '\0' '\n' <"/proc/$GW/cmdline" | sed -n '2,$p' | sed '/^-jar$/,$d' |
    grep -v -e '^-XX:SharedArchiveFile' -e '^-XX:ArchiveClassesAtExit' || true)
  mapfile -d '' GW_ENV <"/proc/$GW/environ"
  read -ra BASE_EXTRA <<<"${COMPARE_ENV:-}"
  for kv in "${BASE_EXTRA[@]}"; do # (env would take a word without '=' as the program to run)
    [[ "$kv" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || { echo "COMPARE_ENV: not NAME=value: $kv" >&2; exit 1; }
  done
  env -i "${GW_ENV[@]}" "${BASE_EXTRA[@]}" SERVER_PORT="$BASE_PORT" MANAGEMENT_SERVER_PORT="$BASE_MGMT" \
    "$(readlink "/proc/$GW/exe")" "${JVM_OPTS[@]}" -jar "$BASE_JAR" >"$WORK/compare.log" 2>&1 &
  BASE=$!
  trap 's=$?; kill $BASE 2>/dev/null || true; wait $BASE 2>/dev/null || true; stop $s' EXIT
  ready=""
  for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$BASE_MGMT/actuator/health/readiness" >/dev/null 2>&1 && { ready=1; break; }
    kill -0 "$BASE" 2>/dev/null || break
    sleep 1
  done
  [ -n "$ready" ] || { echo "the gateway from $COMPARE_JAR did not get ready:" >&2; cat "$WORK/compare.log" >&2; exit 1; }
  echo
  echo "A/B: this build (new) and $COMPARE_JAR ${COMPARE_ENV:-} (base), ${EACH}s phases in turn, after ${WARMUP}s of warm-up:"
  EACH=$WARMUP
  run warm-base "$BASE" "$WORK/all.txt http://127.0.0.1:$BASE_PORT" >/dev/null
  SCRIPT=command run warm-command-base "$BASE" "$WORK/all.txt http://127.0.0.1:$BASE_PORT" >/dev/null
  EACH=$EACH_SAVED
  pair() { # prefix, pair number: new then base, or base then new on even pairs
    local new=("${1}new-$2" "$GW" "$WORK/all.txt http://127.0.0.1:8080")
    local base=("${1}base-$2" "$BASE" "$WORK/all.txt http://127.0.0.1:$BASE_PORT")
    if [ $(($2 % 2)) = 1 ]; then run "${new[@]}"; run "${base[@]}"; else run "${base[@]}"; run "${new[@]}"; fi
  }
  for i in 1 2 3; do pair "" "$i"; done # (new first in two pairs of three)
  for i in 1 2 3; do SCRIPT=command pair command- "$i"; done
  if grep -q "rate limiter's Redis unavailable" "$WORK/compare.log"; then
    echo "the compared gateway's rate limiter lost Redis ($WORK/compare.log): figures not valid" >&2
    exit 1
  fi
  python3 - "$WORK" <<'PY'
import sys
w = sys.argv[1]
def read(n, what): return float(open(f"{w}/{n}.{what}").read())
for kind, p in (("reads", ""), ("commands", "command-")):
    r = [read(f"{p}new-{i}", "rps") / read(f"{p}base-{i}", "rps") for i in (1, 2, 3)]
    c = [read(f"{p}new-{i}", "cpu") / read(f"{p}base-{i}", "cpu") for i in (1, 2, 3)]
    print(f"{kind}, new / base, each pair: requests/s " + ", ".join(f"{x:.2f}x" for x in r)
          + "; gateway CPU per request " + ", ".join(f"{x:.2f}x" for x in c))
PY
  kill "$BASE" 2>/dev/null || true
  wait "$BASE" 2>/dev/null || true
  trap stop EXIT # (its pid may be reused now)
fi
printf 'request = function() return wrk.format("GET", "/api/game/players/x") end\n' >"$WORK/read.lua"
run 401 "$GW" "$WORK/all.txt http://127.0.0.1:8080"
# Every request went through the limiter's check: a limiter that lost Redis lets requests through
# unchecked, and its figures would not be the gateway's.
GWLOG=$(awk '$1 == "gateway"' "$WORK/platform.log" | sed -n 's/.*, log \([^,]*\),.*/\1/p' | head -1)
[ -f "$GWLOG" ] || { echo "no gateway log found in $WORK/platform.log" >&2; exit 1; }
if grep -q "rate limiter's Redis unavailable" "$GWLOG"; then
  echo "the gateway's rate limiter lost Redis during the run ($GWLOG): figures not valid" >&2
  exit 1
fi
if [ -z "${SKIP_GATEWAY:-}" ]; then
  python3 -c "import sys; d=float(open('$WORK/direct.rps').read()); g=float(open('$WORK/gateway.rps').read()); print(f'\ngateway / direct: {g/d:.2f}x (same run; {sys.argv[1]} s each, 64 connections)')" "$EACH"
  python3 -c "d=float(open('$WORK/command-direct.rps').read()); g=float(open('$WORK/command-gateway.rps').read()); print(f'command, gateway / direct: {g/d:.2f}x')"
fi
python3 -c "c=float(open('$WORK/command-direct.rps').read()); s=float(open('$WORK/gift-same.rps').read()); a=float(open('$WORK/gift-across.rps').read()); print(f'gift / command direct: one instance {s/c:.2f}x, across two {a/c:.2f}x')"
