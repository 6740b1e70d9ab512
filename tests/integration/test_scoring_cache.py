"""Submits score with each form's scoring rows cached in the gateway worker
(migration 0035's generation, docs/BENCHMARKS.md, submit storm): the same
answers score the same on a cold cache and a warm one, and after a regrade
(a corrected key) or a stated maximum the next submit is scored with the
new rows, never the cached ones."""
from harness import Server
from test_delivery import _published_session, _setup
from test_marking import _key


def _scores(env, attempt):
    return env.cluster.psql("SELECT item_ref, score, max_score, detail::text FROM attempt_scores"
                            f" WHERE attempt_id = {attempt} ORDER BY item_ref")


def _answer_and_submit(srv, st, u, a, answers):
    for ref, value in answers.items():
        r = srv.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                        {"response": value, "seq": 1}, st["tok"][u])
        assert r.status == 200, r
    r = srv.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=st["tok"][u])
    assert r.status == 200, r
    return srv.wait_scored(a["id"], st["tok"][u])


def test_cached_scoring_rows_equal_fresh_and_follow_a_regrade(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    tid, sid = _published_session(s, st, forms=1)  # one form: every submit shares its rows
    test = s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()
    items = {x["item_ref"]: s.request("GET", f"/api/v1/items/{x['item_id']}", token=gv).json()
             for x in test["items"]}
    mcq = next(r for r, x in items.items() if x["kind"] == "MCQ4")
    short = next(r for r, x in items.items() if x["kind"] == "SHORT")
    item = items[mcq]
    right = _key(item)
    other = next(o["id"] for o in item["content"]["options"] if o["id"] != right)
    students = st["students"][:4]
    one = Server(env, {"KIEMTRA_WORKERS": "1"})  # one worker: one cache
    try:
        att = {u: one.request("POST", f"/api/v1/sessions/{sid}/attempts",
                              token=st["tok"][u]).json() for u in students}
        same = {mcq: right, short: "1"}
        # The first submit loads the rows (cold), the second uses them (warm).
        v0 = _answer_and_submit(one, st, students[0], att[students[0]], same)
        v1 = _answer_and_submit(one, st, students[1], att[students[1]], same)
        assert v0["status"] == v1["status"] == "submitted", (v0, v1)
        cold, warm = _scores(env, att[students[0]]["id"]), _scores(env, att[students[1]]["id"])
        assert cold and cold == warm, (cold, warm)
        assert f"{mcq}|25|25|" in cold, cold
        totals = env.cluster.psql("SELECT score, max_score FROM attempts WHERE id IN"
                                  f" ({att[students[0]]['id']}, {att[students[1]]['id']})")
        assert len(set(totals.splitlines())) == 1, totals

        # The key is corrected and regraded: the test's generation moves, so
        # the next submit on the same worker is scored with the new key.
        gen = env.cluster.psql(f"SELECT coalesce((SELECT gen FROM test_scoring_gen"
                               f" WHERE test_id = {tid}), 0)")
        r = s.request("PATCH", f"/api/v1/items/{item['id']}",
                      {"scoring": dict(item["scoring"], key=other)}, gv)
        assert r.status == 200, r
        r = s.request("POST", f"/api/v1/tests/{tid}/regrade",
                      {"item_ref": mcq, "version": item["version"] + 1}, gv)
        assert r.status == 200, r
        assert int(env.cluster.psql(f"SELECT gen FROM test_scoring_gen WHERE test_id = {tid}")) \
            == int(gen) + 1
        _answer_and_submit(one, st, students[2], att[students[2]], {mcq: other, short: "1"})
        after = _scores(env, att[students[2]]["id"])
        assert f"{mcq}|25|25|" in after, after
        assert f'"scoring_version": {item["version"] + 1}' in after, after
        # A stated maximum also moves the generation of every test holding the item.
        env.cluster.psql("INSERT INTO item_max_scores (item_id, version, school_id, max_score)"
                         f" SELECT {item['id']}, {item['version']}, school_id, 1 FROM tests"
                         f" WHERE id = {tid}")
        assert int(env.cluster.psql(f"SELECT gen FROM test_scoring_gen WHERE test_id = {tid}")) \
            == int(gen) + 2
        # The same answers as the first student, now under the corrected key:
        # a restart's cold cache and this warm one agree.
        _answer_and_submit(one, st, students[3], att[students[3]], same)
        warm3 = _scores(env, att[students[3]]["id"])
        assert f"{mcq}|0|25|" in warm3, warm3
    finally:
        one.stop()
