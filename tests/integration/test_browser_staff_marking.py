"""Marking essays through the queue with the keyboard, releasing with answers
and explanations, and the student's per-question review, in Debian's
headless Chromium against the real server with the `kiemtra demo` school.

This side publishes a test of two choice questions and two essays for 10A1,
has three students answer (their essays saved through the API) and submit;
tests/browser/staff_marking.mjs marks the essays of the three students with
the keyboard only, releases with the explanations, and logs in as a student
to read the review. Then the database is checked against what the page
reported: every mark and comment stored, the attempts totalled, the release
level stored. Screenshots (marking-queue, marking, student-review at 1366
and 390 px) go to BUILD/screenshots.
"""
import json
import os
import tempfile
import time

from browser_run import in_own_cluster, run_script, screenshots

NODE_TIMEOUT = 240
STUDENTS = 3


def test_staff_marking_in_chromium(shared_env):
    # Its own cluster: the marks and the release change the demo school.
    in_own_cluster(shared_env, _test_staff_marking_in_chromium)


def _test_staff_marking_in_chromium(env):
    s = env.main_server()
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    creds_path = os.path.join(tmp, "demo-credentials.json")
    env.cli("demo", "--credentials", creds_path)
    creds = json.load(open(creds_path))
    gv = s.login(creds["teacher"]["username"], creds["teacher"]["password"])
    test = {"title": "Kiểm tra tự luận — Toán 10", "subject": "TOAN", "grade": 10, "kind": "tx",
            "duration_seconds": 1200, "forms": 2, "blueprint": [
                {"node": "VN18.TOAN.10", "level": "MD.B", "format": "DT.NLC", "count": 2,
                 "points": "0.5"},
                {"node": "VN18.TOAN.10", "level": "MD.V", "format": "DT.TL", "count": 2,
                 "points": "1.5"}]}
    r = s.request("POST", "/api/v1/tests", test, gv)
    assert r.status == 201, r
    tid = r.json()["id"]
    assert s.request("POST", f"/api/v1/tests/{tid}/publish", token=gv).status == 200
    cls = int(env.cluster.psql("SELECT id FROM classes WHERE name = '10A1'"))
    now = time.time()
    win = {"class_ids": [cls],
           "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
           "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, gv)
    assert r.status == 201, r
    sid = r.json()["id"]
    items = {}
    for x in s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()["items"]:
        items[x["item_ref"]] = s.request("GET", f"/api/v1/items/{x['item_id']}", token=gv).json()
    essays = sorted(r for r, it in items.items() if it["kind"] == "ESSAY")
    assert len(essays) == 2, items
    attempts = []
    for n, st in enumerate(creds["students"][:STUDENTS]):
        tok = s.login(st["username"], st["password"])
        a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
        attempts.append(a["id"])
        seq = 0
        for it in a["payload"]["items"]:
            seq += 1
            item = items[it["ref"]]
            first = it["ref"] == min(r for r in items if r not in essays)
            if item["kind"] == "MCQ4":  # student 0 right, the others wrong on the first
                key = item["scoring"]["key"]
                wrong = next(o["id"] for o in it["options"] if o["id"] != key)
                value = wrong if n and first else key
            elif item["kind"] == "MR":
                keys = item["scoring"]["keys"]
                wrong = [next(o["id"] for o in it["options"] if o["id"] not in keys)]
                value = wrong if n and first else keys
            else:
                assert item["kind"] == "ESSAY", item["kind"]
                value = f"Bài làm câu {it['ref']} của {st['username']}:\nA ∩ B = [2; 4) <đúng>"
            r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{it['ref']}",
                          {"response": value, "seq": seq}, tok)
            assert r.status == 200, r
        assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).status == 200
        s.wait_scored(a["id"], tok)

    shots = screenshots(env)
    essays_env = json.dumps([{"ref": ref, "criteria": [
        c["points"] for c in items[ref]["scoring"]["rubric"]]} for ref in essays])
    out = run_script(env, s, "staff_marking.mjs", {
        "KT_CREDS": creds_path, "KT_SESSION": str(sid), "KT_STUDENTS": str(STUDENTS),
        "KT_ESSAYS": essays_env}, NODE_TIMEOUT)
    done = json.loads(next(l for l in out.splitlines() if l.startswith("@@ "))[3:])

    # Every answer marked as typed, with its comment; every attempt totalled.
    assert len(done["marks"]) == STUDENTS * len(essays), done["marks"]
    ids = ",".join(str(a) for a in attempts)
    rows = env.cluster.psql(
        "SELECT x.item_ref, x.state, x.detail->'criteria', x.detail->>'comment' FROM attempt_scores x"
        f" WHERE x.attempt_id IN ({ids}) AND x.item_ref IN ('{essays[0]}', '{essays[1]}')"
        " ORDER BY x.item_ref, x.detail->>'comment'").splitlines()
    got = sorted((r.split("|")[0], r.split("|")[1], json.loads(r.split("|")[2]), r.split("|")[3])
                 for r in rows)
    want = sorted((m["ref"], "marked", m["given"], m["comment"]) for m in done["marks"])
    assert got == want, (got, want)
    assert env.cluster.psql(f"SELECT count(*) FROM attempts WHERE id IN ({ids})"
                            " AND NOT needs_marking AND score IS NOT NULL") == str(STUDENTS)
    assert env.cluster.psql(f"SELECT count(*) FROM audit_log WHERE action = 'attempt.mark'"
                            f" AND entity_id IN ({','.join(repr(str(a)) for a in attempts)})") \
        == str(STUDENTS * len(essays))
    assert env.cluster.psql(f"SELECT release_show FROM sessions WHERE id = {sid}") == \
        "explanations"
    assert done["review"] == 4, done
