"""`kiemtra bench` against the real server: a small exam end to end (bench
school, paced logins, starts within a window, saves at a think time, submit,
then every acknowledged save read back), and the JSON it prints."""
import glob
import json
import os
import re
import subprocess
import time

from harness import ROOT

PW = "mat-khau-bench-thu"


def _group_counts(server):
    text = server.request("GET", "/metrics").body.decode()
    return {(m.group(1), m.group(2)): int(m.group(3)) for m in re.finditer(
        r'^kiemtra_group_(batches|rows)_total\{kind="(\w+)"\} (\d+)$', text, re.M)}


def test_bench_runs_a_small_exam_and_checks_every_save(env):
    s = env.main_server()
    fx = env.cli("bench-fixture", "--students", "24", "--school", "BENCHT", "--classes", "2",
                 env={"KIEMTRA_BENCH_PASSWORD": PW})
    session = fx.stdout.strip()
    assert session.isdigit(), fx.stdout
    before = _group_counts(s)
    p = env.cli("bench", "--url", f"http://127.0.0.1:{s.port}", "--session", session,
                "--students", "24", "--school", "BENCHT", "--window", "1", "--duration", "3",
                "--think-ms", "150", "--login-rate", "50", "--password", PW, "--json",
                check=False)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["ok"] and d["errors"] == 0 and d["lost_answers"] == 0, d
    assert d["verified_attempts"] == 24 and d["students_not_finished"] == 0, d
    # Students log in as on exam day: the codes the teacher issued (0035).
    assert d["scenario"]["login"] == "code", d["scenario"]
    used = env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'login.exam_code'"
                            f" AND new_value->>'session_id' = '{session}'")
    assert used == "24", used
    ops = d["ops"]
    assert ops["login"]["count"] == ops["start"]["count"] == ops["submit"]["count"] == 24, ops
    assert ops["start"]["status"] == {"201": 24}, ops["start"]
    saves = ops["save"]["count"]
    assert saves == d["saves_acknowledged"] and saves >= 24 * 5, d
    for name in ("login", "start", "save", "submit"):
        o = ops[name]
        assert 0 < o["p50_ms"] <= o["p95_ms"] <= o["p99_ms"] <= o["max_ms"], (name, o)
    # The per-second timeline accounts for every save, slow ones included.
    assert d["save_timeline_columns"] == ["second", "saves", "over_100ms", "max_ms"], d
    tl = d["save_timeline"]
    assert sum(r[1] for r in tl) == saves, tl
    assert all(0 <= r[2] <= r[1] and r[3] <= ops["save"]["max_ms"] for r in tl), tl
    assert max(r[3] for r in tl) == ops["save"]["max_ms"], tl
    # What the bench acknowledged is what the database holds; every attempt
    # is scored behind its submit's reply (polled, bounded in time).
    deadline, pause = time.time() + 30, 0.05
    while True:
        stored = env.cluster.psql(f"SELECT count(*) FROM attempts WHERE session_id = {session}"
                                  " AND status = 'submitted' AND scored_at IS NOT NULL")
        if stored == "24" or time.time() > deadline:
            break
        time.sleep(pause)
        pause = min(pause * 2, 1.0)
    assert stored == "24", stored
    # /metrics counts the group-commit transactions and what they carried:
    # every start, save and submit of this exam went in one of them.
    after = _group_counts(s)
    got = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    for kind, n in (("start", 24), ("save", saves), ("submit", 24)):
        assert got[("rows", kind)] == n, (kind, got)
        assert 1 <= got[("batches", kind)] <= n, (kind, got)


def test_bench_password_logins_honour_503_retry_after(env):
    """--login password against a password queue of one: the refused logins
    (503 login_busy + Retry-After) are sent again after the wait, and every
    student logs in and finishes."""
    from harness import Server
    env.main_server()
    fx = env.cli("bench-fixture", "--students", "10", "--school", "BENCHQ", "--classes", "1",
                 env={"KIEMTRA_BENCH_PASSWORD": PW})
    session = fx.stdout.strip()
    q = Server(env, {"KIEMTRA_LOGIN_QUEUE": "1", "KIEMTRA_CPU_THREADS": "1",
                     "KIEMTRA_LOGIN_MAX_FAILS_ADDR": "100000"})
    try:
        p = env.cli("bench", "--url", f"http://127.0.0.1:{q.port}", "--session", session,
                    "--students", "10", "--school", "BENCHQ", "--window", "1", "--duration", "2",
                    "--think-ms", "500", "--login", "password", "--password", PW, "--json",
                    check=False)
    finally:
        q.stop()
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["ok"] and d["scenario"]["login"] == "password", d
    assert d["ops"]["login"]["status"] == {"200": 10}, d["ops"]["login"]
    assert d["retried"].get("login", 0) >= 1, d["retried"]


def test_bench_counts_failed_replies_by_error_code(env):
    """A reply that is not 2xx is counted under its status and the error code
    of its body (who refused and why: the gateway's JSON code, or `html` for
    a page such as HAProxy's own 503): here every start of a session that
    needs the room's access code, which the bench does not type."""
    s = env.main_server()
    fx = env.cli("bench-fixture", "--students", "4", "--school", "BENCHC", "--classes", "1",
                 env={"KIEMTRA_BENCH_PASSWORD": PW})
    session = fx.stdout.strip()
    env.cluster.psql(f"UPDATE sessions SET access_code = '123456' WHERE id = {session}")
    p = env.cli("bench", "--url", f"http://127.0.0.1:{s.port}", "--session", session,
                "--students", "4", "--school", "BENCHC", "--window", "1", "--duration", "1",
                "--think-ms", "200", "--password", PW, "--json", check=False)
    assert p.returncode == 1, p.stderr
    assert p.stdout.strip(), (p.stdout, p.stderr)
    d = json.loads(p.stdout)
    start = d["ops"]["start"]
    assert start["status"] == {"403": 4}, start
    assert start["error_codes"] == {"403 access_code_required": 4}, start
    assert d["ops"]["login"]["error_codes"] == {}, d["ops"]["login"]
    assert "start replied 403 access_code_required: 4" in p.stderr, p.stderr


def _attempt_rows_read(env):
    return int(env.cluster.psql("SELECT seq_tup_read + coalesce(idx_tup_fetch, 0)"
                                " FROM pg_stat_user_tables WHERE relname = 'attempts'"))


def test_batches_read_their_own_attempts_whatever_the_plan_was_made_for(env):
    """A group-committed batch reads the attempts it names, by key, however
    small `attempts` was when its plan was made. A plan made at an exam's
    first saves, before the table was analysed, read all of the session's
    attempts into a hash for every save batch (10,000 rows) and walked all
    open attempts for every submit batch. Here the plans are made with two
    students, then 3,000 more attempts appear (not
    analysed: autovacuum is held off for the table), then 40 students sit
    the exam in a second session of the same test, where the 3,000 are:
    the rows read from `attempts` stay a few per request."""
    from harness import Server
    fx = env.cli("bench-fixture", "--students", "3100", "--school", "BENCHS",
                 env={"KIEMTRA_BENCH_PASSWORD": PW})
    session = fx.stdout.strip()
    assert session.isdigit(), fx.stdout
    env.cluster.psql("ALTER TABLE attempts SET (autovacuum_enabled = false)")
    s = Server(env)
    try:
        def bench(sid, students):
            p = env.cli("bench", "--url", f"http://127.0.0.1:{s.port}", "--session", sid,
                        "--students", str(students), "--school", "BENCHS", "--window", "1",
                        "--duration", "2", "--think-ms", "100", "--password", PW, "--json",
                        # (issuing exam login codes reads the session's attempts once)
                        "--login", "password", check=False)
            assert p.returncode == 0, p.stderr
            d = json.loads(p.stdout)
            assert d["ok"] and d["lost_answers"] == 0, d
            return d
        bench(session, 2)  # the first saves and submits make the plans
        # A second session of the same test, where students 41..3040
        # started long ago and are still working.
        later = env.cluster.psql(
            "WITH se AS (INSERT INTO sessions (school_id, test_id, opens_at, closes_at, created_by)"
            "  SELECT school_id, test_id, opens_at, closes_at, created_by FROM sessions"
            f"  WHERE id = {session} RETURNING id, school_id),"
            " sc AS (INSERT INTO session_classes (session_id, class_id, school_id)"
            f"  SELECT se.id, sc.class_id, se.school_id FROM se, session_classes sc"
            f"  WHERE sc.session_id = {session})"
            " SELECT id FROM se")
        env.cluster.psql(
            "INSERT INTO attempts (school_id, session_id, student_id, form_id, deadline)"
            " SELECT se.school_id, se.id, u.id, f.id, now() + interval '1 hour'"
            " FROM sessions se JOIN users u ON u.school_id = se.school_id"
            "  AND u.username BETWEEN 'benchs00041' AND 'benchs03040'"
            " JOIN test_forms f ON f.test_id = se.test_id AND f.form_index = 0"
            f" WHERE se.id = {later}")
        assert env.cluster.psql("SELECT count(*) FROM attempts"
                                f" WHERE session_id = {later}") == "3000"
        before = _attempt_rows_read(env)
        d = bench(later, 40)
    finally:
        assert s.stop() == 0
        env.cluster.psql("ALTER TABLE attempts RESET (autovacuum_enabled)")
    # A backend's counts reach the statistics when it ends (bounded wait).
    deadline = time.time() + 10
    while env.cluster.psql("SELECT count(*) FROM pg_stat_activity"
                           " WHERE usename = 'kiemtra_app'") != "0" and time.time() < deadline:
        time.sleep(0.1)
    requests = sum(d["ops"][k]["count"] for k in ("start", "save", "submit", "verify"))
    read = _attempt_rows_read(env) - before
    assert requests >= 40 * 10, d["ops"]
    assert read < 20 * requests, (read, requests)


def _bench_sh(env, extra):
    e = dict(os.environ, STUDENTS="24", WINDOW="1", DURATION="2", THINK_MS="200",
             PGBENCH_SECS="0", **extra)
    return subprocess.run([os.path.join(ROOT, "scripts/bench.sh"),
                           os.path.relpath(os.path.dirname(env.binary), ROOT)], env=e, capture_output=True,
                          text=True, timeout=300)


def test_bench_sh_slower_machine_by_a_cpu_cgroup(env):
    """`CPU_CORES` runs the exam's server side in a CPU cgroup (a slower
    machine): bad values are refused before anything is made; a good one
    runs the exam, says so, and leaves no cgroup and no cluster behind."""
    made = set(glob.glob(os.path.join(ROOT, "var", "bench-*")))
    for extra, msg in (({"CPU_CORES": "many"}, "CPU_CORES: a number of cores"),
                       ({"CPU_CORES": "0"}, "CPU_CORES: a number of cores"),
                       ({"CPU_CORES": "1", "CPU_SCOPE": "half"}, "CPU_SCOPE: all or server")):
        p = _bench_sh(env, extra)
        assert p.returncode == 2 and msg in p.stderr, (extra, p.returncode, p.stderr[-500:])
    assert set(glob.glob(os.path.join(ROOT, "var", "bench-*"))) == made
    v2, v1 = "/sys/fs/cgroup/cgroup.subtree_control", "/sys/fs/cgroup/cpu/cgroup.procs"
    p = _bench_sh(env, {"CPU_CORES": "1.5", "CPU_SCOPE": "server"})
    if os.access(v2, os.W_OK) or os.access(v1, os.W_OK):
        assert p.returncode == 0, p.stderr[-2000:]
        assert "(CPU capped to 1.5 cores: server)" in p.stdout, p.stdout
        # The server side ran in the cgroup: it counted periods of its quota.
        periods = re.search(r"^cpu cgroup: .*\bnr_periods (\d+)", p.stdout, re.M)
        assert periods and int(periods.group(1)) > 0, p.stdout
        assert "lost answers 0" in p.stderr and "-> ok" in p.stderr, p.stderr[-2000:]
        # What each part spent: counted (a database and a server that did
        # the exam's work), and the capped side within its cap.
        cpu = re.search(r"^cpu during the bench \((\d+) s\): PostgreSQL ([\d.]+) s, server ([\d.]+) s,"
                        r" load generator ([\d.]+) s$", p.stdout, re.M)
        assert cpu, p.stdout
        wall, pg, server, load = int(cpu.group(1)), *map(float, cpu.group(2, 3, 4))
        assert pg > 0 and server > 0 and load >= 0, cpu.group(0)
        assert pg + server <= 1.5 * (wall + 1), cpu.group(0)
        left = glob.glob("/sys/fs/cgroup/kiemtra-bench-*") + \
            glob.glob("/sys/fs/cgroup/cpu/kiemtra-bench-*")
        assert left == [], left
    else:  # no cgroup to write: a clear refusal
        assert p.returncode == 2 and "writable cgroup" in p.stderr, p.stderr[-500:]
    assert set(glob.glob(os.path.join(ROOT, "var", "bench-*"))) == made
