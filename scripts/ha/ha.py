#!/usr/bin/env python3
"""Many gateways behind HAProxy, PostgreSQL managed by Patroni with etcd, all
on one machine: the local layout of the `ha` profile of docker-compose.yml,
from Debian packages (scripts/deps.sh ha), no containers.

    etcd (one member) <- Patroni pg1, pg2 (PostgreSQL 15, synchronous standby)
    HAProxy            -- students -> gateways (health check GET /healthz)
                          gateways -> the PostgreSQL primary (Patroni's GET /primary)
    kiemtra serve x N  -- one conninfo: HAProxy's PostgreSQL frontend

Every process listens on a free loopback port, keeps its files in a
temporary directory under var/ and is stopped by its PID at the end.
Patroni and HAProxy read the same configuration files as the compose profile
(scripts/ha/patroni.yml, scripts/ha/haproxy.cfg), the per-node values from
the environment.

Used by tests/integration/test_failover.py (a reduced run in `make test`)
and from the command line (`make ha`):

    scripts/ha/ha.py failover BUILD_DIR [--students N] [--duration S] ...
        an exam through `kiemtra bench --retry` while one gateway is killed
        (-9) and restarted, then the PostgreSQL primary is killed (-9) and
        later restarted; prints the figures (JSON) and checks them
    scripts/ha/ha.py scale BUILD_DIR [--students N] [--duration S] ...
        the same exam through HAProxy with 1 gateway, then with 2
    scripts/ha/ha.py restore BUILD_DIR
        base backup + archived WAL -> a restored cluster that has every
        acknowledged save (also part of `failover`)
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PGBIN = "/usr/lib/postgresql/15/bin"
PATRONI_YML = os.path.join(HERE, "patroni.yml")
HAPROXY_CFG = os.path.join(HERE, "haproxy.cfg")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(what, fn, timeout, interval=0.2):
    """Calls fn until it returns something true (returned); raises when the
    deadline passes. Exceptions of fn count as 'not yet'."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - not ready yet
            last = e
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                                 + (f" (last error: {last})" if last else ""))
        time.sleep(interval)


def http_get(url, timeout=2):
    """(status, parsed JSON or None); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read(), e.code
    except OSError:
        return 0, None
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def descendants(pid):
    """Every process below pid (from /proc)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for c in children.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def kill9(pids):
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, argv, log_path, env=None, user=None, cwd=None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        kw = {}
        if user:
            kw.update(user=user, group=user)
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=cwd, **kw)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=30):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def kill9(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        self.log.close()

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Node:
    """One PostgreSQL node managed by its own Patroni."""

    def __init__(self, ha, name):
        self.ha = ha
        self.name = name
        self.pgport = free_port()
        self.restport = free_port()
        self.dir = os.path.join(ha.dir, name)
        self.data = os.path.join(self.dir, "data")
        self.patroni = None
        os.makedirs(self.dir, exist_ok=True)
        ha.own(self.dir)

    def env(self):
        e = dict(os.environ)
        e.update({
            "PATRONI_NAME": self.name,
            "PATRONI_RESTAPI_LISTEN": f"127.0.0.1:{self.restport}",
            "PATRONI_RESTAPI_CONNECT_ADDRESS": f"127.0.0.1:{self.restport}",
            "PATRONI_POSTGRESQL_LISTEN": f"127.0.0.1:{self.pgport}",
            "PATRONI_POSTGRESQL_CONNECT_ADDRESS": f"127.0.0.1:{self.pgport}",
            "PATRONI_POSTGRESQL_DATA_DIR": self.data,
            "PATRONI_POSTGRESQL_PGPASS": os.path.join(self.dir, "pgpass"),
            "PATRONI_ETCD3_HOSTS": f"127.0.0.1:{self.ha.etcd_port}",
            "PATRONI_SUPERUSER_USERNAME": "postgres",
            "PATRONI_SUPERUSER_PASSWORD": self.ha.pw["postgres"],
            "PATRONI_REPLICATION_USERNAME": "replicator",
            "PATRONI_REPLICATION_PASSWORD": self.ha.pw["replicator"],
            "PATRONI_REWIND_USERNAME": "rewinder",
            "PATRONI_REWIND_PASSWORD": self.ha.pw["rewinder"],
            "KT_WAL_ARCHIVE": self.ha.archive,
            "HOME": self.dir,
        })
        return e

    def start(self):
        self.patroni = Proc(["patroni", PATRONI_YML], os.path.join(self.dir, "patroni.log"),
                            env=self.env(), user=self.ha.owner, cwd=self.dir)

    def rest(self, path):
        return http_get(f"http://127.0.0.1:{self.restport}{path}")

    def is_primary(self):
        return self.rest("/primary")[0] == 200

    def is_replica(self):
        return self.rest("/replica")[0] == 200

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def kill9(self):
        """The machine dies: Patroni, the postmaster and its backends, at once."""
        pids = []
        if self.patroni and self.patroni.alive():
            pids.append(self.patroni.pid)
        pm = self.postmaster_pid()
        if pm:
            pids += [pm] + descendants(pm)
        kill9(pids)
        if self.patroni:
            self.patroni.kill9()

    def stop(self):
        if self.patroni:
            self.patroni.stop(timeout=40)
        pm = self.postmaster_pid()
        if pm and os.path.exists(f"/proc/{pm}"):
            subprocess.run((["runuser", "-u", self.ha.owner, "--"] if self.ha.owner else [])
                           + [f"{PGBIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                           capture_output=True)


class Gateway:
    def __init__(self, ha, idx):
        self.ha = ha
        self.idx = idx
        self.port = free_port()
        self.proc = None

    def start(self):
        e = dict(self.ha.base_env)
        e.update({"KIEMTRA_PORT": str(self.port), "KIEMTRA_WORKERS": str(self.ha.workers),
                  "KIEMTRA_DB_POOL": str(self.ha.db_pool), "KIEMTRA_ACCESS_LOG": "0",
                  "KIEMTRA_MAX_CONNECTIONS_PER_ADDR": "0",
                  "KIEMTRA_LOGIN_MAX_FAILS_ADDR": "1000000"})
        e.update(self.ha.gateway_env)
        self.proc = Proc([self.ha.binary, "serve"],
                         os.path.join(self.ha.dir, f"gateway{self.idx}.log"), env=e)
        until(f"gateway {self.idx} healthy",
              lambda: self.proc.alive() and http_get(self.url() + "/healthz")[0] == 200
              or (not self.proc.alive() and self._died()), 60)

    def _died(self):
        raise SystemExit(f"gateway {self.idx} exited:\n{self.proc.text()[-3000:]}")

    def url(self):
        return f"http://127.0.0.1:{self.port}"


class HA:
    def __init__(self, build, gateways=2, workers=2, db_pool=3, gateway_env=None, keep=False):
        self.binary = os.path.join(os.path.abspath(build), "kiemtra")
        if not os.access(self.binary, os.X_OK):
            raise SystemExit(f"{self.binary}: not built")
        for tool in ("patroni", "etcd", "haproxy"):
            if not shutil.which(tool):
                raise SystemExit(f"{tool} not installed: scripts/deps.sh ha")
        os.makedirs(os.path.join(ROOT, "var"), exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="ha-", dir=os.path.join(ROOT, "var"))
        os.chmod(self.dir, 0o755)
        self.owner = "postgres" if os.geteuid() == 0 else None
        self.keep = keep
        self.ngateways = gateways
        self.workers = workers
        self.db_pool = db_pool
        self.gateway_env = dict(gateway_env or {})
        self.pw = {k: secrets.token_hex(16) for k in ("postgres", "replicator", "rewinder",
                                                      "kiemtra_app")}
        self.archive = os.path.join(self.dir, "archive")
        os.makedirs(self.archive)
        self.own(self.archive)
        self.etcd = self.haproxy = None
        self.etcd_port = free_port()
        self.nodes = []
        self.gateways = []
        self.haproxy_port = free_port()
        self.pg_port = free_port()  # HAProxy's frontend to the primary
        self.session = None

    def own(self, path):
        if self.owner:
            shutil.chown(path, self.owner, self.owner)

    # -- start ---------------------------------------------------------------

    def start(self, students):
        t0 = time.time()
        self.start_etcd()
        self.nodes = [Node(self, "pg1"), Node(self, "pg2")]
        self.nodes[0].start()
        until("pg1 to bootstrap as primary", self.nodes[0].is_primary, 90)
        self.nodes[1].start()
        until("pg2 to stream as the synchronous standby", lambda: self.sync_standby() == "pg2",
              120, 0.5)
        self.gateways = [Gateway(self, i + 1) for i in range(self.ngateways)]
        self.start_haproxy()
        # HAProxy counts a server up until its first check says otherwise:
        # wait until every connection (round robin) lands on the primary.
        until("HAProxy to route to the primary only", lambda: all(
            self.psql("SELECT pg_is_in_recovery()", db="postgres") == "f" for _ in range(6)),
            30)
        self.prepare_db(students)
        for g in self.gateways:
            g.start()
        until("HAProxy to see the gateways", lambda: http_get(self.url() + "/healthz")[0] == 200,
              30)
        self.log(f"cluster up in {time.time() - t0:.1f} s: primary pg1, sync standby pg2,"
                 f" {self.ngateways} gateways behind HAProxy on {self.url()}")

    def log(self, msg):
        print(f"ha: {msg}", file=sys.stderr, flush=True)

    def start_etcd(self):
        peer = free_port()
        d = os.path.join(self.dir, "etcd")
        self.etcd = Proc(["etcd", "--name", "etcd1", "--data-dir", d,
                          "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                          "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                          "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                          "--initial-cluster", f"etcd1=http://127.0.0.1:{peer}",
                          "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}"],
                         os.path.join(self.dir, "etcd.log"))
        until("etcd", lambda: http_get(f"http://127.0.0.1:{self.etcd_port}/health")[0] == 200, 30)

    def cluster(self):
        """Patroni's view: {name: member} from any node that answers."""
        for n in self.nodes:
            st, j = n.rest("/cluster")
            if st == 200 and j:
                return {m["name"]: m for m in j.get("members", [])}
        return {}

    def sync_standby(self):
        for name, m in self.cluster().items():
            if m.get("role") == "sync_standby" and m.get("state") in ("streaming", "running"):
                return name
        return None

    def primary(self):
        for n in self.nodes:
            if n.is_primary():
                return n
        return None

    def conninfo(self, user, password):
        """Through HAProxy, to whichever node is the primary."""
        return (f"host=127.0.0.1 port={self.pg_port} dbname=kiemtra user={user}"
                f" password={password} connect_timeout=2")

    def psql(self, sql, db="kiemtra", node=None, check=True):
        """SQL as the superuser on the primary (or the given node); stdout,
        tuples only, | separated."""
        if node is None:
            target = self.conninfo("postgres", self.pw["postgres"]).replace("dbname=kiemtra",
                                                                           f"dbname={db}")
        else:
            target = (f"host=127.0.0.1 port={node.pgport} dbname={db} user=postgres"
                      f" password={self.pw['postgres']} connect_timeout=2")
        p = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", target,
                            "-c", sql], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"psql failed: {p.stderr}")
        return p.stdout.strip()

    def cli(self, *args):
        p = subprocess.run([self.binary, *args], env=self.base_env, capture_output=True,
                           text=True, cwd=ROOT)
        if p.returncode != 0:
            raise AssertionError(f"kiemtra {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
        return p.stdout

    def prepare_db(self, students):
        self.psql("CREATE DATABASE kiemtra", db="postgres")
        key = os.path.join(self.dir, "secret.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex())
        os.chmod(key, 0o600)
        self.password_file = os.path.join(self.dir, "bench-password")
        self.base_env = dict(os.environ)
        self.base_env.update({
            "KIEMTRA_SECRET_KEY_FILE": key,
            "KIEMTRA_ADMIN_DATABASE_URL": self.conninfo("postgres", self.pw["postgres"]),
            "KIEMTRA_DATABASE_URL": self.conninfo("kiemtra_app", self.pw["kiemtra_app"]),
        })
        self.cli("migrate")
        self.psql(f"ALTER ROLE kiemtra_app WITH LOGIN PASSWORD '{self.pw['kiemtra_app']}'")
        self.cli("taxonomy", "import", os.path.join(ROOT, "demo", "outcomes-toan10.csv"))
        self.fixture(students)

    def fixture(self, students):
        """A new session open to the bench school's students; returns its id."""
        self.session = self.cli("bench-fixture", "--students", str(students),
                                "--password-file", self.password_file).strip()
        return self.session

    def start_haproxy(self):
        with open(HAPROXY_CFG) as f:
            base = [ln for ln in f.read().splitlines() if not ln.strip().startswith("server ")]
        # The gateways' server lines go where the shared file has its own.
        at = next(i for i, ln in enumerate(base) if ln.strip().startswith("listen postgres"))
        servers = [f"    server gw{g.idx} 127.0.0.1:{g.port} check" for g in self.gateways]
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join(base[:at] + servers + [""] + base[at:]) + "\n")
            for n in self.nodes:
                f.write(f"    server {n.name} 127.0.0.1:{n.pgport} check port {n.restport}\n")
        e = dict(os.environ, KT_HAPROXY_BIND=f"127.0.0.1:{self.haproxy_port}",
                 KT_PG_BIND=f"127.0.0.1:{self.pg_port}")
        self.haproxy = Proc(["haproxy", "-db", "-f", cfg], os.path.join(self.dir, "haproxy.log"),
                            env=e)

    def url(self):
        return f"http://127.0.0.1:{self.haproxy_port}"

    # -- faults --------------------------------------------------------------

    def wait_rejoined(self, node, timeout=120):
        """node streams again as the synchronous standby of the current primary."""
        until(f"{node.name} to rejoin as the synchronous standby",
              lambda: node.is_replica() and self.sync_standby() == node.name, timeout, 0.5)

    # -- bench ---------------------------------------------------------------

    def bench(self, students, window, duration, think_ms, extra=()):
        """Starts `kiemtra bench --retry` through HAProxy; returns a Bench."""
        return Bench(self, [self.binary, "bench", "--url", self.url(), "--session", self.session,
                            "--students", str(students), "--window", str(window),
                            "--duration", str(duration), "--think-ms", str(think_ms),
                            "--password-file", self.password_file, "--retry", "--json",
                            *extra])

    # -- backups -------------------------------------------------------------

    def base_backup(self):
        """pg_basebackup of the primary (tar-free plain copy) under the work dir."""
        d = os.path.join(self.dir, "basebackup")
        p = self.primary()
        env = dict(os.environ, PGPASSWORD=self.pw["replicator"])
        r = subprocess.run([f"{PGBIN}/pg_basebackup", "-h", "127.0.0.1", "-p", str(p.pgport),
                            "-U", "replicator", "-D", d, "-X", "none", "-c", "fast",
                            "--no-password"], env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"pg_basebackup failed: {r.stderr}")
        return d

    def restore(self, backup):
        """A new cluster from the base backup and the WAL archive, recovered to
        the end of the archive; returns (port, data dir) once it is open."""
        # The last writes into the archive: the segment holding them is
        # closed, and its archiving awaited.
        last = self.psql("SELECT pg_walfile_name(pg_switch_wal())")
        until(f"WAL segment {last} to be archived", lambda: self.psql(
            "SELECT coalesce(last_archived_wal, '') >= '" + last + "' FROM pg_stat_archiver")
            == "t", 60, 0.5)
        d = os.path.join(self.dir, "restored")
        shutil.copytree(backup, d, symlinks=True)
        self.own(d)
        for root, dirs, files in os.walk(d):
            for x in dirs + files:
                self.own(os.path.join(root, x))
        os.chmod(d, 0o700)
        port = free_port()
        with open(os.path.join(d, "postgresql.auto.conf"), "a") as f:
            f.write(f"\nrestore_command = 'cp {self.archive}/%f %p'\n"
                    "recovery_target_timeline = 'latest'\n"
                    "archive_mode = off\nhot_standby = on\n"
                    f"port = {port}\nlisten_addresses = '127.0.0.1'\n"
                    "unix_socket_directories = '.'\nsynchronous_standby_names = ''\n"
                    "primary_conninfo = ''\nprimary_slot_name = ''\n")
        open(os.path.join(d, "recovery.signal"), "w").close()
        self.own(os.path.join(d, "recovery.signal"))
        self.restored = (port, d)
        cmd = [f"{PGBIN}/pg_ctl", "-D", d, "-l", os.path.join(self.dir, "restored.log"), "-w",
               "-t", "120", "start"]
        open(os.path.join(self.dir, "restored.log"), "a").close()
        self.own(os.path.join(self.dir, "restored.log"))
        r = subprocess.run((["runuser", "-u", self.owner, "--"] if self.owner else []) + cmd,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise AssertionError(f"restored cluster did not start: {r.stderr}")
        until("the restored cluster to finish recovery",
              lambda: self.restored_sql("SELECT NOT pg_is_in_recovery()") == "t", 120, 0.5)
        return port, d

    def restored_sql(self, sql):
        port, _ = self.restored
        p = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d",
                            f"host=127.0.0.1 port={port} dbname=kiemtra user=postgres"
                            f" password={self.pw['postgres']}", "-c", sql],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise AssertionError(f"psql on the restored cluster failed: {p.stderr}")
        return p.stdout.strip()

    def stop_restored(self):
        if getattr(self, "restored", None):
            _, d = self.restored
            cmd = [f"{PGBIN}/pg_ctl", "-D", d, "-m", "fast", "-w", "stop"]
            subprocess.run((["runuser", "-u", self.owner, "--"] if self.owner else []) + cmd,
                           capture_output=True)
            self.restored = None

    # -- stop ----------------------------------------------------------------

    def close(self):
        errors = []
        if self.haproxy:
            self.haproxy.stop()
        for g in self.gateways:
            if g.proc:
                g.proc.stop()
                for marker in ("ERROR: AddressSanitizer", "runtime error:",
                               "ERROR: LeakSanitizer"):
                    if marker in g.proc.text():
                        errors.append(f"gateway {g.idx}: {marker}")
        self.stop_restored()
        for n in self.nodes:
            n.stop()
        if self.etcd:
            self.etcd.stop()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        if errors:
            raise AssertionError("sanitizer reports: " + "; ".join(errors))


class Bench:
    """A running `kiemtra bench`; its stderr is followed to know when the exam
    has started."""

    def __init__(self, ha, argv):
        self.out_path = os.path.join(ha.dir, f"bench-{time.time():.0f}.json")
        self.err_lines = []
        self.started = threading.Event()
        self.t_run = None
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.PIPE, cwd=ROOT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            self.err_lines.append(line)
            print(line, file=sys.stderr, flush=True)
            if "students logged in" in line and not self.started.is_set():
                self.t_run = time.time()
                self.started.set()

    def wait_started(self, timeout):
        if not self.started.wait(timeout):
            raise AssertionError("bench: the logins did not finish:\n"
                                 + "\n".join(self.err_lines[-20:]))

    def at(self, seconds):
        """Sleeps until `seconds` after the exam started (scenario timing)."""
        d = self.t_run + seconds - time.time()
        if d > 0:
            time.sleep(d)

    def result(self, timeout):
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("bench did not finish in time")
        self.reader.join(5)
        self.out.close()
        with open(self.out_path) as f:
            text = f.read()
        try:
            return json.loads(text)
        except ValueError:
            raise AssertionError("bench printed no JSON:\n" + text[-2000:] + "\n"
                                 + "\n".join(self.err_lines[-30:]))


# -- scenarios -----------------------------------------------------------------

def failover_scenario(ha, students, window, duration, think_ms, restore=True):
    """The exam with the faults; returns the figures (asserted by the caller).

    exam second  window+2: kill -9 gateway 1; window+5: it is started again;
    window+8: kill -9 the PostgreSQL primary (Patroni and every postgres
    process of that node); once the standby is primary: the old primary's
    Patroni is started again and must rejoin as the synchronous standby.
    """
    figures = {}
    backup = ha.base_backup() if restore else None
    old = ha.primary()
    other = [n for n in ha.nodes if n is not old][0]
    b = ha.bench(students, window, duration, think_ms)
    b.wait_started(students / 10 + 120)
    b.at(window + 2)
    ha.log("kill -9 gateway 1")
    ha.gateways[0].proc.kill9()
    b.at(window + 5)
    ha.log("gateway 1 started again")
    ha.gateways[0].start()
    b.at(window + 8)
    ha.log(f"kill -9 the primary {old.name} (Patroni, postmaster, backends)")
    t_kill = time.time()
    old.kill9()
    until(f"{other.name} to be promoted", other.is_primary, 60, 0.1)
    figures["promoted_after_seconds"] = round(time.time() - t_kill, 1)
    ha.log(f"{other.name} is primary after {figures['promoted_after_seconds']} s;"
           f" starting {old.name} again")
    old.start()
    ha.wait_rejoined(old)
    figures["old_primary_rejoined_after_seconds"] = round(time.time() - t_kill, 1)
    ha.log(f"{old.name} streams again as the synchronous standby")
    r = b.result(students / 10 + window + duration + 400)
    figures["kill_primary_at_exam_second"] = round(t_kill - b.t_run, 1)
    figures["bench"] = {k: r.get(k) for k in (
        "saves_acknowledged", "lost_answers", "errors", "verified_attempts",
        "unverified_attempts", "students_not_finished", "retried", "retried_because",
        "retried_error_codes",
        "longest_gap_between_acknowledged_saves_seconds", "longest_gap_started_at_seconds",
        "ok")}
    figures["bench"]["ops"] = r["ops"]
    # Acknowledged saves per second of the exam (the bench's timeline counts
    # final replies only): the fewest while one gateway was down.
    per_second = {t[0]: t[1] for t in r.get("save_timeline", [])}
    figures["fewest_saves_in_a_second_while_gateway_1_was_down"] = min(
        per_second.get(t, 0) for t in range(window + 2, window + 5))
    figures["members"] = {k: {"role": m.get("role"), "state": m.get("state"),
                              "timeline": m.get("timeline")}
                          for k, m in ha.cluster().items()}
    # What the database holds: one attempt per student, one row per item.
    figures["db"] = {
        "attempts": int(ha.psql(f"SELECT count(*) FROM attempts WHERE session_id = {ha.session}")),
        "students_with_attempts": int(ha.psql(
            f"SELECT count(DISTINCT student_id) FROM attempts WHERE session_id = {ha.session}")),
        "responses": int(ha.psql(
            "SELECT count(*) FROM responses r JOIN attempts a ON a.id = r.attempt_id"
            f" WHERE a.session_id = {ha.session}")),
        "duplicate_responses": int(ha.psql(
            "SELECT count(*) FROM (SELECT 1 FROM responses r JOIN attempts a"
            f" ON a.id = r.attempt_id WHERE a.session_id = {ha.session}"
            " GROUP BY r.attempt_id, r.item_ref HAVING count(*) > 1) d")),
    }
    if restore:
        figures["restore"] = restore_check(ha, backup)
    return figures


def restore_check(ha, backup):
    """The responses of the session in the restored cluster equal the
    primary's, which the bench found to hold every acknowledged save."""
    q = ("SELECT count(*) || ' ' || coalesce(md5(string_agg(r.attempt_id || ':' || r.item_ref"
         " || ':' || r.seq || ':' || r.response::text, ',' ORDER BY r.attempt_id, r.item_ref)),"
         " '-') FROM responses r JOIN attempts a ON a.id = r.attempt_id"
         f" WHERE a.session_id = {ha.session}")
    primary = ha.psql(q)
    t0 = time.time()
    ha.restore(backup)
    restored = ha.restored_sql(q)
    ha.stop_restored()
    return {"primary": primary, "restored": restored, "equal": primary == restored,
            "restore_seconds": round(time.time() - t0, 1)}


def check_failover(fig, students):
    b = fig["bench"]
    problems = []
    if not b["saves_acknowledged"]:
        problems.append("no save acknowledged")
    for k in ("lost_answers", "errors", "unverified_attempts", "students_not_finished"):
        if b[k]:
            problems.append(f"{k} = {b[k]}")
    if b["verified_attempts"] != students:
        problems.append(f"verified_attempts {b['verified_attempts']} != {students}")
    db = fig["db"]
    if db["attempts"] != students or db["students_with_attempts"] != students:
        problems.append(f"attempts {db['attempts']} of {db['students_with_attempts']} students")
    if db["duplicate_responses"]:
        problems.append(f"{db['duplicate_responses']} duplicated responses")
    roles = sorted(m["role"] for m in fig["members"].values())
    if roles not in (["leader", "sync_standby"], ["master", "sync_standby"],
                     ["primary", "sync_standby"]):
        problems.append(f"members {fig['members']}")
    if "restore" in fig and not fig["restore"]["equal"]:
        problems.append(f"restore {fig['restore']}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=("failover", "scale", "restore"))
    ap.add_argument("build")
    ap.add_argument("--students", type=int, default=2000)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--think-ms", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="event-loop threads per gateway")
    ap.add_argument("--db-pool", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    a = ap.parse_args()
    os.chdir(ROOT)
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    out = {"machine": {"cores": os.cpu_count(), "load_average_at_start": os.getloadavg()}}
    if a.what == "scale":
        runs = {}
        for n in (1, 2):
            ha = HA(a.build, gateways=n, workers=a.workers, db_pool=a.db_pool, keep=a.keep)
            try:
                ha.start(a.students)
                b = ha.bench(a.students, a.window, a.duration, a.think_ms)
                r = b.result(a.students / 10 + a.window + a.duration + 400)
                runs[f"{n}_gateway"] = {
                    "saves_acknowledged": r["saves_acknowledged"],
                    "saves_per_second_after_window": r["saves_acknowledged_per_second_after_window"],
                    "ops": r["ops"], "lost_answers": r["lost_answers"], "errors": r["errors"],
                    "retried": r.get("retried"), "retried_because": r.get("retried_because"),
                    "retried_error_codes": r.get("retried_error_codes"), "ok": r["ok"]}
            finally:
                ha.close()
        out["scale"] = runs
        print(json.dumps(out, indent=2))
        return 0 if all(r["ok"] for r in runs.values()) else 1
    ha = HA(a.build, gateways=2, workers=a.workers, db_pool=a.db_pool, keep=a.keep)
    try:
        ha.start(a.students)
        if a.what == "restore":
            backup = ha.base_backup()
            b = ha.bench(a.students, a.window, a.duration, a.think_ms)
            r = b.result(a.students / 10 + a.window + a.duration + 400)
            out["bench_ok"] = r["ok"]
            out["restore"] = restore_check(ha, backup)
            print(json.dumps(out, indent=2))
            return 0 if r["ok"] and out["restore"]["equal"] else 1
        fig = failover_scenario(ha, a.students, a.window, a.duration, a.think_ms)
        out.update(fig)
        out["problems"] = check_failover(fig, a.students)
        print(json.dumps(out, indent=2))
        return 1 if out["problems"] else 0
    finally:
        ha.close()


if __name__ == "__main__":
    sys.exit(main())
