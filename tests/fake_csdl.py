"""A stand-in for the sector database's endpoint (CSDL ngành), for tests only.

It speaks HTTP on 127.0.0.1:PORT and keeps its state in a JSON file so that
it can be stopped and started again. POST /records takes one exchange record
in its envelope and checks it: idbanghi (non-empty), sukien (NEW, UPDATE or
CANCEL), phienban (a positive integer), thoigiancapnhat (YYYY-MM-DDTHH:MM:SS)
and du_lieu (ma_truong, ma_hoc_sinh, nam_hoc, hoc_ky). A version not above
the one it already holds for that record is refused with 409 and counted as
a duplicate (equal) or a regression (lower); a malformed envelope is 400.

POST /control {"mode": "ok" | "fail" | "hang", "count": N} makes the next N
records fail with 503 or hang (no answer for 60 s). GET /state returns what
it holds: {"records": {id: version}, "accepted": [[id, version]...],
"duplicates": n, "regressions": n, "invalid": n, "data": {id: du_lieu},
"cancelled": {id: version}}.

It applies what it accepts as the sector database would: a NEW or UPDATE
record replaces the record's data (du_lieu) and revives a cancelled one; a
CANCEL removes the data and remembers the record as cancelled (soft
delete). "data" is therefore the receiver's current view of the school.

usage: fake_csdl.py PORT STATE_FILE
"""
import http.server
import json
import os
import re
import sys
import threading
import time

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
LOCK = threading.Lock()


class State:
    def __init__(self, path):
        self.path = path
        self.data = {"records": {}, "accepted": [], "duplicates": 0, "regressions": 0,
                     "invalid": 0, "data": {}, "cancelled": {}}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.data = json.load(f)
            self.data.setdefault("data", {})
            self.data.setdefault("cancelled", {})
        self.mode, self.count = "ok", 0

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)


def problems(env):
    out = []
    if not isinstance(env, dict):
        return ["not an object"]
    if not isinstance(env.get("idbanghi"), str) or not env["idbanghi"]:
        out.append("idbanghi")
    if env.get("sukien") not in ("NEW", "UPDATE", "CANCEL"):
        out.append("sukien")
    v = env.get("phienban")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        out.append("phienban")
    if not isinstance(env.get("thoigiancapnhat"), str) or not TIME_RE.match(
            env["thoigiancapnhat"]):
        out.append("thoigiancapnhat")
    d = env.get("du_lieu")
    if not isinstance(d, dict) or not all(k in d for k in ("ma_truong", "ma_hoc_sinh",
                                                           "nam_hoc", "hoc_ky")):
        out.append("du_lieu")
    return out


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, obj):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"null")

        def do_GET(self):
            if self.path == "/state":
                with LOCK:
                    self.reply(200, state.data)
            else:
                self.reply(404, {})

        def do_POST(self):
            try:
                doc = self.body()
            except ValueError:
                doc = None
            if self.path == "/control":
                with LOCK:
                    state.mode, state.count = doc.get("mode", "ok"), int(doc.get("count", 0))
                self.reply(200, {"mode": state.mode, "count": state.count})
                return
            if self.path != "/records":
                self.reply(404, {})
                return
            with LOCK:
                mode = state.mode if state.count > 0 else "ok"
                if state.count > 0:
                    state.count -= 1
            if mode == "fail":
                self.reply(503, {"error": "temporarily unavailable"})
                return
            if mode == "hang":
                time.sleep(60)
                return
            bad = problems(doc)
            with LOCK:
                if bad:
                    state.data["invalid"] += 1
                    state.save()
                    self.reply(400, {"error": "invalid envelope", "fields": bad})
                    return
                rid, ver = doc["idbanghi"], doc["phienban"]
                have = state.data["records"].get(rid, 0)
                if ver <= have:
                    state.data["duplicates" if ver == have else "regressions"] += 1
                    state.save()
                    self.reply(409, {"accepted_version": have})
                    return
                state.data["records"][rid] = ver
                state.data["accepted"].append([rid, ver])
                if doc["sukien"] == "CANCEL":
                    state.data["data"].pop(rid, None)
                    state.data["cancelled"][rid] = ver
                else:
                    state.data["data"][rid] = doc["du_lieu"]
                    state.data["cancelled"].pop(rid, None)
                state.save()
            self.reply(200, {"accepted_version": ver})

    return Handler


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    state = State(path)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), make_handler(state))
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
