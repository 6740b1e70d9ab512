#!/bin/sh
# Idle keep-alive connections: `kiemtra serve` (no database needed) holds N
# connections opened by `kiemtra bench --idle` (each checked with one GET
# /livez, then left idle); the server's VmRSS is read from /proc while they
# are held. Loopback only; bounded in time.
#   scripts/bench-idle.sh [BUILD_DIR]      env: CONNS (20000), HOLD (40)
# A process cannot have more descriptors than the hard RLIMIT_NOFILE, so
# the connections are spread over holders of at most 10,000 each, and the
# server's share is capped at that limit minus what it needs for itself.
# All connections come from one address and fill the descriptor limit, so
# the cap per address and the shorter idle timeout under pressure are off.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
want=${CONNS:-20000}
hold=${HOLD:-40}
bin="$(pwd)/$build/kiemtra"

ulimit -n "$(ulimit -Hn)"
limit=$(ulimit -n)
max=$((limit - 64))
conns=$want
if [ "$conns" -gt "$max" ]; then
    echo "note: RLIMIT_NOFILE is $limit here; holding $max connections instead of $want"
    conns=$max
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d /tmp/kiemtra-idle-XXXXXX)
KIEMTRA_PORT=$port KIEMTRA_WORKERS=${WORKERS:-$(nproc)} KIEMTRA_ACCESS_LOG=0 KIEMTRA_DB_POOL=1 \
    KIEMTRA_IDLE_TIMEOUT=600 KIEMTRA_IDLE_TIMEOUT_BUSY=600 KIEMTRA_MAX_CONNECTIONS_PER_ADDR=0 \
    KIEMTRA_DATABASE_URL="host=$work port=1 dbname=none" \
    "$bin" serve >"$work/server.log" 2>&1 &
spid=$!
hpids=""
cleanup() {
    for p in $hpids; do kill "$p" 2>/dev/null || true; done
    kill "$spid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
until curl -sf "http://127.0.0.1:$port/livez" >/dev/null; do sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$spid/status"; }
# Connections the server has accepted (from the kernel: a server at its
# descriptor limit could not answer /metrics).
held() { ss -Htn state established "( sport = :$port )" | wc -l; }
base=$(rss)

left=$conns
i=0
while [ "$left" -gt 0 ]; do
    n=$((left > 10000 ? 10000 : left))
    "$bin" bench --url "http://127.0.0.1:$port" --idle "$n" --hold-seconds "$hold" --json \
        >"$work/holder-$i.json" 2>"$work/holder-$i.err" &
    hpids="$hpids $!"
    left=$((left - n))
    i=$((i + 1))
done
t=0
while [ "$(held)" -lt "$conns" ] && [ $t -lt 240 ]; do sleep 0.5; t=$((t + 1)); done
sleep 2
now_held=$(held)
now_rss=$(rss)
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); RLIMIT_NOFILE $limit"
echo "command: scripts/bench-idle.sh $build   (CONNS=$want HOLD=$hold, workers ${WORKERS:-$(nproc)})"
echo "idle connections held: $now_held"
echo "server VmRSS: $now_rss KiB holding them, $base KiB before ($(( (now_rss - base) * 1024 / (now_held > 0 ? now_held : 1) )) bytes per connection)"
rc=0
for p in $hpids; do wait "$p" || rc=1; done
hpids=""
cat "$work"/holder-*.json
exit $rc
