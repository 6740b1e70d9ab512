"""The live monitor and the exam-room controls in Debian's headless
Chromium against the real server with the `kiemtra demo` school.

tests/browser/staff_monitor.mjs (playwright-core) drives the pages: the
teacher turns on the access code of the demo session and watches the
monitor while 20 students of 10A1 start (with the code) and save through the
API; the table moves them from "Chưa vào" to "Đang làm" with their answered
counts; the teacher gives one 10 more minutes, submits another's attempt on
their behalf and reopens it with a reason; a student confirms the start on
the student page with the code. Screenshots at 1366×768 and 390×844 go to
BUILD/screenshots. This side checks the database against what the page did.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

from harness import ROOT, Env
from test_browser import _stop_group

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")
NODE_TIMEOUT = 300


def test_staff_monitor_in_chromium(shared_env):
    # Its own cluster: the screens change the demo session and its attempts.
    env = Env(os.path.dirname(shared_env.binary))
    try:
        _test_staff_monitor_in_chromium(env)
    finally:
        env.close()


def _test_staff_monitor_in_chromium(env):
    s = env.main_server()
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    creds_path = os.path.join(tmp, "demo-credentials.json")
    env.cli("demo", "--credentials", creds_path)
    sid = int(env.cluster.psql("SELECT min(id) FROM sessions"))
    setup = subprocess.run([os.path.join(BROWSER_DIR, "setup.sh")], capture_output=True,
                           text=True, timeout=300)
    assert setup.returncode == 0, f"tests/browser/setup.sh failed:\n{setup.stdout}{setup.stderr}"
    shots = os.environ.get("KT_SHOTS") or os.path.join(os.path.dirname(env.binary),
                                                       "screenshots")
    os.makedirs(shots, exist_ok=True)
    e = dict(os.environ)
    e.update({"KT_URL": f"http://127.0.0.1:{s.port}", "KT_CREDS": creds_path,
              "KT_SESSION": str(sid), "KT_SHOTS": shots,
              "KT_PROFILE": tempfile.mkdtemp(prefix="chromium-", dir=env.cluster.dir)})
    t0 = time.time()
    proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "staff_monitor.mjs")], env=e,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        out, _ = proc.communicate()
        raise AssertionError("staff_monitor.mjs timed out:\n" + out)
    finally:
        _stop_group(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"staff_monitor.mjs: {time.time() - t0:.1f}s", flush=True)
    assert proc.returncode == 0 and "ALL OK" in out, f"staff_monitor.mjs exited {proc.returncode}:\n{out}"
    done = [json.loads(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]
    assert len(done) == 1 and done[0]["event"] == "done", out
    f = done[0]
    q = env.cluster.psql

    # The code the page showed is the session's, and was audited.
    assert q(f"SELECT access_code FROM sessions WHERE id = {sid}") == f["code"]
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'session.room'"
             f" AND entity_id = '{sid}'") == "1"
    # 20 students through the API and the one on the student page.
    assert q(f"SELECT count(*) FROM attempts WHERE session_id = {sid}") == "21"
    assert q(f"SELECT count(*) FROM attempts a JOIN users u ON u.id = a.student_id"
             f" WHERE a.session_id = {sid} AND u.username = '{f['code_student']}'") == "1"
    # Extra time, force submit and reopen as the page did them, audited.
    ea, ra = int(f["extra_attempt"]), int(f["reopened_attempt"])
    assert q(f"SELECT extra_seconds FROM attempts WHERE id = {ea}") == "600"
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'attempt.extra_time'"
             f" AND entity_id = '{ea}'") == "1"
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'attempt.force_submit'"
             f" AND entity_id = '{ra}'") == "1"
    assert q(f"SELECT new_value->>'reason' FROM audit_log WHERE action = 'attempt.reopen'"
             f" AND entity_id = '{ra}'") == "Em bấm nộp nhầm khi máy bị treo"
    assert q(f"SELECT status, scored_at IS NULL FROM attempts WHERE id = {ra}") == "in_progress|t"
    for name in ("session-room", "monitor", "monitor-extra-dialog", "monitor-reopen-dialog"):
        for width in (1366, 390):
            assert os.path.exists(os.path.join(shots, f"{name}-{width}.png")), (name, width)
    assert os.path.exists(os.path.join(shots, "student-start-code-390.png"))
