#!/bin/sh
# The live monitor with 1,000 students (docs/BENCHMARKS.md, "Live monitor").
# A throwaway PostgreSQL cluster under var/ and `kiemtra serve`, both on free
# ports; the bench school (bench-fixture) with STUDENTS students in one
# session; STARTED of them with an attempt holding ANSWERS answers each
# (SUBMITTED of those submitted), written by SQL; then the teacher's
#   GET /api/v1/sessions/{id}/monitor                  (full view, 200)
#   GET ... with If-None-Match: <its ETag>             (304, no body)
# each timed REPEAT times with curl (time_total, loopback, a new connection
# each), and the database time of the statement behind each from
# PostgreSQL's log (log_min_duration_statement = 0 for those calls). Everything is stopped
# and removed on exit.
#   scripts/monitor_bench.sh [BUILD_DIR]
#   env: STUDENTS (1000), STARTED (900), SUBMITTED (100), ANSWERS (10), REPEAT (20)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build-bench}
students=${STUDENTS:-1000}
started=${STARTED:-900}
submitted=${SUBMITTED:-100}
answers=${ANSWERS:-10}
repeat=${REPEAT:-20}
bin="$root/$build/kiemtra"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$root/var"
work=$(mktemp -d "$root/var/monitor-bench-XXXXXX")
chmod 755 "$work"
spid=""
cleanup() {
    if [ -n "$spid" ]; then
        kill -TERM "$spid" 2>/dev/null || true
        wait "$spid" 2>/dev/null || true
    fi
    scripts/pg.sh stop "$work/pg" || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pgport=$(free_port)
scripts/pg.sh init "$work/pg" >/dev/null
scripts/pg.sh start "$work/pg" "$pgport" >/dev/null
sock="$work/pg/run"
psql="psql -X -q -v ON_ERROR_STOP=1 -h $sock -p $pgport -U kiemtra"
$psql -d postgres -c "CREATE DATABASE kiemtra"
export KIEMTRA_ADMIN_DATABASE_URL="host=$sock port=$pgport dbname=kiemtra user=kiemtra"
export KIEMTRA_DATABASE_URL="host=$sock port=$pgport dbname=kiemtra user=kiemtra_app"
"$bin" migrate >/dev/null
"$bin" taxonomy import demo/outcomes-toan10.csv >/dev/null
$psql -d kiemtra -c "ALTER ROLE kiemtra_app WITH LOGIN"
session=$("$bin" bench-fixture --students "$students" --classes 1 \
    --password-file "$work/password" 2>/dev/null)

# Attempts and answers as the save path leaves them (first items of the form).
$psql -d kiemtra <<SQL
WITH s AS (SELECT se.id, se.school_id, se.test_id FROM sessions se WHERE se.id = $session),
 st AS (SELECT u.id, row_number() OVER (ORDER BY u.student_code) AS n FROM s
   JOIN session_classes sc ON sc.session_id = s.id JOIN class_members m ON m.class_id = sc.class_id
   JOIN users u ON u.id = m.user_id AND u.role = 'student')
INSERT INTO attempts (school_id, session_id, student_id, form_id, deadline, status,
    submitted_at, submitted_by)
SELECT s.school_id, s.id, st.id, f.id, now() + interval '40 minutes',
    CASE WHEN st.n <= $submitted THEN 'submitted' ELSE 'in_progress' END,
    CASE WHEN st.n <= $submitted THEN now() END, CASE WHEN st.n <= $submitted THEN 'student' END
  FROM s CROSS JOIN st JOIN test_forms f ON f.test_id = s.test_id AND f.form_index = 0
 WHERE st.n <= $started;
INSERT INTO responses (attempt_id, item_ref, school_id, student_id, response, seq)
SELECT a.id, e.it->>'ref', a.school_id, a.student_id, '"A"'::jsonb, 1
  FROM attempts a JOIN test_forms f ON f.id = a.form_id
  CROSS JOIN LATERAL jsonb_array_elements(f.payload->'items') WITH ORDINALITY AS e(it, ord)
 WHERE a.session_id = $session AND e.ord <= $answers;
ANALYZE;
SQL

port=$(free_port)
KIEMTRA_PORT=$port KIEMTRA_ACCESS_LOG=0 "$bin" serve >"$work/server.log" 2>&1 &
spid=$!
i=0
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
url="http://127.0.0.1:$port/api/v1"
pw=$(cat "$work/password")
token=$(curl -sf -H 'Content-Type: application/json' \
    -d "{\"username\":\"bench.gv\",\"password\":\"$pw\"}" "$url/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
mon="$url/sessions/$session/monitor"
etag=$(curl -sf -D - -o "$work/view.json" -H "Authorization: Bearer $token" "$mon" |
    sed -n 's/^ETag: *\([^\r]*\).*/\1/p')
echo "session $session: $(python3 -c "import json; v = json.load(open('$work/view.json')); \
print(len(v['students']), 'students,', v['counts'])"); view $(wc -c <"$work/view.json") bytes"

log="$work/pg/postgres.log"
$psql -d kiemtra -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
timeit() { # label, extra curl args...
    label=$1
    shift
    from=$(wc -l <"$log")
    for _ in $(seq "$repeat"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" \
            "$@" "$mon"
    done | sort -k2 -n | awk -v l="$label" -v n="$repeat" \
        '{c[NR] = $1; t[NR] = $2 * 1000} END {printf "%s: status %s, %d calls, median %.1f ms, min %.1f ms, max %.1f ms\n", l, c[1], n, t[int((n + 1) / 2)], t[1], t[n]}'
    tail -n +"$((from + 1))" "$log" | sed -n 's/.*duration: \([0-9.]*\) ms *execute session_monitor.*/\1/p' |
        sort -n | awk -v l="$label" '{t[NR] = $1} END {if (NR) printf "  database (the one statement): %d runs, median %.1f ms, max %.1f ms\n", NR, t[int((NR + 1) / 2)], t[NR]}'
}
timeit "full view (200)"
timeit "unchanged (304)" -H "If-None-Match: $etag"
