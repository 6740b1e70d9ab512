"""The staff item screens in Debian's headless Chromium against the real
server with the demo school: tests/browser/staff_items.mjs logs in as the
demo teacher (gv.toan), the subject head (tt.toan) and a teacher of physics
made here, and walks the bank, the editor (LaTeX, a pasted PNG), the review
(diff, return with a comment, approval) and the item page. Then the stored
item is checked in the database: KaTeX MathML with its LaTeX annotation,
the image as media/<sha256>.png copied with the version, two versions,
approved."""
import json
import os
import subprocess
import tempfile
import time

from harness import ROOT, Env
from test_browser import BROWSER_DIR, _stop_group

PW = "mat-khau-giao-vien-ly"
NODE_TIMEOUT = 180


def test_staff_item_screens_in_chromium(shared_env):
    # Its own cluster: the screens change the demo school (accounts, classes,
    # archived tests) that other modules check as `kiemtra demo` left it.
    env = Env(os.path.dirname(shared_env.binary))
    try:
        _test_staff_item_screens_in_chromium(env)
    finally:
        env.close()


def _test_staff_item_screens_in_chromium(env):
    s = env.main_server()
    if env.cluster.psql("SELECT count(*) FROM taxonomy_nodes WHERE code = 'VN18.TOAN.10.SDS'",
                        check=False) in ("0", ""):
        env.cli("taxonomy", "import", os.path.join(ROOT, "demo", "outcomes-toan10.csv"))
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    cred_path = os.path.join(tmp, "demo.json")
    env.cli("demo", "--credentials", cred_path)
    with open(cred_path, encoding="utf-8") as f:
        creds = json.load(f)
    if env.cluster.psql("SELECT count(*) FROM users WHERE username = 'gv.ly.web'") == "0":
        env.cli("users", "add", "--username", "gv.ly.web", "--full-name", "Cô Vật Lí",
                "--role", "teacher", "--school", "DEMO-THPT", "--subject", "VL",
                env={"KIEMTRA_NEW_PASSWORD": PW})
    setup = subprocess.run([os.path.join(BROWSER_DIR, "setup.sh")], capture_output=True,
                           text=True, timeout=300)
    assert setup.returncode == 0, f"tests/browser/setup.sh failed:\n{setup.stdout}{setup.stderr}"
    shots = os.environ.get("KT_SHOTS") or os.path.join(os.path.dirname(env.binary),
                                                       "screenshots")
    os.makedirs(shots, exist_ok=True)
    e = dict(os.environ)
    who = lambda k: f"{creds[k]['username']}:{creds[k]['password']}"  # noqa: E731
    e.update({"KT_URL": f"http://127.0.0.1:{s.port}", "KT_TEACHER": who("teacher"),
              "KT_HEAD": who("subject_head"), "KT_OTHER": f"gv.ly.web:{PW}", "KT_SHOTS": shots,
              "KT_PROFILE": tempfile.mkdtemp(prefix="chromium-", dir=env.cluster.dir)})
    t0 = time.time()
    proc = subprocess.Popen(["node", os.path.join(BROWSER_DIR, "staff_items.mjs")], env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        out, _ = proc.communicate()
        raise AssertionError("staff_items.mjs timed out:\n" + out)
    finally:
        _stop_group(proc)
    print(f"staff_items.mjs: {time.time() - t0:.1f}s", flush=True)
    assert proc.returncode == 0 and "ALL OK" in out, f"staff_items.mjs exited {proc.returncode}:\n{out}"

    item_id = int([ln for ln in out.splitlines() if ln.startswith("ITEM ")][0].split()[1])
    row = env.cluster.psql(f"SELECT status, current_version FROM items WHERE id = {item_id}")
    assert row == "approved|2", row
    stem = env.cluster.psql(f"SELECT content->>'stem' FROM item_versions"
                            f" WHERE item_id = {item_id} AND version = 2")
    assert "<math" in stem and "<mfrac>" in stem and "application/x-tex" in stem, stem
    assert "\\frac{1}{2}+\\sqrt{x}" in stem, stem
    assert 'src="media/' in stem and ".png" in stem, stem
    # The refused edit of the physics teacher left nothing behind.
    assert env.cluster.psql(f"SELECT count(*) FROM item_versions WHERE item_id = {item_id}") == "2"
