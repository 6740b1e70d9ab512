#!/bin/sh
# HTTP-layer benchmark: wrk against kiemtra's trivial route (/livez) and
# against nginx returning a fixed JSON body, same machine, same number of
# workers, alternating runs. Loopback only; every run is bounded in time.
#   scripts/bench-http.sh [BUILD_DIR]      env: WORKERS, CONNS, SECS, ROUNDS
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
workers=${WORKERS:-$(nproc)}
conns=${CONNS:-100}
secs=${SECS:-10}
rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/kiemtra-bench-XXXXXX)
kport=18080
nport=18081

cat >"$work/nginx.conf" <<CONF
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 20000; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$nport reuseport;
        location / {
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
    }
}
CONF
nginx -c "$work/nginx.conf"
KIEMTRA_PORT=$kport KIEMTRA_WORKERS=$workers KIEMTRA_ACCESS_LOG=0 KIEMTRA_DB_POOL=1 \
    "$build/kiemtra" serve >"$work/kiemtra.log" 2>&1 &
kpid=$!
cleanup() {
    kill "$kpid" 2>/dev/null || true
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
sleep 1

rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p'; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr)"
echo "command: wrk -t2 -c$conns -d${secs}s --latency URL   (workers=$workers, rounds=$rounds)"
for i in $(seq 1 "$rounds"); do
    k=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$kport/livez")
    n=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$nport/")
    kr=$(echo "$k" | rps); nr=$(echo "$n" | rps)
    echo "round $i: kiemtra $kr req/s (p99 $(echo "$k" | p99)), nginx $nr req/s (p99 $(echo "$n" | p99)), ratio $(echo "scale=3; $kr / $nr" | bc)"
done
