"""The student page's safety rules in headless Chromium against the real server.

tests/browser/safety.mjs drives the page (the line protocol of
test_browser.py: `@@ {"event": ...}` checkpoints answered after checking the
database). It checks that item HTML is cleaned on the page (SVG animation
writing a javascript: href, style attributes covering the page), that
"Quay lại làm tiếp" calls off a submit still waiting for pending saves, that
logging out and submitting leave no answer in localStorage, and that a linear
QTI test reaches the page one item at a time.

School BRS-A (its own province): a teacher, a subject head, class 10S1 of
two students, a nonlinear test from three demo items and the linear and
nonlinear QTI tests of test_linear_delivery.py, each with an open session.
"""
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time

from harness import ROOT
from test_browser import BROWSER_DIR, _reader, _stop_group
from test_foundation import _read_logins, _roster_csv, _write
from test_linear_delivery import publish_sessions

PW = "mat-khau-an-toan"
SCHOOL = "BRS-A"
TITLE = "Kiểm tra an toàn trang làm bài"
NODE_TIMEOUT = 150


def _setup(env):
    s = env.main_server()
    env.cli("schools", "add", SCHOOL, "Trường THPT An Toàn", "--province", "BRS",
            "Sở thử nghiệm an toàn")
    for username, role in (("gv.brs", "teacher"), ("tt.brs", "subject_head")):
        env.cli("users", "add", "--username", username, "--full-name", "Cô " + username,
                "--role", role, "--school", SCHOOL, "--subject", "TOAN",
                env={"KIEMTRA_NEW_PASSWORD": PW})
    tmp = tempfile.mkdtemp()
    rows = [[f"BRS{i:03d}", f"Trần Văn An {i}", "05/06/2010", "Nam", "10S1"] for i in (1, 2)]
    path = _write(tmp, "10s1.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", SCHOOL, "--year", "2026-2027")
    students = [(r[0], r[1]) for r in _read_logins(path + ".logins.csv")]
    shutil.rmtree(tmp, ignore_errors=True)
    # Both teach TOAN to 10S1 (teaching assignments bound their writes).
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     " SELECT u.school_id, u.id, 'TOAN', c.id FROM users u JOIN classes c"
                     " ON c.school_id = u.school_id AND c.name = '10S1'"
                     " WHERE u.username IN ('gv.brs', 'tt.brs') ON CONFLICT DO NOTHING")
    gv, tt = s.login("gv.brs", PW), s.login("tt.brs", PW)
    with open(os.path.join(ROOT, "demo", "items-toan10.json"), encoding="utf-8") as f:
        bank = [it for it in json.load(f) if it["outcome"].startswith("VN18.TOAN.10.SDS.")]
    picks = [it for it in bank if it["kind"] == "MCQ4" and it["level"] == "MD.B"][:2]
    picks += [it for it in bank if it["kind"] == "SHORT" and it["level"] == "MD.V"][:1]
    for it in picks:
        r = s.request("POST", "/api/v1/items", dict(it, identifier="BRS-" + it["identifier"]), gv)
        assert r.status == 201, r
        iid = r.json()["id"]
        for tok, status in ((gv, "submitted"), (tt, "approved")):
            assert s.request("PATCH", f"/api/v1/items/{iid}", {"status": status},
                             tok).status == 200
    cls = int(env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                               f" WHERE s.code = '{SCHOOL}' AND c.name = '10S1'"))
    blueprint = [{"node": "VN18.TOAN.10.SDS", "level": "MD.B", "format": "DT.NLC", "count": 2,
                  "points": "1"},
                 {"node": "VN18.TOAN.10.SDS", "level": "MD.V", "format": "DT.TLN", "count": 1,
                  "points": "1"}]
    body = {"title": TITLE, "subject": "TOAN", "grade": 10, "kind": "tx",
            "duration_seconds": 1800, "forms": 1, "blueprint": blueprint}
    r = s.request("POST", "/api/v1/tests", body, gv)
    assert r.status == 201, r
    tid = r.json()["id"]
    assert s.request("POST", f"/api/v1/tests/{tid}/publish", token=gv).status == 200
    now = time.time()
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    win = {"class_ids": [cls], "opens_at": time.strftime(fmt, time.gmtime(now - 60)),
           "closes_at": time.strftime(fmt, time.gmtime(now + 3600))}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, gv)
    assert r.status == 201, r
    publish_sessions(s, gv, cls)
    return s, students


def _attempt(env, aid):
    status = env.cluster.psql(f"SELECT status FROM attempts WHERE id = {int(aid)}")
    rows = env.cluster.psql(f"SELECT item_ref, response::text, coalesce(position, 0)"
                            f" FROM responses WHERE attempt_id = {int(aid)}")
    answers = {}
    for line in rows.splitlines():
        ref, resp, pos = line.split("|")
        answers[ref] = {"response": json.loads(resp), "position": int(pos)}
    return status, answers


def test_student_page_safety_in_chromium(env):
    s, students = _setup(env)
    user, password = students[0]
    setup = subprocess.run([os.path.join(BROWSER_DIR, "setup.sh")], capture_output=True,
                           text=True, timeout=300)
    assert setup.returncode == 0, f"tests/browser/setup.sh failed:\n{setup.stdout}{setup.stderr}"
    shots = os.environ.get("KT_SHOTS") or os.path.join(os.path.dirname(env.binary),
                                                       "screenshots")
    os.makedirs(shots, exist_ok=True)
    e = dict(os.environ)
    e.update({"KT_URL": f"http://127.0.0.1:{s.port}", "KT_USER": user, "KT_PASSWORD": password,
              "KT_SESSION_TITLE": TITLE, "KT_LINEAR_TITLE": "Đề linear — lần lượt",
              "KT_SHOTS": shots,
              "KT_PROFILE": tempfile.mkdtemp(prefix="chromium-", dir=env.cluster.dir)})
    t0 = time.time()
    proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "safety.mjs")], env=e,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1,
                            start_new_session=True)
    lines, out = queue.Queue(), []
    threading.Thread(target=_reader, args=(proc.stdout, lines, out), daemon=True).start()
    seen = []
    try:
        deadline = time.time() + NODE_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.time()))
            except queue.Empty:
                raise AssertionError("safety.mjs timed out:\n" + "".join(out))
            if line is None:
                break
            if not line.startswith("@@ "):
                continue
            ev = json.loads(line[3:])
            kind = ev["event"]
            status, answers = _attempt(env, ev["attempt"])
            got = {ref: a["response"] for ref, a in answers.items()}
            if kind == "not_submitted":
                # "Quay lại làm tiếp" called the submit off; the saves arrived.
                assert status == "in_progress", (status, "".join(out))
                assert got == ev["answers"], (got, ev["answers"], "".join(out))
            elif kind == "submitted":
                assert status == "submitted", (status, "".join(out))
            elif kind == "linear":
                # Answered, skipped (null); nothing saved beyond.
                assert status == "in_progress", status
                assert got == ev["answers"], (got, ev["answers"], "".join(out))
                assert sorted(a["position"] for a in answers.values()) == \
                    list(range(1, len(answers) + 1)), answers
            else:
                raise AssertionError(f"unknown event {ev}")
            seen.append(kind)
            proc.stdin.write(json.dumps({"ok": True}) + "\n")
            proc.stdin.flush()
        rc = proc.wait(timeout=10)
    finally:
        _stop_group(proc)
    text = "".join(out)
    print(f"safety.mjs: {time.time() - t0:.1f}s", flush=True)
    assert rc == 0, f"safety.mjs exited {rc}:\n{text}"
    assert "ALL OK" in text, text
    assert seen == ["not_submitted", "submitted", "linear", "linear"], (seen, text)
