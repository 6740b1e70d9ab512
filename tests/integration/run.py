"""Runs every test_* function of the test_*.py files in this directory against
one throwaway cluster and prints `N passed, N failed`.

usage: run.py BUILD_DIR [NAME_SUBSTRING...]
"""
import importlib.util
import os
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(__file__))
from harness import Env  # noqa: E402


def collect(filters):
    here = os.path.dirname(os.path.abspath(__file__))
    tests = []
    for fname in sorted(os.listdir(here)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(here, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in dir(mod):
            fn = getattr(mod, name)
            if name.startswith("test_") and callable(fn):
                full = f"{fname[:-3]}.{name}"
                if not filters or any(f in full for f in filters):
                    tests.append((full, fn, fn.__code__.co_firstlineno))
    tests.sort(key=lambda t: (t[0].split(".")[0], t[2]))
    return tests


TEST_TIMEOUT = 300  # seconds: a stuck test fails instead of stalling the whole run


def _timeout(signum, frame):
    raise TimeoutError(f"test took longer than {TEST_TIMEOUT} s")


def main():
    build = sys.argv[1]
    tests = collect(sys.argv[2:])
    env = Env(build)
    passed = failed = 0
    try:
        for name, fn, _ in tests:
            t0 = time.time()
            signal.signal(signal.SIGALRM, _timeout)
            signal.alarm(TEST_TIMEOUT)
            try:
                fn(env)
                passed += 1
                print(f"ok   {name} ({time.time() - t0:.1f}s)", flush=True)
            except Exception:  # noqa: BLE001 - a failing test must not stop the run
                failed += 1
                print(f"FAIL {name} ({time.time() - t0:.1f}s)", flush=True)
                traceback.print_exc(file=sys.stdout)
                if env.server and env.server.proc.poll() is not None:
                    print(env.server.log_text()[-3000:])
                elif env.server:  # the server's own account of what went wrong
                    errors = [ln for ln in env.server.log_text().splitlines()
                              if '"level":"error"' in ln or " error " in ln]
                    print("\n".join(errors[-10:]))
            finally:
                signal.alarm(0)
    finally:
        try:
            env.close()
        except Exception:  # noqa: BLE001
            failed += 1
            print("FAIL server shutdown")
            traceback.print_exc(file=sys.stdout)
    print(f"integration: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
