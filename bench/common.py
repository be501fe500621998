"""Timing, tables, results and progress shared by the benchmarks."""
from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def summary(seconds: list[float]) -> dict:
    """Median, p99 and max in milliseconds."""
    s = sorted(seconds)
    p99 = s[min(len(s) - 1, int(round(0.99 * (len(s) - 1))))]
    return {"n": len(s), "median_ms": statistics.median(s) * 1e3, "p99_ms": p99 * 1e3, "max_ms": s[-1] * 1e3}


@contextlib.contextmanager
def timer(out: list[float]) -> Iterator[None]:
    t = time.perf_counter()
    yield
    out.append(time.perf_counter() - t)


def progress(items: Iterable, total: int, label: str, quiet: bool) -> Iterable:
    """A progress bar on a terminal; the items unchanged when piped or quiet."""
    if quiet or not sys.stderr.isatty():
        return items
    from rich.progress import track

    return track(items, total=total, description=label, transient=True)


def table(title: str, header: list[str], rows: list[list]) -> str:
    """A plain fixed-width table (copied as is into the README)."""
    cells = [header] + [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    out = [f"\n{title}", line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine()} | data
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return path


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def rss_mb() -> float:
    """Resident memory of this process, in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def questions() -> list[str]:
    rows = []
    for path in (ROOT / "corpus" / "dev_questions.jsonl", ROOT / "tests" / "data" / "extra_questions.jsonl"):
        rows += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows
