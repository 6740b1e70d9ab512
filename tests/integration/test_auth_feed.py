"""The revocation feed (gateway/authfeed.c, migration 0036): a gateway
remembers a checked token for long only while it hears, through LISTEN
kt_auth, of every session ended and every account changed by any process.
Both gateways here would remember a token for ten minutes either way, so a
refusal within seconds can only come from the feed."""
import re
import time

from harness import Server

PW = "Feed-pass-1234"
LONG = {"KIEMTRA_AUTH_CACHE_MS": "60000", "KIEMTRA_AUTH_FEED_CACHE_MS": "600000"}


def _metric(server, name, labels=""):
    text = server.request("GET", "/metrics").body.decode()
    m = re.search(rf"^{name}{re.escape(labels)} (\d+)$", text, re.M)
    return int(m.group(1)) if m else 0


def _until(what, fn, secs=10):
    deadline = time.time() + secs
    while time.time() < deadline:
        if fn():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {secs} s: {what}")


def _me(server, token):
    return server.request("GET", "/api/v1/me", token=token).status


def _remembered_by_both_workers(server, token):
    before = _metric(server, "kiemtra_auth_token_checks_total", '{source="memory"}')
    for _ in range(6):
        assert _me(server, token) == 200
    # Most of these were answered from memory (each worker asked once).
    assert _metric(server, "kiemtra_auth_token_checks_total",
                   '{source="memory"}') - before >= 4


def test_sessions_ended_anywhere_are_forgotten_everywhere(env):
    env.cli("schools", "add", "FEED", "Trường Thử Thu Hồi", "--province", "01")
    for u in ("feed.gv", "feed.gv2"):
        env.cli("users", "add", "--username", u, "--full-name", "Giáo viên Thu Hồi",
                "--role", "teacher", "--school", "FEED", env={"KIEMTRA_NEW_PASSWORD": PW})
    a, b = Server(env, LONG), Server(env, LONG)
    try:
        for s in (a, b):
            _until("the feed listens", lambda s=s: _metric(s, "kiemtra_auth_feed_up") == 1)
        # A logout through one gateway reaches the other.
        tok = a.login("feed.gv", PW)
        _remembered_by_both_workers(b, tok)
        events = _metric(b, "kiemtra_auth_feed_events_total")
        assert a.request("POST", "/api/v1/auth/logout", token=tok).status in (200, 204)
        _until("B refuses the token logged out through A", lambda: _me(b, tok) == 401)
        assert _metric(b, "kiemtra_auth_feed_events_total") > events
        # A session removed in the database, by no gateway at all.
        tok = a.login("feed.gv", PW)
        _remembered_by_both_workers(b, tok)
        env.cluster.psql("DELETE FROM auth_sessions WHERE user_id ="
                         " (SELECT id FROM users WHERE username = 'feed.gv')")
        _until("B refuses a session deleted in the database", lambda: _me(b, tok) == 401)
        assert _me(a, tok) == 401
        # An account disabled: its live token stops working everywhere.
        tok = a.login("feed.gv", PW)
        _remembered_by_both_workers(b, tok)
        env.cluster.psql("UPDATE users SET disabled = true WHERE username = 'feed.gv'")
        _until("B refuses the token of a disabled account", lambda: _me(b, tok) == 401)
        env.cluster.psql("UPDATE users SET disabled = false WHERE username = 'feed.gv'")
        # A change the feed never announced (triggers off), then the feed's
        # connection lost: everything remembered is forgotten, so the next
        # request asks the database again.
        tok = a.login("feed.gv2", PW)
        _remembered_by_both_workers(b, tok)
        env.cluster.psql("SET session_replication_role = replica;"
                         " DELETE FROM auth_sessions WHERE user_id ="
                         " (SELECT id FROM users WHERE username = 'feed.gv2')")
        time.sleep(0.5)
        assert _me(b, tok) == 200  # still remembered: nothing was announced
        connects = _metric(b, "kiemtra_auth_feed_connects_total")
        assert env.cluster.psql("SELECT count(*) > 0 FROM (SELECT pg_terminate_backend(pid)"
                                " FROM pg_stat_activity"
                                " WHERE application_name = 'kiemtra-authfeed') t") == "t"
        _until("B's feed listens again",
               lambda: _metric(b, "kiemtra_auth_feed_connects_total") > connects
               and _metric(b, "kiemtra_auth_feed_up") == 1)
        assert _me(b, tok) == 401
        assert "until it is back" in b.log_text()  # the loss was logged
    finally:
        assert a.stop() == 0
        assert b.stop() == 0


def test_a_token_just_issued_needs_no_lookup(env):
    """The login remembers the token it issued, as a lookup just after its
    commit would: the first requests of a start storm ask no database for
    it. A logout still ends it at once."""
    env.cli("schools", "add", "FEED2", "Trường Thử Đăng Nhập", "--province", "01")
    env.cli("users", "add", "--username", "feed2.gv", "--full-name", "Giáo viên Đăng Nhập",
            "--role", "teacher", "--school", "FEED2", env={"KIEMTRA_NEW_PASSWORD": PW})
    s = Server(env, LONG)
    try:
        db = '{source="database"}'
        before = _metric(s, "kiemtra_auth_token_checks_total", db)
        tok = s.login("feed2.gv", PW)
        for _ in range(4):
            r = s.request("GET", "/api/v1/me", token=tok)
            assert r.status == 200 and r.json()["username"] == "feed2.gv", r
        assert _metric(s, "kiemtra_auth_token_checks_total", db) == before
        assert s.request("POST", "/api/v1/auth/logout", token=tok).status in (200, 204)
        assert _me(s, tok) == 401
    finally:
        assert s.stop() == 0
