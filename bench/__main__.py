"""`make bench`: every benchmark in turn; `--full` adds the 1M-passage scale case."""
from __future__ import annotations

import argparse
import importlib
import time


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--full", action="store_true", help="also run the 1,000,000-passage scale case (about 10 minutes)")
    p.add_argument("--only", nargs="*", default=None, help="query cold ingest scale load http milvus check")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    a = p.parse_args()
    todo = a.only or ["query", "cold", "ingest", "scale", "load", "http", "milvus", "check"]
    t0 = time.perf_counter()
    for name in todo:
        t = time.perf_counter()
        if name == "query":
            from bench.query import run

            run(quiet=a.quiet)
        elif name == "cold":
            from bench.cold import run

            run(quiet=a.quiet)
        elif name == "ingest":
            from bench.ingest import run

            run(quiet=a.quiet)
        elif name == "scale":
            from bench.scale import run

            run([10_000, 100_000, 1_000_000] if a.full else [10_000, 100_000], quiet=a.quiet)
        elif name == "milvus":
            from bench.milvus import run

            run(quiet=a.quiet)
        elif name == "check":
            from bench.check import run

            run(quiet=a.quiet)
        elif name == "load":
            try:
                module = importlib.import_module("bench.load")
            except ImportError:
                print("\n(load benchmark not available)")
                continue
            module.run(quiet=a.quiet)
        elif name == "http":
            from bench.http import run

            run(quiet=a.quiet)
        print(f"[{name}: {time.perf_counter() - t:.0f} s]")
    print(f"\nAll benchmarks: {time.perf_counter() - t0:.0f} s; JSON in bench/results/")


if __name__ == "__main__":
    main()
