"""What the staff screens' browser tests share: a cluster of their own (the
screens change the demo school other modules check), and running one page
script of tests/browser under node with Debian's Chromium, its screenshots
in BUILD/screenshots (or KT_SHOTS)."""
import os
import subprocess
import tempfile
import time

from harness import ROOT, Env
from test_browser import _stop_group

BROWSER_DIR = os.path.join(ROOT, "tests", "browser")


def in_own_cluster(shared_env, fn):
    env = Env(os.path.dirname(shared_env.binary))
    try:
        fn(env)
    finally:
        env.close()


def screenshots(env):
    shots = os.environ.get("KT_SHOTS") or os.path.join(os.path.dirname(env.binary),
                                                       "screenshots")
    os.makedirs(shots, exist_ok=True)
    return shots


def run_script(env, server, script, extra, timeout):
    """Runs tests/browser/SCRIPT against SERVER with the variables of EXTRA
    (KT_URL, KT_SHOTS and a fresh KT_PROFILE are set here) and returns what it
    printed; fails unless it exited 0 after printing ALL OK."""
    setup = subprocess.run([os.path.join(BROWSER_DIR, "setup.sh")], capture_output=True,
                           text=True, timeout=300)
    assert setup.returncode == 0, f"tests/browser/setup.sh failed:\n{setup.stdout}{setup.stderr}"
    e = dict(os.environ)
    e.update({"KT_URL": f"http://127.0.0.1:{server.port}", "KT_SHOTS": screenshots(env),
              "KT_PROFILE": tempfile.mkdtemp(prefix="chromium-", dir=env.cluster.dir)})
    e.update(extra)
    t0 = time.time()
    proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, script)], env=e,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        out, _ = proc.communicate()
        raise AssertionError(f"{script} timed out:\n{out}")
    finally:
        _stop_group(proc)
    print(f"{script}: {time.time() - t0:.1f}s", flush=True)
    assert proc.returncode == 0 and "ALL OK" in out, f"{script} exited {proc.returncode}:\n{out}"
    return out
