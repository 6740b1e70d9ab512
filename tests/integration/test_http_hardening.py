"""The HTTP front door under abuse: bodies limited per route and read only
after the caller is known, large JSON parsed off the event loop, a client
that half-closes still gets its reply, and connections capped below the
descriptor limit (in all and per address) without the listener spinning
when descriptors run out."""
import json
import os
import resource
import socket
import stat
import tempfile
import threading
import time
import types

from harness import Server
from test_import import ITEM
from test_items import _setup


def _head_only(port, head, timeout=3.0, source=None):
    """Sends a request head (no body) and returns what the server answers
    within timeout, or b"" when it waits for the body."""
    c = socket.create_connection(("127.0.0.1", port), source_address=source)
    c.settimeout(timeout)
    try:
        c.sendall(head)
        out = b""
        deadline = time.time() + timeout
        while b"\r\n\r\n" not in out and time.time() < deadline:
            try:
                chunk = c.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        c.close()


def _status(raw):
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else None


def _proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} for {pid}")


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _get(sock, path="/livez"):
    """One keep-alive GET on an open socket; returns (status, seconds)."""
    t0 = time.time()
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    out = b""
    while b"\r\n\r\n" not in out:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        out += chunk
    head, rest = out.split(b"\r\n\r\n", 1)
    length = int([ln.split(b":")[1] for ln in head.split(b"\r\n")
                  if ln.lower().startswith(b"content-length:")][0])
    while len(rest) < length:
        rest += sock.recv(65536)
    return _status(out), time.time() - t0


def _limited_server(env, nofile, extra_env):
    """A server started under `ulimit -n nofile` (soft and hard)."""
    d = tempfile.mkdtemp(dir=env.cluster.dir)
    wrapper = os.path.join(d, "kiemtra-limited")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nulimit -n {nofile}\nexec "{env.binary}" "$@"\n')
    os.chmod(wrapper, stat.S_IRWXU)
    proxy = types.SimpleNamespace(base_env=env.base_env, binary=wrapper, cluster=env.cluster)
    return Server(proxy, extra_env)


def _teacher(env):
    _, tok = _setup(env)
    return tok["gv.itema"], tok["hs.itema"]


# --------------------------------------------------------------------------
# Request bodies (issue 11, point 7)


def test_login_big_body_refused_before_reading(env):
    # ASan keeps freed buffers in a quarantine (256 MB by default): memory the
    # server no longer uses, which would blur the peak measured below.
    asan = env.base_env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=8"
    s = Server(env, {"KIEMTRA_WORKERS": "1", "ASAN_OPTIONS": asan})
    try:
        t0 = time.time()
        raw = _head_only(s.port, b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 33554432\r\n\r\n")
        assert _status(raw) == 413, f"no early 413 for a 32 MiB login body: {raw[:200]!r}"
        assert time.time() - t0 < 2
        assert b'"code":"body_too_large"' in raw, raw

        # The same body actually sent: the server must not buffer or parse it.
        hwm0 = _proc_status(s.proc.pid, "VmHWM")
        pad = b"a" * (32 * 1024 * 1024 - 64)
        body = b'{"username":"khong-co","password":"' + pad + b'"}'
        c = socket.create_connection(("127.0.0.1", s.port))
        c.settimeout(10)
        t0 = time.time()
        try:
            c.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: "
                      + str(len(body)).encode() + b"\r\n\r\n" + body)
        except OSError:
            pass  # the server refused early and stopped reading
        try:
            reply = c.recv(65536)
        except OSError:
            reply = b""
        c.close()
        grown = _proc_status(s.proc.pid, "VmHWM") - hwm0
        assert grown < 48 * 1024, f"peak RSS grew by {grown} KiB for one refused login body"
        assert reply == b"" or _status(reply) == 413, reply[:200]
        assert time.time() - t0 < 10
        # Small logins still work on the same server.
        r = s.request("POST", "/api/v1/auth/login", {"username": "khong-co", "password": "x"})
        assert r.status == 401, r
    finally:
        s.stop()


def test_large_bodies_need_a_valid_token(env):
    teacher, student = _teacher(env)
    s = Server(env, {"KIEMTRA_MAX_BODY": str(4 * 1024 * 1024)})
    try:
        imp = "/api/v1/items/import?subject=TOAN&grade=10"

        def head(path, length, token=None, method="POST", ctype="application/xml"):
            h = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
            if token:
                h += f"Authorization: Bearer {token}\r\n"
            return _head_only(s.port, (h + f"Content-Length: {length}\r\n\r\n").encode())

        # An upload without a token, or with an unknown one: 401 before any body byte.
        assert _status(head(imp, 3 * 1024 * 1024)) == 401
        assert _status(head(imp, 3 * 1024 * 1024, "k" * 43)) == 401
        # A student may not import: 403, also before the body.
        assert _status(head(imp, 3 * 1024 * 1024, student)) == 403
        # Beyond KIEMTRA_MAX_BODY even for a teacher: 413.
        assert _status(head(imp, 5 * 1024 * 1024, teacher)) == 413
        # A JSON route: more than 64 KiB is read only after the token is checked.
        assert _status(head("/api/v1/tests", 200 * 1024, ctype="application/json")) == 401
        # Saves are small: an answer of 100 KiB is refused before it is read.
        assert _status(head("/api/v1/attempts/1/responses/c1", 100 * 1024, teacher, "PUT",
                            "application/json")) == 413
        # Logout carries no body worth reading.
        assert _status(head("/api/v1/auth/logout", 10 * 1024, teacher,
                            ctype="application/json")) == 413

        # A teacher's large upload is read once the token is checked, then imported.
        big = ITEM.replace("imp-thu-do", "http-lon-1").replace(
            "<itemBody>", "<itemBody><!-- " + "đệm " * 60000 + "-->")
        assert len(big.encode()) > 256 * 1024
        r = s.request("POST", imp, big.encode(), teacher, {"Content-Type": "application/xml"})
        assert r.status == 201, r
        r = s.request("POST", imp, big.encode(), teacher,
                      {"Content-Type": "application/xml", "Expect": "100-continue"})
        assert r.status in (200, 201), r
    finally:
        s.stop()


def test_big_json_parsed_off_the_loop(env):
    teacher, _ = _teacher(env)
    s = Server(env, {"KIEMTRA_WORKERS": "1", "KIEMTRA_MAX_JSON_BODY": str(16 * 1024 * 1024)})
    try:
        body = b'{"ten":"x","rac":[' + b"0," * (2 * 1024 * 1024) + b'0]}'
        lat, stop = [], threading.Event()

        def probe():
            with socket.create_connection(("127.0.0.1", s.port)) as c:
                c.settimeout(30)
                while not stop.is_set():
                    st, dt = _get(c)
                    assert st == 200
                    lat.append(dt)
                    time.sleep(0.005)

        t = threading.Thread(target=probe)
        t.start()
        time.sleep(0.3)
        t0 = time.time()
        r = s.request("POST", "/api/v1/tests", body, teacher,
                      {"Content-Type": "application/json"}, timeout=120)
        took = time.time() - t0
        time.sleep(0.3)
        stop.set()
        t.join()
        assert r.status in (400, 422), r  # parsed, then refused by the handler
        assert lat, "the /livez probe got no answer"
        print(f"    big JSON request {took:.2f} s; /livez max {max(lat) * 1000:.0f} ms"
              f" over {len(lat)} probes")
        assert max(lat) < 0.5, f"/livez stalled {max(lat):.2f} s while a body was parsed"
    finally:
        s.stop()


# --------------------------------------------------------------------------
# Half-closed clients (point 15)


def _half_closed(port, data, timeout=5):
    with socket.create_connection(("127.0.0.1", port)) as c:
        c.settimeout(timeout)
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        out, t0 = b"", time.time()
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            out += chunk
        return out, time.time() - t0


def test_half_closed_client_gets_its_reply(env):
    teacher, _ = _teacher(env)
    s = env.main_server()
    out, took = _half_closed(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert _status(out) == 200 and b'"database":"up"' in out, out[:300]
    assert took < 2, f"the connection was not closed after the reply ({took:.1f} s)"
    out, _ = _half_closed(s.port, f"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n"
                          f"Authorization: Bearer {teacher}\r\n\r\n".encode())
    assert _status(out) == 200 and b"gv.itema" in out, out[:300]
    # Two pipelined requests, then EOF: both answered, in order.
    out, took = _half_closed(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                             + f"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n"
                             f"Authorization: Bearer {teacher}\r\n\r\n".encode())
    assert out.count(b"HTTP/1.1 200 ") == 2, out[:600]
    assert out.index(b'"database":"up"') < out.index(b"gv.itema")
    assert took < 2
    # A request cut short by EOF is not answered; the connection just closes.
    out, took = _half_closed(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    assert out == b"" and took < 2


# --------------------------------------------------------------------------
# Descriptors and connection caps (point 8)


def _open_idle(port, n, source=None):
    socks = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), source_address=source)
        c.settimeout(5)
        socks.append(c)
    return socks


def _closed_by_server(c, wait):
    c.settimeout(wait)
    try:
        data = c.recv(4096)
    except socket.timeout:
        return False
    except OSError:
        return True
    return data == b"" or data.startswith(b"HTTP/1.1 503 ")


def test_per_address_cap(env):
    s = Server(env, {"KIEMTRA_MAX_CONNECTIONS_PER_ADDR": "5"})
    socks = []
    try:
        socks = _open_idle(s.port, 5)
        for c in socks:
            assert _get(c)[0] == 200
        extra = socket.create_connection(("127.0.0.1", s.port))
        extra.settimeout(5)
        got = extra.recv(4096)
        extra.close()
        assert _status(got) == 503 and b"too_many_connections" in got, got[:300]
        # Another address is not affected.
        other = socket.create_connection(("127.0.0.1", s.port), source_address=("127.0.0.2", 0))
        other.settimeout(5)
        assert _get(other)[0] == 200
        other.close()
        # A slot freed is a slot for the same address again.
        socks.pop().close()
        time.sleep(0.3)
        again = socket.create_connection(("127.0.0.1", s.port))
        again.settimeout(5)
        assert _get(again)[0] == 200
        socks.append(again)
    finally:
        for c in socks:
            c.close()
        s.stop()


def test_idle_timeout_shorter_under_pressure(env):
    s = Server(env, {"KIEMTRA_MAX_CONNECTIONS": "40", "KIEMTRA_IDLE_TIMEOUT": "300",
                     "KIEMTRA_IDLE_TIMEOUT_BUSY": "1"})
    socks = []
    try:
        few = _open_idle(s.port, 5)
        socks += few
        for c in few:
            assert _get(c)[0] == 200
        time.sleep(2.5)
        assert not any(_closed_by_server(c, 0.05) for c in few), "closed below the high-water mark"
        many = _open_idle(s.port, 30)  # 35 of 40: above the high-water mark
        socks += many
        for c in many:
            assert _get(c)[0] == 200
        closed = sum(_closed_by_server(c, 3) for c in socks)
        assert closed >= 30, f"only {closed} of {len(socks)} idle connections closed under pressure"
        with socket.create_connection(("127.0.0.1", s.port)) as c:
            c.settimeout(5)
            assert _get(c)[0] == 200
    finally:
        for c in socks:
            c.close()
        s.stop()


def test_descriptor_limit_no_spin(env):
    s = _limited_server(env, 128, {"KIEMTRA_WORKERS": "1", "KIEMTRA_DB_POOL": "2",
                                   "KIEMTRA_ACCESS_LOG": "0", "KIEMTRA_IDLE_TIMEOUT_BUSY": "3"})
    pid = s.proc.pid
    socks = []
    try:
        # More connections than descriptors: the cap refuses the extra ones.
        log0, cpu0 = os.path.getsize(s.log_path), _cpu_seconds(pid)
        for _ in range(160):
            try:
                socks.append(socket.create_connection(("127.0.0.1", s.port), timeout=2))
            except OSError:
                break
        time.sleep(3)
        cpu = _cpu_seconds(pid) - cpu0
        logged = os.path.getsize(s.log_path) - log0
        assert cpu < 0.6, f"server used {cpu:.2f} s of CPU in 3 s at the descriptor limit"
        assert logged < 20000, f"{logged} bytes of log in 3 s"
        assert s.proc.poll() is None
        # Idle connections are dropped sooner under pressure: the server serves again.
        deadline, ok = time.time() + 10, False
        while time.time() < deadline and not ok:
            try:
                ok = s.request("GET", "/livez", timeout=2).status == 200
            except OSError:
                time.sleep(0.3)
        assert ok, "no /livez while the attacker holds its sockets"
        for c in socks:
            c.close()
        socks = []
        time.sleep(0.5)
        assert s.request("GET", "/healthz").status == 200

        # Descriptors run out below the cap (the limit lowered under the
        # server's feet): the listener backs off instead of spinning.
        nfd = len(os.listdir(f"/proc/{pid}/fd"))
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (nfd + 2, 128))
        log0, cpu0 = os.path.getsize(s.log_path), _cpu_seconds(pid)
        for _ in range(20):
            socks.append(socket.create_connection(("127.0.0.1", s.port), timeout=2))
        time.sleep(3)
        cpu = _cpu_seconds(pid) - cpu0
        logged = os.path.getsize(s.log_path) - log0
        assert cpu < 0.6, f"server used {cpu:.2f} s of CPU in 3 s out of descriptors"
        assert logged < 4000, f"{logged} bytes of log in 3 s out of descriptors"
        assert "descriptors" in s.log_text(), "the back-off is not logged"
        # Descriptors come back: the waiting connections are served.
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (128, 128))
        for c in socks[-5:]:
            assert _get(c)[0] == 200
        for c in socks:
            c.close()
        socks = []
        time.sleep(0.5)
        assert s.request("GET", "/healthz").status == 200
    finally:
        for c in socks:
            c.close()
        s.stop()
