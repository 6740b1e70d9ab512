#!/bin/sh
# `make bench`: the standard exam scenario end to end, from a fresh clone.
# A throwaway PostgreSQL cluster under var/ and `kiemtra serve`, both on free
# ports, the bench school (bench-fixture), then `kiemtra bench`; both are
# stopped and the cluster removed on exit. Loopback only; bounded in time.
#   scripts/bench.sh [BUILD_DIR]
#   env: STUDENTS (2000), WINDOW (10), DURATION (60), THINK_MS (1000),
#        LOGIN_RATE (0: unpaced), LOGIN (code: the exam login codes the teacher
#        issues through the API; password: argon2id logins),
#        WORKERS (cores), DB_POOL (4), KEEP_JSON (file),
#        PGBENCH_SECS (10; 0 skips the database reference),
#        CPU_CORES (a slower machine: everything, PostgreSQL, the server and
#        the load, runs in a CPU cgroup given that many cores' worth of time
#        per 10 ms, e.g. 1.33; needs a writable cgroup file system),
#        CPU_SCOPE (all, the default; server: PostgreSQL and the server in
#        the cgroup, the load generator, the students' computers, outside)
# After the exam, the database ceiling on the same cluster: pgbench with a
# one-row upsert and a 100-row batched upsert into a table shaped like
# `responses` (bench/pgbench_*.sql), 8 clients, synchronous_commit on.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build-bench}
students=${STUDENTS:-2000}
window=${WINDOW:-10}
duration=${DURATION:-60}
think=${THINK_MS:-1000}
login_rate=${LOGIN_RATE:-0}
login=${LOGIN:-code}
bin="$root/$build/kiemtra"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A slower machine (CPU_CORES, CPU_SCOPE): checked before anything is made.
cg=""
cg_parent=""
if [ -n "${CPU_CORES:-}" ]; then
    quota=$(python3 -c "import sys; c = float(sys.argv[1]); assert 0.1 <= c <= 64; print(round(c * 10000))" \
        "$CPU_CORES" 2>/dev/null) || { echo "CPU_CORES: a number of cores from 0.1 to 64" >&2; exit 2; }
    case "${CPU_SCOPE:-all}" in
    all | server) ;;
    *) echo "CPU_SCOPE: all or server" >&2; exit 2 ;;
    esac
fi

mkdir -p "$root/var"
work=$(mktemp -d "$root/var/bench-XXXXXX")
chmod 755 "$work"
spid=""
cleanup() {
    if [ -n "$spid" ]; then
        kill -TERM "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
    fi
    scripts/pg.sh stop "$work/pg" || true
    rm -rf "$work"
    if [ -n "$cg" ]; then
        echo $$ >"$cg_parent/cgroup.procs"
        rmdir "$cg" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A slower machine: this shell, and so everything it starts, in a CPU cgroup
# (v2 cpu.max or v1 cfs quota) of CPU_CORES cores per 10 ms period; with
# CPU_SCOPE=server only PostgreSQL and the server go in (capped, below).
if [ -n "${CPU_CORES:-}" ]; then
    if [ -w /sys/fs/cgroup/cgroup.subtree_control ] && grep -qw cpu /sys/fs/cgroup/cgroup.controllers; then
        cg_parent=/sys/fs/cgroup
        cg=$cg_parent/kiemtra-bench-$$
        mkdir "$cg"
        echo "$quota 10000" >"$cg/cpu.max"
    elif [ -w /sys/fs/cgroup/cpu/cgroup.procs ]; then
        cg_parent=/sys/fs/cgroup/cpu
        cg=$cg_parent/kiemtra-bench-$$
        mkdir "$cg"
        echo 10000 >"$cg/cpu.cfs_period_us"
        echo "$quota" >"$cg/cpu.cfs_quota_us"
    else
        echo "CPU_CORES needs a writable cgroup file system (cgroup v2 with the cpu controller, or v1 cpu)" >&2
        exit 2
    fi
    if [ "${CPU_SCOPE:-all}" = all ]; then
        echo $$ >"$cg/cgroup.procs"
    fi
fi

# $capped COMMAND runs COMMAND in the cgroup when only the server side is
# capped (the wrapper execs it: same process, so $! stays the server's).
capped=""
if [ -n "$cg" ] && [ "${CPU_SCOPE:-all}" = server ]; then
    capped="$work/capped"
    printf '#!/bin/sh\necho $$ >"%s/cgroup.procs" && exec "$@"\n' "$cg" >"$capped"
    chmod 755 "$capped"
fi

pgport=$(free_port)
scripts/pg.sh init "$work/pg"
$capped scripts/pg.sh start "$work/pg" "$pgport"
sock="$work/pg/run"
psql="psql -X -q -v ON_ERROR_STOP=1 -h $sock -p $pgport -U kiemtra"
$psql -d postgres -c "CREATE DATABASE kiemtra"
export KIEMTRA_ADMIN_DATABASE_URL="host=$sock port=$pgport dbname=kiemtra user=kiemtra"
export KIEMTRA_DATABASE_URL="host=$sock port=$pgport dbname=kiemtra user=kiemtra_app"
"$bin" migrate >/dev/null
"$bin" taxonomy import demo/outcomes-toan10.csv >/dev/null
$psql -d kiemtra -c "ALTER ROLE kiemtra_app WITH LOGIN"
session=$("$bin" bench-fixture --students "$students" --password-file "$work/password")

# The server's secret key (exam login codes are stored as a keyed hash).
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/secret.key"
chmod 600 "$work/secret.key"
export KIEMTRA_SECRET_KEY_FILE="$work/secret.key"

# One connection per student on both sides.
ulimit -n "$(ulimit -Hn)"
port=$(free_port)
if [ -n "${WORKERS:-}" ]; then export KIEMTRA_WORKERS="$WORKERS"; fi
if [ -n "${DB_POOL:-}" ]; then export KIEMTRA_DB_POOL="$DB_POOL"; fi
KIEMTRA_PORT=$port KIEMTRA_ACCESS_LOG=0 KIEMTRA_LOGIN_MAX_FAILS_ADDR=1000000 \
    KIEMTRA_MAX_CONNECTIONS_PER_ADDR=0 \
    $capped "$bin" serve >"$work/server.log" 2>&1 &
spid=$!
i=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done

echo "machine: $(nproc) cores${CPU_CORES:+ (CPU capped to $CPU_CORES cores: ${CPU_SCOPE:-all})}, $(free -g | awk '/Mem:/ {print $2}') GiB; PostgreSQL:" \
    "$($psql -d kiemtra -tAc "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name)
        FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'shared_buffers',
        'max_connections', 'wal_level')")"
echo "command: kiemtra bench --session $session --students $students --window $window" \
    "--duration $duration --think-ms $think --login-rate $login_rate --login $login"
# CPU time (ticks) of the server, and of PostgreSQL: the postmaster, its
# live children, and the children it has reaped (a backend's time moves
# there when it exits), so that a difference spans backends that come and
# go. The load generator's is the shell's children's time (`times`).
cpu_of() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" -v tree="${2:-}" '{ pid = $1; sub(/^.*\) /, "")
        if (pid == p || (tree && $2 == p)) t += $12 + $13 + $14 + $15 } END { print t + 0 }'
}
# (`times` in this shell, not in a $(...) subshell, which has no children.)
load_cpu() { times >"$work/times"; awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
    print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$work/times"; }
pm=$(head -1 "$work/pg/data/postmaster.pid")
pg0=$(cpu_of "$pm" tree)
sv0=$(cpu_of "$spid")
load_cpu >"$work/ld0"
t0=$(date +%s)
rc=0
"$bin" bench --url "http://127.0.0.1:$port" --session "$session" --students "$students" \
    --window "$window" --duration "$duration" --think-ms "$think" --login-rate "$login_rate" \
    --login "$login" \
    --password-file "$work/password" --json >"$work/result.json" || rc=$?
if [ -n "${KEEP_JSON:-}" ]; then cp "$work/result.json" "$KEEP_JSON"; fi
# CPU of each part during the run (logins included): what the exam costs.
load_cpu >"$work/ld1"
awk -v pg=$(($(cpu_of "$pm" tree) - pg0)) -v sv=$(($(cpu_of "$spid") - sv0)) \
    -v ld0="$(cat "$work/ld0")" -v ld="$(cat "$work/ld1")" -v hz="$(getconf CLK_TCK)" \
    -v wall=$(($(date +%s) - t0)) 'BEGIN { printf "cpu during the bench (%d s): PostgreSQL" \
        " %.2f s, server %.2f s, load generator %.2f s\n", wall, pg / hz, sv / hz, ld - ld0 }'
# What the cap did (periods run, periods throttled): proof that it held.
if [ -n "$cg" ]; then echo "cpu cgroup: $(tr '\n' ' ' <"$cg/cpu.stat")"; fi

secs=${PGBENCH_SECS:-10}
if [ "$secs" -gt 0 ]; then
    kill -TERM "$spid" && wait "$spid" || true
    spid=""
    $psql -d kiemtra -f bench/pgbench_setup.sql >/dev/null
    for f in 1 100; do
        tps=$(pgbench -h "$sock" -p "$pgport" -U kiemtra -n -M prepared -c 8 -j 2 -T "$secs" \
            -f "bench/pgbench_upsert_$f.sql" kiemtra 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p')
        echo "database ceiling: pgbench ${f}-row upsert, 8 clients, ${secs} s: $tps tps =" \
            "$((tps * f)) rows/s"
    done
fi
exit $rc
