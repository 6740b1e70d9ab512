"""GET /healthz, what HAProxy checks to keep a gateway in rotation, answers
from the database without waiting behind the queries already queued: during
a login or start storm the pool's queue is long but the gateway works, and a
health check that waited behind it timed out (HAProxy's check timeout) and
took every gateway out of rotation at once, HAProxy answering the students
503 itself (docs/SCALE.md)."""
import re
import subprocess
import threading
import time

from harness import Server

QUEUED = 40  # requests queued before the health check (8 in flight, the rest waiting)


def _metric(server, name):
    text = server.request("GET", "/metrics").body.decode()
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(m.group(1)) if m else 0


def test_healthz_does_not_wait_behind_the_queue(env):
    env.cli("schools", "add", "HLZ", "Trường Thử Healthz", "--province", "01")
    env.cli("users", "add", "--username", "hlz.gv", "--full-name", "Giáo viên Healthz",
            "--role", "teacher", "--school", "HLZ", env={"KIEMTRA_NEW_PASSWORD": "Hlz-pass-1234"})
    # One worker, one connection: the queue is the only way past a busy pool.
    s = Server(env, {"KIEMTRA_WORKERS": "1", "KIEMTRA_DB_POOL": "1",
                     "KIEMTRA_DB_TIMEOUT_MS": "20000"})
    locker = None
    try:
        token = s.login("hlz.gv", "Hlz-pass-1234")
        assert s.request("GET", "/api/v1/me", token=token).status == 200
        # A transaction holds `users`: every GET /me waits on it, first the
        # ones pipelined on the connection, then the queued ones.
        locker = subprocess.Popen(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1",
                                   env.cluster.url("kiemtra")],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        locker.stdin.write("BEGIN;\nLOCK TABLE users IN ACCESS EXCLUSIVE MODE;\n"
                           "SELECT 'locked';\n")
        locker.stdin.flush()
        line = locker.stdout.readline().strip()
        assert line == "locked", line

        order, lock = [], threading.Lock()

        def call(name, path, tok):
            r = s.request("GET", path, token=tok, timeout=60)
            with lock:
                order.append((name, r.status))

        threads = [threading.Thread(target=call, args=(f"me{i}", "/api/v1/me", token))
                   for i in range(QUEUED)]
        for t in threads:
            t.start()
        deadline = time.time() + 20
        while _metric(s, "kiemtra_db_pool_waiting") < QUEUED - 8:
            assert time.time() < deadline, "the requests did not queue"
            time.sleep(0.05)
        health = threading.Thread(target=call, args=("healthz", "/healthz", None))
        health.start()
        # The check is in the pool's queue (at its head), whatever the
        # machine's speed: a fixed pause let it arrive after the COMMIT.
        while _metric(s, "kiemtra_db_pool_waiting") < QUEUED - 8 + 1:
            assert time.time() < deadline and health.is_alive(), "the check did not queue"
            time.sleep(0.02)
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(timeout=20)
        locker = None
        for t in threads + [health]:
            t.join(60)
        assert len(order) == QUEUED + 1, order
        assert all(st == 200 for _, st in order), order
        at = [n for n, _ in order].index("healthz")
        # Behind at most the 8 queries pipelined on the connection (and the
        # odd reply that overtakes it on the way back): not behind the queue.
        assert at <= 12, f"/healthz answered {at + 1}th of {len(order)}: it waited in the queue"
    finally:
        if locker:
            locker.kill()
            locker.wait()
        s.stop()
