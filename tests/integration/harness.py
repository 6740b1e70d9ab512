"""Integration-test harness: a throwaway PostgreSQL cluster on a free port,
the real kiemtra binary, and a small HTTP client. Standard library only.

Tests are plain functions named test_* taking the Env; run.py collects them.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """An embedded cluster under var/test-<pid>, removed at the end."""

    def __init__(self):
        os.makedirs(os.path.join(ROOT, "var"), exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="test-pg-", dir=os.path.join(ROOT, "var"))
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.sock = os.path.join(self.dir, "run")
        subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), "init", self.dir], check=True)
        self.start()

    def start(self):
        subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), "start", self.dir, str(self.port)],
                       check=True)

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts/pg.sh"), "stop", self.dir], check=True)

    def url(self, db, user="kiemtra"):
        return f"host={self.sock} port={self.port} dbname={db} user={user}"

    def psql(self, sql, db="kiemtra", user="kiemtra", check=True):
        """Runs SQL with psql; returns stdout (tuples only, | separated)."""
        p = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", self.sock,
                            "-p", str(self.port), "-U", user, "-d", db, "-c", sql],
                           capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"psql failed: {p.stderr}")
        return p.stdout.strip() if check else p

    def destroy(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    """The kiemtra binary serving on a free port, with its stderr kept in a file."""

    def __init__(self, env, extra_env=None):
        self.env = env
        self.port = free_port()
        self.log_path = os.path.join(env.cluster.dir, f"server-{self.port}.log")
        e = dict(env.base_env)
        e.update({"KIEMTRA_PORT": str(self.port), "KIEMTRA_WORKERS": "2", "KIEMTRA_DB_POOL": "3"})
        e.update(extra_env or {})
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([env.binary, "serve"], env=e, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.request("GET", "/healthz").status == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError("server exited at start:\n" + self.log_text())
            time.sleep(0.1)
        raise AssertionError("server did not become healthy:\n" + self.log_text())

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def request(self, method, path, body=None, token=None, headers=None, timeout=15):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            h = dict(headers or {})
            if token:
                h["Authorization"] = "Bearer " + token
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read())
        finally:
            conn.close()

    def wait_scored(self, attempt_id, token, timeout=30):
        """The attempt as GET shows it once scored (a submit is acknowledged
        before its scoring): polled with backoff as a client would, bounded."""
        deadline, pause = time.time() + timeout, 0.02
        while True:
            r = self.request("GET", f"/api/v1/attempts/{attempt_id}", token=token)
            assert r.status == 200, r
            if r.json().get("scored"):
                return r.json()
            assert time.time() < deadline, f"attempt {attempt_id} not scored in {timeout} s"
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def login(self, username, password):
        r = self.request("POST", "/api/v1/auth/login", {"username": username, "password": password})
        assert r.status == 200, f"login {username}: {r}"
        return r.json()["token"]

    def stop(self):
        """Stops with SIGTERM and checks that the sanitizers reported nothing."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop on SIGTERM")
        self.log.close()
        text = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer"):
            if marker in text:
                at = text.find(marker)
                raise AssertionError("sanitizer report in server log:\n" + text[at:at + 6000])
        return self.proc.returncode


class Env:
    """What every test gets: the cluster, a migrated database, the binary."""

    def __init__(self, build_dir):
        self.binary = os.path.join(os.path.abspath(build_dir), "kiemtra")
        self.cluster = Cluster()
        self.cluster.psql("CREATE DATABASE kiemtra", db="postgres")
        self.secret_key = os.path.join(self.cluster.dir, "secret.key")
        with open(self.secret_key, "w") as f:
            f.write(os.urandom(32).hex())
        os.chmod(self.secret_key, 0o600)
        self.base_env = dict(os.environ)
        self.base_env.update({
            "KIEMTRA_SECRET_KEY_FILE": self.secret_key,
            "KIEMTRA_ADMIN_DATABASE_URL": self.cluster.url("kiemtra"),
            "KIEMTRA_DATABASE_URL": self.cluster.url("kiemtra", "kiemtra_app"),
            "KIEMTRA_ACCESS_LOG": "1",
            "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1",
        })
        self.cli("migrate")
        self.cluster.psql("ALTER ROLE kiemtra_app WITH LOGIN")
        self.server = None

    def cli(self, *args, env=None, check=True):
        e = dict(self.base_env)
        e.update(env or {})
        p = subprocess.run([self.binary, *args], env=e, capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"kiemtra {' '.join(args)} failed ({p.returncode}):\n"
                                 f"{p.stdout}\n{p.stderr}")
        return p

    def main_server(self):
        if self.server is None or self.server.proc.poll() is not None:
            self.server = Server(self, {"KIEMTRA_LOGIN_MAX_FAILS_ADDR": "100000"})
        return self.server

    def close(self):
        try:
            if self.server:
                self.server.stop()
        finally:
            self.cluster.destroy()
