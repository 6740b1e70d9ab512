"""Learner records through the real server: a test taken by students, its
results published into ĐĐGgk, teachers' edits, the computed ĐTBmhk, exports
(.xlsx read back from its XML, .csv, JSON exchange records), the số định
danh (validated, encrypted, school_admin only), the semester lock, and the
outbox delivering every record to a fake CSDL endpoint through failures, a
hang and a restart."""
import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from decimal import ROUND_HALF_UP, Decimal

from harness import ROOT, Server, free_port
from test_delivery import PW, _published_session, _setup

YEAR = "2026-2027"


def _school_admin(env, s):
    if env.cluster.psql("SELECT count(*) FROM users WHERE username = 'bgh.dlv'") == "0":
        env.cli("users", "add", "--username", "bgh.dlv", "--full-name", "Hiệu trưởng DLV",
                "--role", "school_admin", "--school", "DLV-A", env={"KIEMTRA_NEW_PASSWORD": PW})
    return s.login("bgh.dlv", PW)


def _half_up(x, places="0.1"):
    return Decimal(x).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _taken_and_published(env, s, st, semester):
    """Three students answer the first MCQ (right, right, wrong) and submit;
    the results go into ĐĐGgk. Returns {student_id: expected tenths}."""
    tid, sid = _published_session(s, st)
    test = s.request("GET", f"/api/v1/tests/{tid}", token=st["tok"]["gv"]).json()
    expected = {}
    for k, u in enumerate(st["students"][:3]):
        tok = st["tok"][u]
        a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
        mcq = next(i for i in a["payload"]["items"] if i["kind"] == "MCQ4")
        item = s.request("GET", "/api/v1/items/" + str(next(
            x["item_id"] for x in test["items"] if x["item_ref"] == mcq["ref"])),
            token=st["tok"]["gv"]).json()
        key = item["scoring"]["key"]
        answer = key if k < 2 else next(o["id"] for o in mcq["options"] if o["id"] != key)
        assert s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{mcq['ref']}",
                         {"response": answer, "seq": 1}, tok).status == 200
        r = s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).json()
        view = s.wait_scored(a["id"], st["tok"]["gv"])
        score, mx = Decimal(view["result"]["score"]), Decimal(view["result"]["max_score"])
        sid_student = int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{u}'"))
        expected[sid_student] = int(_half_up(score / mx * 10) * 10)
        assert r["status"] == "submitted"
    body = {"slot": "gk", "school_year": YEAR, "semester": semester}
    r = s.request("POST", f"/api/v1/sessions/{sid}/publish", body, st["tok"]["gv"])
    assert r.status == 200 and r.json()["updated"] == 3, r
    return sid, expected


def _records(s, st, semester, tok=None):
    r = s.request("GET", f"/api/v1/classes/{st['class_id']}/records?year={YEAR}"
                  f"&semester={semester}&subject=TOAN", token=tok or st["tok"]["gv"])
    assert r.status == 200, r
    return {x["id"]: x for x in r.json()["students"]}


def _edit(s, st, student, slot, value, semester=1, tok=None):
    return s.request("PUT", f"/api/v1/classes/{st['class_id']}/records",
                     {"student_id": student, "subject": "TOAN", "school_year": YEAR,
                      "semester": semester, "slot": slot, "value": value},
                     tok or st["tok"]["gv"])


def _xlsx_rows(data):
    """Rows of the first sheet as lists of strings (shared strings resolved)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        xml = z.read("xl/sharedStrings.xml").decode()
        for si in re.findall(r"<si>(.*?)</si>", xml, re.S):
            shared.append("".join(re.findall(r"<t[^>]*>(.*?)</t>", si, re.S)))
    sheet = z.read("xl/worksheets/sheet1.xml").decode()
    rows = []
    for row in re.findall(r"<row[^>]*>(.*?)</row>", sheet, re.S):
        cells = []
        for attrs, inner in re.findall(r"<c([^>]*)>(.*?)</c>", row, re.S):
            v = re.search(r"<v>(.*?)</v>", inner)
            val = v.group(1) if v else ""
            if 't="s"' in attrs:
                val = shared[int(val)]
            cells.append(val)
        rows.append(cells)
    return rows


def test_publish_edit_compute_export_lock(env):
    s, st = _setup(env)
    sid, expected = _taken_and_published(env, s, st, 1)
    rec = _records(s, st, 1)
    for student, tenths in expected.items():
        assert rec[student]["marks"]["gk"] == str(tenths), (rec[student], tenths)
        assert rec[student]["result"]["status"] == "incomplete", rec[student]
    audits = env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'record.publish'")
    assert int(audits) >= 3, audits
    a, b = sorted(expected)[:2]
    # A teacher fills the regular marks and the end-of-term mark of one student.
    for slot, v in (("tx1", "8"), ("tx2", "7"), ("tx3", "9"), ("tx4", "6,5"), ("ck", "9.0")):
        r = _edit(s, st, a, slot, v)
        assert r.status == 200, r
    rec = _records(s, st, 1)
    gk = Decimal(expected[a]) / 10
    want = _half_up((Decimal("30.5") + 2 * gk + 27) / 9)
    assert rec[a]["result"]["status"] == "ok" and rec[a]["result"]["value"] == str(int(want * 10)), \
        (rec[a], want)
    assert rec[a]["result"]["ruleset"] == "TT22-2021", rec[a]
    for bad in ("7,55", "11", "abc"):
        r = _edit(s, st, a, "tx1", bad)
        assert r.status == 422 and r.json()["error"]["code"] == "invalid_mark", (bad, r)
    assert _edit(s, st, a, "tx5", "7").status == 422
    assert _edit(s, st, a, "tx1", "7", tok=st["tok"][st["students"][0]]).status == 403
    # A manual mark in the gk slot stands when the session is published again.
    assert _edit(s, st, b, "gk", "4,5").status == 200
    r = s.request("POST", f"/api/v1/sessions/{sid}/publish",
                  {"slot": "gk", "school_year": YEAR, "semester": 1}, st["tok"]["gv"])
    assert r.status == 200 and r.json()["manual_kept"] == 1 and r.json()["updated"] == 0, r
    assert _records(s, st, 1)[b]["marks"]["gk"] == "45"
    bad_slot = s.request("POST", f"/api/v1/sessions/{sid}/publish",
                         {"slot": "tx9", "school_year": YEAR, "semester": 1}, st["tok"]["gv"])
    assert bad_slot.status == 422, bad_slot

    # Exports: .xlsx read back from its XML, .csv with a BOM and decimal comma, JSON.
    q = f"/api/v1/exports/records?class_id={st['class_id']}&year={YEAR}&semester=1&subject=TOAN"
    x = s.request("GET", q + "&format=xlsx", token=st["tok"]["gv"])
    assert x.status == 200 and x.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats"), x
    rows = _xlsx_rows(x.body)
    header = next(r for r in rows if r and r[0] == "STT")
    assert header == ["STT", "Mã học sinh", "Họ và tên", "Ngày sinh", "ĐĐGtx1", "ĐĐGtx2",
                      "ĐĐGtx3", "ĐĐGtx4", "ĐĐGgk", "ĐĐGck", "ĐTBmhk", "Nhận xét",
                      "Lí do để trống"], header
    code_a = env.cluster.psql(f"SELECT student_code FROM users WHERE id = {a}")
    row_a = next(r for r in rows if len(r) > 1 and r[1] == code_a)
    assert [float(v) for v in row_a[4:8]] == [8.0, 7.0, 9.0, 6.5], row_a
    assert float(row_a[10]) == float(want), row_a
    c = s.request("GET", q + "&format=csv", token=st["tok"]["gv"])
    assert c.status == 200 and c.body.startswith(b"\xef\xbb\xbf"), c.body[:10]
    # ';' between fields with a decimal comma (Vietnamese-locale Excel).
    crow = next(r for r in csv.reader(io.StringIO(c.body.decode("utf-8-sig")), delimiter=";")
                if r[1] == code_a)
    assert crow[7] == "6,5" and crow[10] == str(want).replace(".", ","), crow
    # Exchange records exist once the semester is released: here the
    # school_admin submits the class (before that, edits send nothing).
    assert s.request("POST", f"/api/v1/classes/{st['class_id']}/records/submit",
                     {"school_year": YEAR, "semester": 1}, _school_admin(env, s)).status == 200
    j = s.request("GET", q + "&format=json", token=st["tok"]["gv"])
    recs = json.loads(j.body)
    mine = next(r for r in recs if r["du_lieu"]["ma_hoc_sinh"] == code_a)
    assert mine["sukien"] in ("NEW", "UPDATE") and mine["phienban"] >= 1, mine
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", mine["thoigiancapnhat"]), mine
    toan = next(d for d in mine["du_lieu"]["diem_mon"] if d["ma_mon"] == "TOAN")
    assert Decimal(str(toan["diem"])) == want, toan
    assert s.request("GET", q + "&format=pdf", token=st["tok"]["gv"]).status == 400
    # The same sheet from the command line.
    out = os.path.join(env.cluster.dir, "so-diem.csv")
    p = env.cli("export-records", "--school", "DLV-A", "--class", "10D1", "--year", YEAR,
                "--semester", "1", "--subject", "TOAN", "--format", "csv", "--out", out)
    assert "Đã xuất" in p.stdout, p.stdout
    with open(out, "rb") as f:
        assert f.read() == c.body
    assert env.cli("export-records", "--school", "DLV-A", "--class", "10Z9", "--year", YEAR,
                   "--semester", "1", "--subject", "TOAN", "--out", out,
                   check=False).returncode == 1

    # The số định danh: validated, encrypted at rest, school_admin only.
    admin = _school_admin(env, s)
    url = f"/api/v1/students/{a}/national-id"
    assert s.request("PUT", url, {"national_id": "12345"}, admin).status == 422
    wrong_sex = s.request("PUT", url, {"national_id": "001310123456"}, admin)
    assert wrong_sex.status == 422 and "giới tính" in wrong_sex.json()["error"]["message"], wrong_sex
    assert s.request("PUT", url, {"national_id": "001210123456"}, st["tok"]["gv"]).status == 403
    assert s.request("PUT", url, {"national_id": "001210123456"}, admin).status == 200
    assert s.request("GET", url, token=admin).json() == {"national_id": "001210123456"}
    assert s.request("GET", url, token=st["tok"]["gv"]).status == 403
    stored = env.cluster.psql(f"SELECT encode(national_id_enc, 'escape') FROM users WHERE id = {a}")
    assert "001210123456" not in stored, stored
    assert s.request("GET", q + "&format=csv&national_id=1", token=st["tok"]["gv"]).status == 403
    c = s.request("GET", q + "&format=csv&national_id=1", token=admin)
    crow = next(r for r in csv.reader(io.StringIO(c.body.decode("utf-8-sig")), delimiter=";")
                if r[1] == code_a)
    assert crow[-1] == "001210123456", crow
    plain = s.request("GET", q + "&format=csv", token=admin).body.decode("utf-8-sig")
    assert "001210123456" not in plain

    # The lock: audited, and every later change refused.
    lock = s.request("POST", "/api/v1/records/lock", {"school_year": YEAR, "semester": 1}, admin)
    assert lock.status == 200 and lock.json()["newly_locked"], lock
    assert s.request("POST", "/api/v1/records/lock", {"school_year": YEAR, "semester": 1},
                     st["tok"]["gv"]).status == 403
    r = _edit(s, st, a, "tx1", "10")
    assert r.status == 409 and r.json()["error"]["code"] == "term_locked", r
    r = s.request("POST", f"/api/v1/sessions/{sid}/publish",
                  {"slot": "gk", "school_year": YEAR, "semester": 1}, st["tok"]["gv"])
    assert r.status == 409, r
    assert env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'record.lock'") == "1"
    assert int(env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'record.edit'")) >= 6
    # Students see only their own sheet rows? They cannot read the class sheet at all.
    assert s.request("GET", f"/api/v1/classes/{st['class_id']}/records?year={YEAR}&semester=1"
                     "&subject=TOAN", token=st["tok"][st["students"][0]]).status == 403


def _receiver(port, state):
    p = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "fake_csdl.py"), str(port),
                          state])
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/state", timeout=1)
            return p
        except OSError:
            time.sleep(0.1)
    raise AssertionError("fake CSDL receiver did not start")


def _rx(port, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _wait_delivered(env, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        left = env.cluster.psql("SELECT count(*) FROM csdl_outbox WHERE accepted_version < version")
        if left == "0":
            return
        time.sleep(0.5)
    raise AssertionError("outbox not delivered: " + env.cluster.psql(
        "SELECT record_id, version, accepted_version, attempts, last_error FROM csdl_outbox"
        " WHERE accepted_version < version"))


def test_outbox_delivers_through_failures_hang_and_restart(env):
    s, st = _setup(env)
    _, expected = _taken_and_published(env, s, st, 2)
    # Complete semester II for the three students so that their records exist.
    for student in expected:
        for slot in ("tx1", "tx2", "tx3", "tx4", "ck"):
            assert _edit(s, st, student, slot, "8", semester=2).status == 200
    # Released by the school_admin's submission of the class (migration 0033).
    assert s.request("POST", f"/api/v1/classes/{st['class_id']}/records/submit",
                     {"school_year": YEAR, "semester": 2}, _school_admin(env, s)).status == 200
    port = free_port()
    state = os.path.join(env.cluster.dir, "fake-csdl.json")
    rx = _receiver(port, state)
    sender = None
    try:
        _rx(port, "/control", {"mode": "fail", "count": 3})
        sender = Server(env, {"KIEMTRA_CSDL_URL": f"http://127.0.0.1:{port}/records",
                              "KIEMTRA_CSDL_INTERVAL": "1", "KIEMTRA_CSDL_TIMEOUT": "2"})
        time.sleep(2.5)
        # A hang, then the receiver goes away and comes back.
        _rx(port, "/control", {"mode": "hang", "count": 1})
        time.sleep(3)
        rx.send_signal(signal.SIGTERM)
        rx.wait(timeout=10)
        time.sleep(2)
        rx = _receiver(port, state)
        _wait_delivered(env, 60)
        # A change makes a new version of one record, delivered too.
        student = int(env.cluster.psql("SELECT student_id FROM csdl_outbox ORDER BY record_id"
                                       " LIMIT 1"))
        before = env.cluster.psql(f"SELECT sum(version) FROM csdl_outbox WHERE student_id = {student}")
        assert _edit(s, st, student, "tx1", "7", semester=2).status == 200
        after = env.cluster.psql(f"SELECT sum(version) FROM csdl_outbox WHERE student_id = {student}")
        assert int(after) > int(before), (before, after)
        _wait_delivered(env, 30)
        got = _rx(port, "/state")
        rows = env.cluster.psql("SELECT record_id, version FROM csdl_outbox").splitlines()
        want = {r.split("|")[0]: int(r.split("|")[1]) for r in rows}
        assert got["records"] == want, (got["records"], want)
        pairs = [tuple(x) for x in got["accepted"]]
        assert len(pairs) == len(set(pairs)), "a version was accepted twice"
        assert got["regressions"] == 0 and got["invalid"] == 0, got
        status = s.request("GET", "/api/v1/outbox", token=_school_admin(env, s)).json()
        assert status and all(x["state"] == "delivered" for x in status), status
        assert s.request("GET", "/api/v1/outbox", token=st["tok"]["gv"]).status == 403
    finally:
        if sender:
            sender.stop()
        rx.send_signal(signal.SIGTERM)
        rx.wait(timeout=10)
