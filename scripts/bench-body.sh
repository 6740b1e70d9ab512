#!/bin/sh
# One unauthenticated 32 MiB JSON body to /api/v1/auth/login: `kiemtra serve`
# (one worker, no database needed) gets the body from one client while
# another asks GET /livez on the same worker every 5 ms. Prints the status
# and time of the big request, the longest /livez wait, and the server's
# peak VmRSS (VmHWM) before and after. Loopback only; bounded in time.
#   scripts/bench-body.sh [BUILD_DIR]      env: MIB (32)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build-bench}
mib=${MIB:-32}
bin="$(pwd)/$build/kiemtra"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d /tmp/kiemtra-body-XXXXXX)
KIEMTRA_PORT=$port KIEMTRA_WORKERS=1 KIEMTRA_ACCESS_LOG=0 KIEMTRA_DB_POOL=1 \
    KIEMTRA_DATABASE_URL="host=$work port=1 dbname=none" \
    "$bin" serve >"$work/server.log" 2>&1 &
spid=$!
cleanup() {
    kill "$spid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
until curl -sf "http://127.0.0.1:$port/livez" >/dev/null; do sleep 0.1; done
echo "machine: $(nproc) cores, $(uname -sr)"
echo "command: scripts/bench-body.sh $build   (MIB=$mib)"
python3 - "$port" "$spid" "$mib" <<'PY'
import socket, sys, threading, time

port, pid, mib = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def hwm():
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])

# Many small values: what makes a JSON parser allocate the most.
pad = b"0," * ((mib * 1024 * 1024 - 64) // 2)
body = b'{"username":"khong-co","password":"x","pad":[' + pad + b'0]}'
lat, stop = [], threading.Event()

def probe():
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.settimeout(120)
        while not stop.is_set():
            t0 = time.time()
            c.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while not got.endswith(b'{"status":"ok"}'):
                got += c.recv(4096)
            lat.append(time.time() - t0)
            time.sleep(0.005)

before = hwm()
t = threading.Thread(target=probe)
t.start()
time.sleep(0.5)
t0 = time.time()
c = socket.create_connection(("127.0.0.1", port))
c.settimeout(120)
try:
    c.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
except OSError:
    pass  # refused early: the server stopped reading
try:
    reply = c.recv(4096)
except OSError:
    reply = b""
took = time.time() - t0
c.close()
time.sleep(1.0)
stop.set()
t.join()
status = reply.split(b" ")[1].decode() if reply.startswith(b"HTTP/1.1 ") else "none"
print(f"big login body: {len(body)} bytes, status {status} after {took:.2f} s")
print(f"/livez on the same worker: {len(lat)} probes, longest {max(lat) * 1000:.0f} ms")
print(f"server VmHWM: {before} KiB before, {hwm()} KiB after")
PY
