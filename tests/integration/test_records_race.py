"""Concurrent edits of one class's marks (PUT /api/v1/classes/{id}/records
sent by many threads at once): afterwards the stored ĐTBmhk of every student
is the one TT22's formula gives from the stored marks, one more recompute
changes nothing, and each student's newest outbox version carries the final
value. Before the generation guard (migration 0029), a recompute that read
the class before another edit committed could store its stale results last."""
import json
import random
import threading
from decimal import ROUND_HALF_UP, Decimal

from test_delivery import _setup
from test_records import _school_admin

# A year of its own: other record tests count their own rows.
YEAR = "2033-2034"
SLOTS = ("tx1", "tx2", "tx3", "tx4", "gk", "ck")  # TOAN grade 10: 4 ĐĐGtx


def _put(s, st, student, slot, value):
    return s.request("PUT", f"/api/v1/classes/{st['class_id']}/records",
                     {"student_id": student, "subject": "TOAN", "school_year": YEAR,
                      "semester": 1, "slot": slot, "value": value}, st["tok"]["gv"], timeout=60)


def _wave(s, st, edits):
    """Sends every edit from its own thread, all released at once."""
    go = threading.Barrier(len(edits))
    replies = [None] * len(edits)

    def run(i, e):
        go.wait()
        try:
            replies[i] = _put(s, st, *e)
        except Exception as ex:  # noqa: BLE001 - reported below with the edit
            replies[i] = ex

    threads = [threading.Thread(target=run, args=(i, e)) for i, e in enumerate(edits)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e, r in zip(edits, replies):
        assert not isinstance(r, Exception) and r.status == 200, (e, r)


def _tt22(marks):
    """ĐTBmhk in tenths: (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (n + 5), one decimal
    rounded half up; None while a mark is missing."""
    if any(k not in marks for k in SLOTS):
        return None
    tx = sum(Decimal(marks[k]) for k in SLOTS[:4])
    total = (tx + 2 * Decimal(marks["gk"]) + 3 * Decimal(marks["ck"])) / (4 + 5)
    return int(total.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def _check(env, s, st, students):
    q = env.cluster.psql
    r = s.request("GET", f"/api/v1/classes/{st['class_id']}/records?year={YEAR}"
                  "&semester=1&subject=TOAN", token=st["tok"]["gv"])
    assert r.status == 200, r
    sheet = {x["id"]: x for x in r.json()["students"]}
    wrong = []
    for sid in students:
        marks = sheet[sid]["marks"]
        stored = dict(x.split("=") for x in q(
            "SELECT slot || '=' || value FROM record_marks WHERE student_id = "
            f"{sid} AND school_year = '{YEAR}' AND semester = 1 AND subject = 'TOAN'").split())
        assert marks == stored, (sid, marks, stored)
        want = _tt22(marks)
        got = sheet[sid]["result"]
        if want is None:
            if got is not None and got["status"] != "incomplete":
                wrong.append((sid, marks, got, None))
        elif got is None or got["status"] != "ok" or int(got["value"]) != want:
            wrong.append((sid, marks, got, want))
        if want is not None:
            # The newest outbox version of the student's semester record.
            payload = json.loads(q(
                "SELECT payload FROM csdl_outbox WHERE student_id = "
                f"{sid} AND payload->>'nam_hoc' = '{YEAR}' AND payload->>'hoc_ky' = '1'"))
            toan = [m for m in payload["diem_mon"] if m["ma_mon"] == "TOAN"]
            if len(toan) != 1 or Decimal(str(toan[0]["diem"])) != Decimal(want) / 10:
                wrong.append((sid, "outbox", payload["diem_mon"], want))
    assert not wrong, f"stored results miss committed marks: {wrong}"


def _results(env):
    return env.cluster.psql(
        "SELECT student_id, subject, semester, status, coalesce(value, '-') FROM record_results"
        f" WHERE school_year = '{YEAR}' ORDER BY 1, 2, 3")


def test_concurrent_edits_of_one_class_keep_every_mark(env):
    s, st = _setup(env)
    q = env.cluster.psql
    students = [int(x) for x in q(
        "SELECT cm.user_id FROM class_members cm JOIN users u ON u.id = cm.user_id"
        f" WHERE cm.class_id = {st['class_id']} AND u.role = 'student' ORDER BY 1").split()]
    assert len(students) == 6
    # The class's records of the semester are submitted first, so that every
    # edit below refreshes its exchange records (migration 0033).
    assert s.request("POST", f"/api/v1/classes/{st['class_id']}/records/submit",
                     {"school_year": YEAR, "semester": 1}, _school_admin(env, s)).status == 200
    rnd = random.Random(29)

    def value():
        t = rnd.randint(0, 100)  # tenths, written as a teacher types them
        return f"{t // 10},{t % 10}" if t % 10 else str(t // 10)

    cells = [(sid, slot) for sid in students for slot in SLOTS]
    # First every cell (36 edits in 3 waves of 12, each wave mixing students
    # and slots), then 30 cells changed again (3 waves of 10); all of it twice,
    # checked after each pass.
    for rounds in ((12, 12, 12), (10, 10, 10)) * 2:
        order = cells[:]
        rnd.shuffle(order)
        at = 0
        for n in rounds:
            wave = []
            for sid, slot in order[at:at + n]:
                wave.append((sid, slot, value()))
            at += n
            _wave(s, st, wave)
        _check(env, s, st, students)

    # One more recompute (a mark set to its own value) changes nothing stored.
    before = _results(env)
    sid = students[0]
    cur = q(f"SELECT value FROM record_marks WHERE student_id = {sid} AND school_year = '{YEAR}'"
            " AND semester = 1 AND subject = 'TOAN' AND slot = 'gk'")
    r = _put(s, st, sid, "gk", str(Decimal(cur) / 10).replace(".", ","))
    assert r.status == 200, r
    assert _results(env) == before
    # Every edit bumped the class's generation (0029); the guard read it.
    assert int(q(f"SELECT gen FROM record_generations WHERE class_id = {st['class_id']}"
                 f" AND school_year = '{YEAR}'")) >= 66
