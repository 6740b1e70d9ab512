"""Items API off the event loop and the allow-list at review: (a) checking
and normalising a large, heavily marked-up item runs on the CPU pool, so a
single worker keeps answering /livez meanwhile; (b) an item version stored
before the HTML allow-list existed cannot be submitted or approved until its
content passes it."""
import json
import socket
import struct
import threading
import time

from harness import Server

PW = "mat-khau-thu-nghiem"
SCHOOL = "OFFLOOP"


def _user(env, username, role, subject=None):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        args = ["users", "add", "--username", username, "--full-name", "Người dùng " + username,
                "--role", role, "--school", SCHOOL]
        if subject:
            args += ["--subject", subject]
        env.cli(*args, env={"KIEMTRA_NEW_PASSWORD": PW})


def _setup(env):
    if env.cluster.psql(f"SELECT count(*) FROM schools WHERE code = '{SCHOOL}'") == "0":
        env.cli("schools", "add", SCHOOL, "Trường thử tải", "--province", "TST", "Sở thử nghiệm")
    _user(env, "gv.offloop", "teacher", "TOAN")
    _user(env, "tt.offloop", "subject_head", "TOAN")


def _dense(seed, limit=63 * 1024):
    """Valid HTML just under the field limit, made almost entirely of markup."""
    unit = (f"<p>Cho <b>x</b><sup>{seed}</sup> + <i>y</i><sub>1</sub> = <math><mi>z</mi>"
            f"<mo>+</mo><mn>{seed}</mn></math><br/></p>")
    return unit * (limit // len(unit.encode()))


def _big_item(identifier, seed):
    """MR with every HTML field (stem, explanation, 8 options) near 64 KiB."""
    return {
        "identifier": identifier, "kind": "MR", "subject": "TOAN", "grade": 10,
        "title": "Câu nhiều định dạng", "level": "MD.B",
        "stem": _dense(seed), "explanation": _dense(seed + 1),
        "options": [{"id": chr(65 + k), "html": _dense(seed + 2 + k)} for k in range(8)],
        "keys": ["A", "C"], "scoring_mode": "per_option",
    }


class _LivezProbe(threading.Thread):
    """GET /livez over and over; keeps (sent at, latency) of each answer."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server, self.samples, self.stop = server, [], threading.Event()

    def run(self):
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            t0 = time.monotonic()
            r = self.server.request("GET", "/livez", timeout=30)
            assert r.status == 200, r
            self.samples.append((t0, time.monotonic() - t0))
            time.sleep(0.003)


def test_items_offloop_livez_answers_during_validation(env):
    _setup(env)
    s = Server(env, {"KIEMTRA_WORKERS": "1"})
    try:
        tok = s.login("gv.offloop", PW)
        bodies = [json.dumps(_big_item(f"OFFLOOP-BIG-{k}", k)).encode() for k in range(3)]
        assert all(600_000 < len(b) < 1_000_000 for b in bodies), [len(b) for b in bodies]
        probe = _LivezProbe(s)
        probe.start()
        time.sleep(0.2)
        windows = []  # (start, duration) of each create or edit
        created = None
        for k, body in enumerate(bodies):
            t0 = time.monotonic()
            r = s.request("POST", "/api/v1/items", body, token=tok,
                          headers={"Content-Type": "application/json"}, timeout=60)
            windows.append((t0, time.monotonic() - t0))
            assert r.status == 201, r
            created = r.json()
        # An edit normalises the stored version too: twice the work.
        content = dict(created["content"], stem=_dense(40))
        t0 = time.monotonic()
        r = s.request("PATCH", f"/api/v1/items/{created['id']}", {"content": content},
                      token=tok, timeout=60)
        windows.append((t0, time.monotonic() - t0))
        assert r.status == 200 and r.json()["version"] == 2, r
        time.sleep(0.2)
        probe.stop.set()
        probe.join()
        # The worst /livez wait while each request was in the server, against
        # how long that request took.
        for start, took in windows:
            inside = [lat for (t, lat) in probe.samples if start <= t < start + took]
            assert inside, f"no /livez probe during a {took:.3f} s request"
            worst = max(inside)
            assert worst < took / 4, (
                f"/livez waited {worst * 1000:.0f} ms during an item check of"
                f" {took * 1000:.0f} ms: the check blocks the event loop")
        # What was stored is the canonical form the allow-list wrote back.
        stored = env.cluster.psql(f"SELECT content->>'stem' FROM item_versions"
                                  f" WHERE item_id = {created['id']} AND version = 2")
        assert stored == _dense(40)
        # A client that resets its connection while its item is being checked:
        # the request is still carried out, its reply dropped, the worker goes on.
        body = json.dumps(_big_item("OFFLOOP-GONE", 7)).encode()
        with socket.create_connection(("127.0.0.1", s.port)) as c:
            c.sendall(b"POST /api/v1/items HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                      + tok.encode() + b"\r\nContent-Type: application/json\r\n"
                      + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            time.sleep(0.3)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and env.cluster.psql(
                "SELECT count(*) FROM items WHERE identifier = 'OFFLOOP-GONE'") == "0":
            time.sleep(0.1)
        assert env.cluster.psql(
            "SELECT count(*) FROM items WHERE identifier = 'OFFLOOP-GONE'") == "1"
        assert s.request("GET", "/livez").status == 200
    finally:
        s.stop()


def _raw_item(env, identifier, status, content, scoring):
    """An item version written straight into the tables, as before the allow-list."""
    sql = (
        "WITH i AS (INSERT INTO items (province_id, school_id, identifier, subject, grade,"
        " status, created_by)"
        f" SELECT s.province_id, s.id, '{identifier}', 'TOAN', 10, '{status}', u.id"
        f" FROM schools s JOIN users u ON u.school_id = s.id"
        f" WHERE s.code = '{SCHOOL}' AND u.username = 'gv.offloop'"
        " RETURNING id, province_id, school_id, created_by)"
        " INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,"
        " content, scoring, tags, created_by)"
        " SELECT id, 1, province_id, school_id, 'MCQ4', 'Câu cũ', $c${c}$c$::jsonb,"
        " $s${s}$s$::jsonb, '{{DT.NLC}}', created_by FROM i RETURNING item_id")
    return int(env.cluster.psql(sql.format(c=json.dumps(content), s=json.dumps(scoring))))


def _options(second="<b>4</b>"):
    return [{"id": "A", "html": "3"}, {"id": "B", "html": second},
            {"id": "C", "html": "5"}, {"id": "D", "html": "6"}]


def _status(env, item_id):
    return env.cluster.psql(f"SELECT status FROM items WHERE id = {item_id}")


def test_items_offloop_raw_html_cannot_be_reviewed(env):
    _setup(env)
    s = env.main_server()
    teacher, head = s.login("gv.offloop", PW), s.login("tt.offloop", PW)

    # A draft whose stem holds a script: submitting it is refused, by name.
    bad = _raw_item(env, "RAW-SCRIPT", "draft",
                    {"stem": "<p>2 + 2 = ?</p><script>alert(document.cookie)</script>",
                     "options": _options()}, {"key": "B"})
    url = f"/api/v1/items/{bad}"
    r = s.request("PATCH", url, {"status": "submitted"}, token=teacher)
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "invalid_item", err
    assert any(d["field"] == "stem" and "<script>" in d["message"] and "không được phép"
               in d["message"] for d in err["details"]), err
    assert _status(env, bad) == "draft"
    # Once the teacher fixes it, it goes through.
    r = s.request("PATCH", url, {"content": {"stem": "<p>2 + 2 = ?</p>", "options": _options()}},
                  token=teacher)
    assert r.status == 200 and r.json()["version"] == 2, r
    r = s.request("PATCH", url, {"status": "submitted"}, token=teacher)
    assert r.status == 200 and r.json()["status"] == "submitted", r

    # Already submitted before the check: an event handler in an option and a
    # frame in the explanation (server-side) keep it from being approved.
    sub = _raw_item(env, "RAW-ONERROR", "submitted",
                    {"stem": "<p>2 + 2 = ?</p>",
                     "options": _options('<img src="x.png" onerror="alert(1)">')},
                    {"key": "B", "explanation": "<iframe src=\"//evil.example\"></iframe>"})
    r = s.request("PATCH", f"/api/v1/items/{sub}", {"status": "approved"}, token=head)
    assert r.status == 422, r
    details = {d["field"]: d["message"] for d in r.json()["error"]["details"]}
    assert "onerror" in details.get("options[1].html", ""), details
    assert "<iframe>" in details.get("explanation", ""), details
    assert _status(env, sub) == "submitted"
    assert env.cluster.psql(f"SELECT count(*) FROM audit_log WHERE entity = 'item'"
                            f" AND entity_id = '{sub}'") == "0"
    # A teacher still gets 403, not the content problems; sending back works.
    r = s.request("PATCH", f"/api/v1/items/{sub}", {"status": "approved"}, token=teacher)
    assert r.status == 403, r
    r = s.request("PATCH", f"/api/v1/items/{sub}", {"status": "draft", "comment": "Bỏ iframe."},
                  token=head)
    assert r.status == 200 and r.json()["status"] == "draft", r

    # Raw HTML inside the allow-list (upper case, unclosed <br>) is approved.
    ok = _raw_item(env, "RAW-CLEAN", "submitted",
                   {"stem": "<P>2 + 2 = ?<BR></P>", "options": _options()}, {"key": "B"})
    r = s.request("PATCH", f"/api/v1/items/{ok}", {"status": "approved"}, token=head)
    assert r.status == 200 and r.json()["status"] == "approved", r
