"""End-to-end import throughput: `kiemtra import` of a whole QTI folder into a
throwaway PostgreSQL cluster (parse, plan, one kt_import_qti() call per file,
commit), ROUNDS times, each into a fresh database.

usage: python3 bench/bench_import.py BUILD_DIR [CORPUS_DIR] [ROUNDS]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import Env  # noqa: E402


def main():
    build = sys.argv[1]
    corpus = sys.argv[2] if len(sys.argv) > 2 else "../shared/corpus/qti"
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    env = Env(build)
    try:
        for r in range(rounds):
            code = f"BENCH{r}"
            env.cli("schools", "add", code, "Trường đo", "--province", "TST", "Sở thử nghiệm")
            t0 = time.monotonic()
            p = env.cli("import", "--school", code, "--subject", "KHAC", "--grade", "10", corpus,
                        check=False)
            dt = time.monotonic() - t0
            sid = env.cluster.psql(f"SELECT id FROM schools WHERE code = '{code}'")
            docs = int(env.cluster.psql(
                f"SELECT count(*) FROM item_versions WHERE school_id = {sid}"))
            print(f"round {r + 1}: {dt:.3f} s, {docs} item versions stored,"
                  f" {docs / dt:.0f} items/s; {p.stdout.splitlines()[-1]}")
    finally:
        env.close()


if __name__ == "__main__":
    main()
