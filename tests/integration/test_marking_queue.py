"""The marking queue and what a student sees after release.

The queue of a session lists per item that a teacher marks (essays, and any
item with an answer the engine could not score) how many answers wait and
how many are marked; the per-item list gives every student's answer (escaped
for display), the marks and comment so far, in a stable order. Marking the
last pending answer of an attempt gives it its total. A release chooses what
the students see: the score only, also the answers (the key in the letters
of the student's own shuffled form), also the explanations; before release
nothing, and never more than the level released. A teacher of another
subject is refused."""
import json

from test_delivery import PW, _published_session, _setup, _user
from test_scoring_safety import CHOICE, SQUARE, _import, _test_doc
from test_scoring_safety import _setup as _safety_setup

ESSAY_TEXT = 'Lời giải <b>của em</b> & "ý a"\nDòng hai'


def _items(s, st, tid):
    test = s.request("GET", f"/api/v1/tests/{tid}", token=st["tok"]["gv"]).json()
    out = {}
    for x in test["items"]:
        it = s.request("GET", f"/api/v1/items/{x['item_id']}", token=st["tok"]["gv"]).json()
        out[x["item_ref"]] = it
    return out


def _letter(payload_item, option_id):
    ids = [o["id"] for o in payload_item["options"]]
    return chr(65 + ids.index(option_id))


def test_queue_marking_and_release_levels(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    tid, sid = _published_session(s, st)
    items = _items(s, st, tid)
    essays = sorted(r for r, it in items.items() if it["kind"] == "ESSAY")
    mcqs = sorted(r for r, it in items.items() if it["kind"] == "MCQ4")
    assert essays and mcqs, items
    students = st["students"][:3]
    attempts = {}
    for n, u in enumerate(students):
        tok = st["tok"][u]
        a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
        attempts[u] = a
        seq = 0
        for ref in mcqs:  # the first student chooses the key, the others another option
            key = items[ref]["scoring"]["key"]
            pi = next(x for x in a["payload"]["items"] if x["ref"] == ref)
            choice = key if n == 0 else next(o["id"] for o in pi["options"] if o["id"] != key)
            seq += 1
            r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                          {"response": choice, "seq": seq}, tok)
            assert r.status == 200, r
        for ref in essays:
            seq += 1
            r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                          {"response": f"{ESSAY_TEXT} ({u})", "seq": seq}, tok)
            assert r.status == 200, r
        assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).status == 200
        s.wait_scored(a["id"], tok)
    # A fourth student is still writing: not in the queue yet.
    late = st["students"][3]
    s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][late])

    # The queue: essays only, each with its three answers to mark.
    r = s.request("GET", f"/api/v1/sessions/{sid}/marking", token=gv)
    assert r.status == 200, r
    q = r.json()
    nums = [i["number"] for i in q["items"]]
    assert nums == sorted(nums) and len(set(nums)) == len(nums), q
    assert {i["item_ref"] for i in q["items"]} == set(essays), q
    for i in q["items"]:
        assert (i["kind"], i["to_mark"], i["marked"], i["total"]) == ("ESSAY", 3, 0, 3), i
        assert i["rubric"] == items[i["item_ref"]]["scoring"]["rubric"], i
        assert i["title"] and i["number"] >= 1, i
    assert q["to_mark"] == 3 * len(essays) and q["marked"] == 0 and q["in_progress"] == 1, q
    assert q["test"]["id"] == tid and q["results_released"] is False, q

    # One item: every answer, escaped for display, in student-code order.
    ref = essays[0]
    r = s.request("GET", f"/api/v1/sessions/{sid}/marking/{ref}", token=gv)
    assert r.status == 200, r
    one = r.json()
    assert one["item"]["item_ref"] == ref and one["item"]["kind"] == "ESSAY", one["item"]
    assert one["item"]["model_answer"] == items[ref]["scoring"]["model_answer"], one["item"]
    assert one["item"]["view"]["stem"], one["item"]
    codes = [x["student_code"] for x in one["answers"]]
    assert codes == sorted(u.upper() for u in students), codes
    first = one["answers"][0]
    assert first["state"] == "needs_marking" and first["class"] == "10D1", first
    assert first["full_name"] and first["score"] is None and first["comment"] is None, first
    assert first["answer_text"] == f"{ESSAY_TEXT} ({students[0]})", first
    assert first["answer_html"] == ("Lời giải &lt;b&gt;của em&lt;/b&gt; &amp; &quot;ý a&quot;"
                                    f"<br>Dòng hai ({students[0]})"), first
    assert s.request("GET", f"/api/v1/sessions/{sid}/marking/zz9", token=gv).status == 404
    assert s.request("GET", f"/api/v1/sessions/{sid}/marking",
                     token=st["tok"][students[0]]).status == 403

    # A teacher of another subject in the same class is refused, reading and marking.
    _user(env, "gv.van.dlv", "teacher", "NV")
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     f" SELECT u.school_id, u.id, 'NV', {st['class_id']} FROM users u"
                     " WHERE u.username = 'gv.van.dlv' ON CONFLICT DO NOTHING")
    van = s.login("gv.van.dlv", PW)
    r = s.request("GET", f"/api/v1/sessions/{sid}/marking", token=van)
    assert r.status == 403 and r.json()["error"]["code"] == "not_assigned", r
    assert s.request("GET", f"/api/v1/sessions/{sid}/marking/{ref}", token=van).status == 403
    rubric = items[ref]["scoring"]["rubric"]
    aid = first["attempt_id"]
    r = s.request("PUT", f"/api/v1/attempts/{aid}/marks/{ref}",
                  {"criteria": [c["points"] for c in rubric]}, van)
    assert r.status == 403, r

    # Marking: one request per answer, per criterion with a comment.
    before = {u: s.request("GET", f"/api/v1/attempts/{attempts[u]['id']}", token=gv).json()
              ["result"] for u in students}
    assert all(b["needs_marking"] for b in before.values()), before
    expect_total = {u: float(before[u]["score"]) for u in students}
    for e_i, eref in enumerate(essays):
        rub = items[eref]["scoring"]["rubric"]
        rub_max = sum(float(c["points"]) for c in rub)
        pts = float(next(i for i in q["items"] if i["item_ref"] == eref)["points"])
        for n, u in enumerate(students):
            marks = [c["points"] for c in rub]
            if n == 1:
                marks[0] = "0"
            comment = f"Nhận xét {n} cho câu {eref}: trình bày rõ."
            r = s.request("PUT", f"/api/v1/attempts/{attempts[u]['id']}/marks/{eref}",
                          {"criteria": marks, "comment": comment}, gv)
            assert r.status == 200, r
            got = r.json()
            score = round(sum(float(m) for m in marks) / rub_max * pts + 1e-9, 2)
            assert abs(float(got["score"]) - score) < 1e-9, (got, score)
            expect_total[u] += score
            last = e_i == len(essays) - 1
            assert got["attempt_needs_marking"] is (not last), got
            if last:  # the last pending answer gives the attempt its total
                assert abs(float(got["attempt_score"]) - expect_total[u]) < 1e-6, (got, expect_total)
    for u in students:
        res = s.request("GET", f"/api/v1/attempts/{attempts[u]['id']}", token=gv).json()["result"]
        assert res["needs_marking"] is False, res
        assert abs(float(res["score"]) - expect_total[u]) < 1e-6, (res, expect_total[u])
    q = s.request("GET", f"/api/v1/sessions/{sid}/marking", token=gv).json()
    assert all((i["to_mark"], i["marked"]) == (0, 3) for i in q["items"]), q
    one = s.request("GET", f"/api/v1/sessions/{sid}/marking/{ref}", token=gv).json()
    second = one["answers"][1]
    assert second["state"] == "marked" and second["criteria"][0] == "0", second
    assert second["comment"] == f"Nhận xét 1 cho câu {ref}: trình bày rõ.", second

    # Before release: nothing of the result or the review.
    u0 = students[0]
    tok0 = st["tok"][u0]
    view_url = f"/api/v1/attempts/{attempts[u0]['id']}"
    expl = next(items[m]["scoring"]["explanation"] for m in mcqs
                if items[m]["scoring"].get("explanation"))
    r = s.request("GET", view_url, token=tok0)
    v = r.json()
    assert v["result"] is None and v["review"] is None and v["release_show"] is None, v
    assert "key_shown" not in r.body.decode() and json.dumps(expl)[1:-1] not in r.body.decode()

    # Released with the score only (no body: the default).
    r = s.request("POST", f"/api/v1/sessions/{sid}/release", token=gv)
    assert r.status == 200 and r.json()["release_show"] == "score", r
    r = s.request("GET", view_url, token=tok0)
    v = r.json()
    assert v["release_show"] == "score" and v["result"]["needs_marking"] is False, v
    raw = r.body.decode()
    for word in ("key_shown", "explanation", "model_answer", "rubric"):
        assert word not in raw, word
    rev = {x["ref"]: x for x in v["review"]}
    assert len(rev) == len(items), rev.keys()
    for m in mcqs:
        pi = next(x for x in v["payload"]["items"] if x["ref"] == m)
        assert rev[m]["result"] == "correct" and rev[m]["points"] == rev[m]["max_points"], rev[m]
        assert rev[m]["response_shown"] == _letter(pi, items[m]["scoring"]["key"]), rev[m]
    assert rev[ref]["comment"] == f"Nhận xét 0 cho câu {ref}: trình bày rõ.", rev[ref]
    assert rev[ref]["state"] == "marked" and rev[ref]["response"].startswith("Lời giải"), rev[ref]
    wrong = s.request("GET", f"/api/v1/attempts/{attempts[students[1]]['id']}",
                      token=st["tok"][students[1]]).json()
    assert all(x["result"] == "incorrect" for x in wrong["review"] if x["ref"] in mcqs), wrong
    assert s.request("POST", f"/api/v1/sessions/{sid}/release", {"show": "all"},
                     gv).status == 422
    assert s.request("POST", f"/api/v1/sessions/{sid}/release", {"show": "answers"},
                     token=tok0).status == 403

    # With the answers: the key in the letters of the student's own form, no explanation.
    r = s.request("POST", f"/api/v1/sessions/{sid}/release", {"show": "answers"}, gv)
    assert r.status == 200 and r.json()["release_show"] == "answers", r
    for u in students[:2]:
        r = s.request("GET", f"/api/v1/attempts/{attempts[u]['id']}", token=st["tok"][u])
        v = r.json()
        assert "explanation" not in r.body.decode() and "model_answer" not in r.body.decode()
        rev = {x["ref"]: x for x in v["review"]}
        for m in mcqs:
            pi = next(x for x in v["payload"]["items"] if x["ref"] == m)
            assert rev[m]["key_shown"] == _letter(pi, items[m]["scoring"]["key"]), (rev[m], pi)
        assert [c["points"] for c in rev[ref]["rubric"]] == [c["points"] for c in rubric]
    # The shown letters are not the stored ids for at least one student and item.
    shuffled = 0
    for u in students:
        v = s.request("GET", f"/api/v1/attempts/{attempts[u]['id']}", token=st["tok"][u]).json()
        for x in v["review"]:
            if x["ref"] in mcqs and x["key_shown"] != items[x["ref"]]["scoring"]["key"]:
                shuffled += 1
    assert shuffled > 0, "no shuffled option in any form: the mapping is not tested"

    # With the explanations: explanation and model answer too.
    r = s.request("POST", f"/api/v1/sessions/{sid}/release", {"show": "explanations"}, gv)
    assert r.status == 200 and r.json()["release_show"] == "explanations", r
    v = s.request("GET", view_url, token=tok0).json()
    rev = {x["ref"]: x for x in v["review"]}
    for m in mcqs:
        assert rev[m].get("explanation") == items[m]["scoring"].get("explanation"), rev[m]
    assert rev[ref]["model_answer"] == items[ref]["scoring"]["model_answer"], rev[ref]
    audit = env.cluster.psql("SELECT string_agg(new_value->>'show', ',' ORDER BY id)"
                             " FROM audit_log WHERE action = 'session.release'"
                             f" AND entity_id = '{sid}'")
    assert audit == "score,answers,explanations", audit
    # The student reads only their own attempt.
    other = attempts[students[1]]["id"]
    assert s.request("GET", f"/api/v1/attempts/{other}", token=tok0).status == 404


def test_scoring_failed_answer_in_the_queue(env):
    s, st = _safety_setup(env)
    gv = st["tok"]["gv"]
    # Identifiers of its own: test_scoring_safety counts its saf-* items.
    for name, xml in (("mq-square.xml", SQUARE), ("mq-choice.xml", CHOICE)):
        r = _import(s, gv, name, xml.replace('identifier="saf-', 'identifier="mq-'))
        assert r.status in (200, 201), r
    r = _import(s, gv, "mq-test.xml", _test_doc("mq-test", ["mq-square", "mq-choice"]))
    assert r.status == 201, r
    qt = r.json()["tests"][0]["id"]
    body = {"subject": "TOAN", "grade": 10, "kind": "tx", "forms": 1, "duration_seconds": 600}
    r = s.request("POST", f"/api/v1/qti-tests/{qt}/publish", body, gv)
    assert r.status == 201, r
    tid = r.json()["id"]
    win = {"class_ids": [st["class_id"]], "opens_at": "2020-01-01T00:00:00Z",
           "closes_at": "2099-01-01T00:00:00Z"}
    sid = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, gv).json()["id"]
    tok = st["tok"]["saf002"]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
    refs = {i["interactions"][0]["type"]: i["ref"] for i in a["payload"]["items"]}
    ref = refs["textEntry"]
    r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                  {"seq": 1, "response": {"RESPONSE": "99999999999"}}, tok)
    assert r.status == 200, r
    assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).status == 200
    s.wait_scored(a["id"], tok)

    q = s.request("GET", f"/api/v1/sessions/{sid}/marking", token=gv).json()
    (item,) = q["items"]
    assert item["item_ref"] == ref and item["kind"] == "QTI", item
    assert (item["to_mark"], item["scoring_failed"], item["marked"]) == (1, 1, 0), item
    one = s.request("GET", f"/api/v1/sessions/{sid}/marking/{ref}", token=gv).json()
    (ans,) = one["answers"]
    assert ans["state"] == "scoring_failed" and "overflow" in ans["error"], ans
    assert ans["response"] == {"RESPONSE": "99999999999"} and "99999999999" in ans["answer_text"]
    # Marked like an essay, with points and a comment; it stays listed as marked.
    r = s.request("PUT", f"/api/v1/attempts/{a['id']}/marks/{ref}",
                  {"points": "0,5", "comment": "Số quá lớn."}, gv)
    assert r.status == 200 and r.json()["attempt_needs_marking"] is False, r
    q = s.request("GET", f"/api/v1/sessions/{sid}/marking", token=gv).json()
    assert (q["items"][0]["to_mark"], q["items"][0]["marked"]) == (0, 1), q
    # Released: the student sees the teacher's points and comment.
    assert s.request("POST", f"/api/v1/sessions/{sid}/release", {"show": "answers"},
                     gv).status == 200
    v = s.request("GET", f"/api/v1/attempts/{a['id']}", token=tok).json()
    rev = {x["ref"]: x for x in v["review"]}
    assert rev[ref]["points"] == "0.50" and rev[ref]["comment"] == "Số quá lớn.", rev[ref]
    assert rev[ref]["result"] == "partial", rev[ref]
