"""Lifting a semester lock (POST /api/v1/records/unlock, migration 0028):
school_admin only, a reason required, the old lock and the reason audited,
marks editable again afterwards; a teacher is refused; the application role
still cannot lift or move a lock by a plain UPDATE or DELETE, nor through the
function under a teacher's role."""
import json

from test_delivery import _setup
from test_records import _school_admin

# A year of its own: the lock tests of test_records count their own rows.
YEAR = "2035-2036"  # a year of its own: other modules lock 2031-2032


def _edit(s, st, student, value, tok):
    return s.request("PUT", f"/api/v1/classes/{st['class_id']}/records",
                     {"student_id": student, "subject": "TOAN", "school_year": YEAR,
                      "semester": 1, "slot": "tx1", "value": value}, tok)


def test_unlock_school_admin_only_with_reason_audited(env):
    s, st = _setup(env)
    admin = _school_admin(env, s)
    gv = st["tok"]["gv"]
    q = env.cluster.psql
    student = int(q(f"SELECT user_id FROM class_members WHERE class_id = {st['class_id']}"
                    " ORDER BY user_id LIMIT 1"))
    assert _edit(s, st, student, "8,5", gv).status == 200

    # Not locked yet: nothing to lift, nothing audited.
    r = s.request("POST", "/api/v1/records/unlock",
                  {"school_year": YEAR, "semester": 1, "reason": "Thử"}, admin)
    assert r.status == 200 and r.json() == {"locked": False, "newly_unlocked": False}, r

    lock = s.request("POST", "/api/v1/records/lock", {"school_year": YEAR, "semester": 1}, admin)
    assert lock.status == 200 and lock.json()["newly_locked"], lock
    assert _edit(s, st, student, "9", gv).status == 409

    # A teacher (and a subject head) may not lift it.
    for who in ("gv", "tt"):
        r = s.request("POST", "/api/v1/records/unlock",
                      {"school_year": YEAR, "semester": 1, "reason": "Sửa điểm nhập nhầm"},
                      st["tok"][who])
        assert r.status == 403 and r.json()["error"]["code"] == "forbidden", (who, r)
    # A reason is required (blank, missing, too long), named in the details.
    for body in ({"school_year": YEAR, "semester": 1},
                 {"school_year": YEAR, "semester": 1, "reason": "   "},
                 {"school_year": YEAR, "semester": 1, "reason": 42},
                 {"school_year": YEAR, "semester": 1, "reason": "x" * 501}):
        r = s.request("POST", "/api/v1/records/unlock", body, admin)
        assert r.status == 400 and r.json()["error"]["code"] == "invalid_body", (body, r)
        assert r.json()["error"]["details"][0]["field"] == "reason", r
        assert "lí do" in r.json()["error"]["message"], r
    for body in ({"school_year": "2031", "semester": 1, "reason": "a"},
                 {"school_year": YEAR, "semester": 3, "reason": "a"}):
        assert s.request("POST", "/api/v1/records/unlock", body, admin).status == 400
    assert q(f"SELECT count(*) FROM record_terms WHERE school_year = '{YEAR}'") == "1"
    assert q("SELECT count(*) FROM audit_log WHERE action = 'record.unlock'"
             f" AND entity_id = '{YEAR}/1'") == "0"

    # The application role cannot lift or move the lock itself.
    for sql in (f"UPDATE record_terms SET semester = 2 WHERE school_year = '{YEAR}'",
                f"UPDATE record_terms SET school_year = '2034-2035' WHERE school_year = '{YEAR}'",
                f"DELETE FROM record_terms WHERE school_year = '{YEAR}'",
                "TRUNCATE record_terms"):
        p = q(sql, user="kiemtra_app", check=False)
        assert p.returncode != 0 and "permission denied" in p.stderr, (sql, p.stdout, p.stderr)
    # Nor through the function under a teacher's identity.
    school, teacher = q("SELECT school_id, id FROM users WHERE username = 'gv.dlv'").split("|")
    p = q(f"BEGIN; SELECT set_config('kiemtra.school_id', '{school}', true),"
          f" set_config('kiemtra.user_id', '{teacher}', true),"
          " set_config('kiemtra.role', 'teacher', true);"
          f" SELECT kt_term_unlock('{YEAR}', 1::smallint, 'lí do'); COMMIT;",
          user="kiemtra_app", check=False)
    assert p.returncode != 0 and "quản trị" in p.stderr, p.stderr
    assert q(f"SELECT count(*) FROM record_terms WHERE school_year = '{YEAR}'") == "1"

    # The school_admin lifts it with a reason: audited with the old lock.
    r = s.request("POST", "/api/v1/records/unlock",
                  {"school_year": YEAR, "semester": 1,
                   "reason": "  Sửa điểm nhập nhầm của học sinh  "}, admin)
    assert r.status == 200 and r.json() == {"locked": False, "newly_unlocked": True}, r
    assert q(f"SELECT count(*) FROM record_terms WHERE school_year = '{YEAR}'") == "0"
    row = q("SELECT a.actor_id = u.id, a.school_id = u.school_id, a.old_value::text,"
            " a.new_value::text FROM audit_log a, users u WHERE u.username = 'bgh.dlv'"
            f" AND a.action = 'record.unlock' AND a.entity_id = '{YEAR}/1'").split("|")
    assert row[:2] == ["t", "t"], row
    old, new = json.loads(row[2]), json.loads(row[3])
    assert new == {"school_year": YEAR, "semester": 1,
                   "reason": "Sửa điểm nhập nhầm của học sinh"}, new
    assert old["locked_by"] == int(q("SELECT id FROM users WHERE username = 'bgh.dlv'")), old
    assert old["locked_at"], old
    # The sheet says so, and the teacher's edit goes through again.
    r = s.request("GET", f"/api/v1/classes/{st['class_id']}/records?year={YEAR}&semester=1"
                  "&subject=TOAN", token=gv)
    assert r.status == 200 and r.json()["locked"] is False, r
    assert _edit(s, st, student, "9", gv).status == 200
    # A second unlock finds nothing to lift and writes nothing.
    r = s.request("POST", "/api/v1/records/unlock",
                  {"school_year": YEAR, "semester": 1, "reason": "Lần nữa"}, admin)
    assert r.status == 200 and r.json()["newly_unlocked"] is False, r
    assert q("SELECT count(*) FROM audit_log WHERE action = 'record.unlock'"
             f" AND entity_id = '{YEAR}/1'") == "1"
    # Locked again, then refused again: the unlock is not a hole in the lock.
    assert s.request("POST", "/api/v1/records/lock", {"school_year": YEAR, "semester": 1},
                     admin).json()["newly_locked"] is True
    assert _edit(s, st, student, "7", gv).status == 409
