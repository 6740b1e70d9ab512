"""Login throttling, logout and the số định danh key, as an attacker would try
them: wrong passwords from one computer must not lock the owner out of
another, guesses are slowed by a growing delay (429 with Retry-After) and
counted before they are checked, a teacher can clear the delay, a logged-out
token stops at once, every read or export of a số định danh is audited, and
the server refuses a key file that others can read."""
import csv
import http.client
import io
import json
import os
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Server, free_port
from test_foundation import _read_logins, _roster_csv, _write

PW = "mat-khau-thu-nghiem"
YEAR = "2026-2027"
LOGIN = "/api/v1/auth/login"


def _user(env, username, role, school="AHD-A"):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        env.cli("users", "add", "--username", username, "--full-name", "Người " + username,
                "--role", role, "--school", school, env={"KIEMTRA_NEW_PASSWORD": PW})
    return int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{username}'"))


def _setup(env):
    """School AHD-A: a teacher, a school admin and class 10H1 of 8 students;
    school AHD-B with a teacher. Made once per run, kept on env."""
    if getattr(env, "ahd_state", None):
        return env.ahd_state
    for code in ("AHD-A", "AHD-B"):
        env.cli("schools", "add", code, "Trường " + code, "--province", "TST", "Sở thử nghiệm")
    _user(env, "gv.ahd", "teacher")
    _user(env, "bgh.ahd", "school_admin")
    _user(env, "gv.ahdb", "teacher", "AHD-B")
    tmp = tempfile.mkdtemp()
    rows = [[f"AHD{i:03d}", f"Học Sinh {i}", "01/01/2010", "Nam", "10H1"] for i in range(1, 9)]
    path = _write(tmp, "10h1.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", "AHD-A", "--year", YEAR)
    students = {row[0]: row[1] for row in _read_logins(path + ".logins.csv")}
    cls = int(env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                               " WHERE s.code = 'AHD-A' AND c.name = '10H1'"))
    env.ahd_state = {"students": students, "names": sorted(students), "class_id": cls}
    return env.ahd_state


def _uid(env, username):
    return int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{username}'"))


def _login_from(s, addr, username, password):
    """POST /auth/login from a given loopback address (a computer of the lab)."""
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30, source_address=(addr, 0))
    try:
        conn.request("POST", LOGIN, body=json.dumps({"username": username, "password": password}),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), json.loads(r.read() or b"null")
    finally:
        conn.close()


# --------------------------------------------------------------------------
# Throttling per account and address

def test_wrong_passwords_elsewhere_do_not_lock_out_the_owner(env):
    st = _setup(env)
    s = env.main_server()
    victim = st["names"][0]
    # A classmate guesses from another computer until refused.
    codes = [_login_from(s, "127.0.0.2", victim, f"doan-{i}")[0] for i in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
    # The owner, on their own computer, is not refused.
    status, _, body = _login_from(s, "127.0.0.3", victim, st["students"][victim])
    assert status == 200, (status, body)
    # The guesser's computer still waits.
    status, headers, body = _login_from(s, "127.0.0.2", victim, st["students"][victim])
    assert status == 429 and int(headers["Retry-After"]) > 0, (status, body)
    assert body["error"]["code"] == "too_many_attempts", body


def test_growing_delay_with_retry_after(env):
    st = _setup(env)
    user = st["names"][1]
    s = Server(env, {"KIEMTRA_LOGIN_FREE_TRIES": "2", "KIEMTRA_LOGIN_DELAY": "1",
                     "KIEMTRA_LOGIN_MAX_DELAY": "4", "KIEMTRA_LOGIN_MAX_FAILS_ADDR": "100000"})
    try:
        assert [_login_from(s, "127.0.0.4", user, "sai")[0] for _ in range(2)] == [401, 401]
        waits = []
        for _ in range(4):
            status, headers, body = _login_from(s, "127.0.0.4", user, "sai")
            assert status == 429, (status, body)
            wait = int(headers["Retry-After"])
            assert body["error"]["details"]["retry_after"] == wait, body
            assert "thử lại sau" in body["error"]["message"], body
            # Even the right password waits: the delay is for this computer and account.
            assert _login_from(s, "127.0.0.4", user, st["students"][user])[0] == 429
            waits.append(wait)
            time.sleep(wait + 0.05)
            assert _login_from(s, "127.0.0.4", user, "sai")[0] == 401
        assert waits == [1, 2, 4, 4], waits  # doubles, up to the cap
        status, headers, _ = _login_from(s, "127.0.0.4", user, st["students"][user])
        assert status == 429 and int(headers["Retry-After"]) == 4
        time.sleep(4.05)
        status, _, body = _login_from(s, "127.0.0.4", user, st["students"][user])
        assert status == 200, (status, body)
        # A success clears the count: the free tries are back.
        assert [_login_from(s, "127.0.0.4", user, "sai")[0] for _ in range(3)] == [401, 401, 429]
    finally:
        assert s.stop() == 0


def test_concurrent_guesses_are_counted_before_they_are_checked(env):
    st = _setup(env)
    s = env.main_server()
    user = st["names"][2]

    def guess(i):
        return _login_from(s, "127.0.0.5", user, f"song-song-{i}")[0]

    with ThreadPoolExecutor(30) as pool:
        codes = list(pool.map(guess, range(30)))
    assert codes.count(401) <= 5 and codes.count(401) + codes.count(429) == 30, codes
    assert _login_from(s, "127.0.0.6", user, st["students"][user])[0] == 200


def test_address_cap_bounds_spraying(env):
    st = _setup(env)
    s = Server(env, {"KIEMTRA_LOGIN_MAX_FAILS_ADDR": "6"})
    try:
        # Six names, one wrong password each, from one address: the address waits.
        for i in range(6):
            assert _login_from(s, "127.0.0.7", f"phun-{i}", "x")[0] == 401
        status, headers, body = _login_from(s, "127.0.0.7", st["names"][3],
                                            st["students"][st["names"][3]])
        assert status == 429 and int(headers["Retry-After"]) > 0, (status, body)
        assert body["error"]["details"]["scope"] == "address", body
        # Other computers are not affected.
        assert _login_from(s, "127.0.0.8", st["names"][3], st["students"][st["names"][3]])[0] == 200
    finally:
        assert s.stop() == 0


def test_teacher_unlocks_an_account(env):
    st = _setup(env)
    s = env.main_server()
    user = st["names"][4]
    for i in range(6):
        _login_from(s, "127.0.0.9", user, f"sai-{i}")
    assert _login_from(s, "127.0.0.9", user, st["students"][user])[0] == 429
    url = f"/api/v1/users/{_uid(env, user)}/unlock"
    # A student, or a teacher of another school, cannot.
    assert s.request("POST", url, token=s.login(st["names"][5], st["students"][st["names"][5]])
                     ).status == 403
    other = s.request("POST", url, token=s.login("gv.ahdb", PW))
    assert other.status == 404 and other.json()["error"]["code"] == "not_found", other
    assert _login_from(s, "127.0.0.9", user, st["students"][user])[0] == 429
    # A teacher cannot unlock the school admin; the school admin can.
    gv = s.login("gv.ahd", PW)
    assert s.request("POST", f"/api/v1/users/{_uid(env, 'bgh.ahd')}/unlock", token=gv).status == 404
    before = int(env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'login.unlock'"))
    r = s.request("POST", url, token=gv)
    assert r.status == 200 and r.json() == {"user_id": _uid(env, user), "cleared": 1}, r
    audit = env.cluster.psql("SELECT a.actor_id, a.entity, a.entity_id, a.new_value->>'cleared'"
                             " FROM audit_log a WHERE a.action = 'login.unlock'"
                             " ORDER BY a.id DESC LIMIT 1")
    assert audit == f"{_uid(env, 'gv.ahd')}|user|{_uid(env, user)}|1", audit
    assert int(env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'login.unlock'")) \
        == before + 1
    status, _, body = _login_from(s, "127.0.0.9", user, st["students"][user])
    assert status == 200, (status, body)
    assert s.request("POST", "/api/v1/users/abc/unlock", token=gv).status in (400, 404)


# --------------------------------------------------------------------------
# Logout

def test_logout_stops_the_token_at_once(env):
    """Other connections use the token in a tight loop while it is logged
    out; no request sent after the 204 may succeed."""
    st = _setup(env)
    s = env.main_server()
    user = st["names"][6]
    late = []
    for _ in range(6):
        token = s.login(user, st["students"][user])
        stop = threading.Event()
        logged_out = [None]  # monotonic time the 204 was read

        def hammer():
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            try:
                end = time.monotonic() + 10
                while not stop.is_set() and time.monotonic() < end:
                    sent = time.monotonic()
                    conn.request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + token})
                    r = conn.getresponse()
                    r.read()
                    if r.status == 200 and logged_out[0] is not None and sent > logged_out[0]:
                        late.append(sent - logged_out[0])
            finally:
                conn.close()

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        r = s.request("POST", "/api/v1/auth/logout", token=token)
        logged_out[0] = time.monotonic()
        assert r.status == 204, r
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        assert s.request("GET", "/api/v1/me", token=token).status == 401
    assert not late, f"{len(late)} requests sent after the 204 succeeded, up to {max(late):.3f} s"


# --------------------------------------------------------------------------
# Số định danh

def test_national_id_reads_and_exports_are_audited(env):
    st = _setup(env)
    s = env.main_server()
    admin = s.login("bgh.ahd", PW)
    a, b = (_uid(env, n) for n in st["names"][:2])
    assert s.request("PUT", f"/api/v1/students/{a}/national-id", {"national_id": "001210123456"},
                     admin).status == 200
    assert s.request("PUT", f"/api/v1/students/{b}/national-id", {"national_id": "001210654321"},
                     admin).status == 200
    admin_id = _uid(env, "bgh.ahd")

    def audits(action):
        return env.cluster.psql(
            "SELECT actor_id, entity, entity_id, new_value::text FROM audit_log"
            f" WHERE action = '{action}' AND school_id = (SELECT id FROM schools"
            " WHERE code = 'AHD-A') ORDER BY id").splitlines()

    assert audits("student.national_id.read") == []
    r = s.request("GET", f"/api/v1/students/{a}/national-id", token=admin)
    assert r.status == 200 and r.json() == {"national_id": "001210123456"}, r
    rows = audits("student.national_id.read")
    assert len(rows) == 1 and rows[0].startswith(f"{admin_id}|user|{a}|"), rows
    # A refused read (a teacher) leaves nothing to audit and shows nothing.
    assert s.request("GET", f"/api/v1/students/{a}/national-id",
                     token=s.login("gv.ahd", PW)).status == 403
    assert len(audits("student.national_id.read")) == 1

    q = (f"/api/v1/exports/records?class_id={st['class_id']}&year={YEAR}&semester=1"
         "&subject=TOAN&format=csv")
    plain = s.request("GET", q, token=admin)
    assert plain.status == 200 and "001210123456" not in plain.body.decode("utf-8-sig")
    assert audits("student.national_id.export") == []
    c = s.request("GET", q + "&national_id=1", token=admin)
    assert c.status == 200, c
    # The sheet is what Vietnamese-locale Excel opens: ';' between fields.
    assert any("001210123456" in row for row in csv.reader(io.StringIO(
        c.body.decode("utf-8-sig")), delimiter=";")), c.body[:400]
    rows = audits("student.national_id.export")
    assert len(rows) == 1, rows
    actor, entity, entity_id, value = rows[0].split("|", 3)
    assert (int(actor), entity, int(entity_id)) == (admin_id, "class", st["class_id"]), rows
    value = json.loads(value)
    assert sorted(value["students"]) == sorted([a, b]), value
    assert value["format"] == "csv" and value["semester"] == 1 and value["subject"] == "TOAN", value


def test_serve_refuses_a_key_readable_by_others(env):
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    key = os.path.join(tmp, "secret.key")
    with open(key, "w") as f:
        f.write(os.urandom(32).hex())
    e = dict(env.base_env, KIEMTRA_SECRET_KEY_FILE=key)
    for mode in (0o644, 0o640, 0o604):
        os.chmod(key, mode)
        e["KIEMTRA_PORT"] = str(free_port())
        p = subprocess.Popen([env.binary, "serve"], env=e, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        try:
            out, _ = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise AssertionError(f"serve started with a key file of mode {mode:o}")
        assert p.returncode != 0, out
        assert key in out and "chmod 600" in out, out
    # With 0600 it starts.
    os.chmod(key, 0o600)
    s = Server(env, {"KIEMTRA_SECRET_KEY_FILE": key})
    assert s.stop() == 0
