"""The command line next to `make run`: scripts/env.sh gives it the settings
of the running cluster, so that `kiemtra import`, `users import`... reach the
same database the server uses."""
import os
import subprocess

from harness import ROOT

ENV_SH = os.path.join(ROOT, "scripts", "env.sh")


def _clean_env(env, **extra):
    """The caller's environment without any KIEMTRA_* setting: what a user has
    in a new terminal."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("KIEMTRA_")}
    e["KIEMTRA_PG_DIR"] = env.cluster.dir
    e["KIEMTRA_SECRET_KEY_FILE"] = env.secret_key
    e.update(extra)
    return e


def test_env_sh_runs_a_command_against_the_running_cluster(env):
    e = _clean_env(env)
    p = subprocess.run([ENV_SH, env.binary, "schools", "add", "ENV01", "Trường qua env.sh",
                        "--province", "TST", "Sở thử nghiệm"],
                       env=e, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert env.cluster.psql("SELECT name FROM schools WHERE code = 'ENV01'") == "Trường qua env.sh"


def test_env_sh_exports_for_the_shell(env):
    e = _clean_env(env)
    script = f'eval "$({ENV_SH})" && "{env.binary}" schools add ENV02 "Trường hai" ' \
             '--province TST "Sở thử nghiệm" && echo "$KIEMTRA_DATABASE_URL"'
    p = subprocess.run(["sh", "-c", script], env=e, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "user=kiemtra_app" in p.stdout and f"port={env.cluster.port}" in p.stdout, p.stdout
    assert env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'ENV02'") == "1"


def test_env_sh_without_a_running_cluster_says_so(env):
    e = _clean_env(env, KIEMTRA_PG_DIR=os.path.join(env.cluster.dir, "no-such-cluster"))
    p = subprocess.run([ENV_SH, env.binary, "version"], env=e, capture_output=True, text=True)
    assert p.returncode == 1
    assert "make run" in p.stderr, p.stderr
