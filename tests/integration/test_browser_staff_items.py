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
import tempfile

from browser_run import in_own_cluster, run_script, screenshots
from harness import ROOT

PW = "mat-khau-giao-vien-ly"
NODE_TIMEOUT = 180


def test_staff_item_screens_in_chromium(shared_env):
    # Its own cluster: the screens change the demo school (accounts, classes,
    # archived tests) that other modules check as `kiemtra demo` left it.
    in_own_cluster(shared_env, _test_staff_item_screens_in_chromium)


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
    who = lambda k: f"{creds[k]['username']}:{creds[k]['password']}"  # noqa: E731
    shots = screenshots(env)
    out = run_script(env, s, "staff_items.mjs", {"KT_TEACHER": who("teacher"),
                     "KT_HEAD": who("subject_head"), "KT_OTHER": f"gv.ly.web:{PW}"},
                     NODE_TIMEOUT)

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
