"""Many gateways and a PostgreSQL failover (scripts/ha/ha.py), reduced.

- A gateway whose connections reach a read-only server (a standby, a demoted
  primary) answers 503, drops those connections and, once a writable server
  is there, works again by itself.
- Two gateways behind HAProxy, PostgreSQL managed by Patroni (a primary and a
  synchronous standby, etcd): an exam through `kiemtra bench --retry` while
  one gateway is killed (-9) and restarted, then the primary is killed (-9):
  the standby is promoted, the gateways reconnect by themselves, every
  acknowledged save is there (read back by the bench), no attempt or
  response is duplicated, the old primary rejoins as the synchronous standby
  (pg_rewind), the outbox sends every record version exactly once, and a
  base backup plus the archived WAL restores the same responses. Counts
  only: no timing is asserted.
"""
import os
import signal
import sys
import time

from harness import ROOT, Server, free_port
from test_records import _receiver, _rx

sys.path.insert(0, os.path.join(ROOT, "scripts", "ha"))
import ha  # noqa: E402

STUDENTS = 200
RECORDS = 40


def test_read_only_server_gives_503_then_the_pool_reconnects(env):
    env.cli("schools", "add", "FOV", "Trường Thử Failover", "--province", "01")
    env.cli("users", "add", "--username", "fov.gv", "--full-name", "Giáo viên Failover",
            "--role", "teacher", "--school", "FOV", env={"KIEMTRA_NEW_PASSWORD": "Fov-pass-1234"})
    body = {"username": "fov.gv", "password": "Fov-pass-1234"}
    env.cluster.psql("ALTER DATABASE kiemtra SET default_transaction_read_only = on",
                     db="postgres")
    s = None
    try:
        # Every connection of this gateway opens read-only, as on a standby.
        s = Server(env, {"KIEMTRA_LOGIN_MAX_FAILS_ADDR": "100000"})
        r = s.request("POST", "/api/v1/auth/login", body)
        assert r.status == 503, r  # not 500: the client retries
        assert r.json()["error"]["code"], r
        env.cluster.psql("ALTER DATABASE kiemtra RESET default_transaction_read_only",
                         db="postgres")
        # The connections that met the read-only server were dropped; the new
        # ones are writable. The old ones would refuse every write forever.
        ha.until("a login once the server is writable",
                 lambda: s.request("POST", "/api/v1/auth/login", body).status == 200, 30, 0.3)
        # A connection opened before the reset is still read-only until it
        # meets a write: each answers 503 once, is dropped, and after that
        # every connection of the pool, in turn, is writable.
        ok, dropped = 0, 0
        for _ in range(60):
            r = s.request("POST", "/api/v1/auth/login", body)
            if r.status == 200:
                ok += 1
                if ok == 12:
                    break
            else:
                assert r.status == 503, r
                ok, dropped = 0, dropped + 1
        assert ok == 12 and dropped <= 16, (ok, dropped)
    finally:
        env.cluster.psql("ALTER DATABASE kiemtra RESET default_transaction_read_only",
                         db="postgres")
        if s:
            s.stop()


def _outbox(h, version):
    school = h.psql("SELECT id FROM schools WHERE code = 'BENCH'")
    student = h.psql("SELECT min(id) FROM users WHERE username LIKE 'bench%'")
    h.psql("INSERT INTO csdl_outbox AS o (record_id, school_id, student_id, version, event,"
           " payload)"
           f" SELECT 'FOV-' || n, {school}, {student}, {version}, 'NEW',"
           " jsonb_build_object('ma_truong', 'BENCH', 'ma_hoc_sinh', 'FOV' || n,"
           " 'nam_hoc', (2100 + n) || '-' || (2101 + n), 'hoc_ky', 1)"
           f" FROM generate_series(1, {RECORDS}) n"
           f" ON CONFLICT (record_id) DO UPDATE SET version = {version}, event = 'UPDATE',"
           " payload = EXCLUDED.payload, next_attempt_at = now(), attempts = 0")
    ha.until(f"outbox version {version} delivered", lambda: h.psql(
        "SELECT count(*) FROM csdl_outbox WHERE record_id LIKE 'FOV-%'"
        f" AND accepted_version = {version}") == str(RECORDS), 90, 0.5)


def test_failover_loses_no_acknowledged_save(env):
    rxport = free_port()
    rx = _receiver(rxport, os.path.join(env.cluster.dir, "fake-csdl-failover.json"))
    h = ha.HA(os.path.dirname(env.binary), gateways=2, workers=1, db_pool=3,
              gateway_env={"KIEMTRA_CSDL_URL": f"http://127.0.0.1:{rxport}/records",
                           "KIEMTRA_CSDL_INTERVAL": "1", "KIEMTRA_CSDL_TIMEOUT": "5",
                           "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0"})
    try:
        h.start(STUDENTS)
        _outbox(h, 1)
        fig = ha.failover_scenario(h, STUDENTS, window=3, duration=30, think_ms=500)
        print(fig)
        assert ha.check_failover(fig, STUDENTS) == [], fig
        assert fig["bench"]["saves_acknowledged"] > STUDENTS, fig
        assert fig["bench"]["retried"].get("save", 0) > 0, "no save met the faults"
        _outbox(h, 2)
        got = _rx(rxport, "/state")
        ours = [tuple(x) for x in got["accepted"] if x[0].startswith("FOV-")]
        assert len(ours) == 2 * RECORDS and len(set(ours)) == len(ours), ours
        assert got["duplicates"] == 0 and got["regressions"] == 0, got
        # The expiry leader: attempts past their deadline are submitted once,
        # by one of the gateways.
        sid = h.session
        h.psql(f"UPDATE attempts SET status = 'in_progress', submitted_at = NULL,"
               f" submitted_by = NULL, deadline = now() WHERE session_id = {sid}"
               f" AND id IN (SELECT id FROM attempts WHERE session_id = {sid} LIMIT 5)")
        ha.until("the expiry leader to submit the 5 attempts", lambda: h.psql(
            f"SELECT count(*) FROM attempts WHERE session_id = {sid}"
            " AND submitted_by = 'auto' AND status = 'submitted'") == "5", 60, 0.5)
    finally:
        rx.send_signal(signal.SIGTERM)
        rx.wait(timeout=10)
        h.close()
