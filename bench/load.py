"""Load: 20 clients at once through gradio_client, 1,000 questions, against `verbatim serve` on 127.0.0.1.

For each queue setting tried (``verbatim serve --concurrency N``: questions answered at
once, the others wait in Gradio's queue) it starts the server, asks every question once
with a single client (the reference answers), then lets 20 clients share 1,000 questions.
Every answer must equal the single-user answer; errors, mismatches, the median and p99
latency seen by a client and the throughput are reported. Bounded in count and time: a
run stops at its deadline and the server is stopped whatever happens.

    python -m bench.load                       # 20 clients, 1,000 questions, settings 1, 2, 4
    python -m bench.load --concurrency 2 --questions 200
"""
from __future__ import annotations

import argparse
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from bench.common import ROOT, questions, save, summary, table


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`verbatim serve` (this checkout) in a child process on 127.0.0.1; stopped on exit, whatever happens.

    Ready once ``GET ready_path`` answers 200 (``config`` for the page, ``api/facets`` for
    the HTTP API); ``concurrency`` None keeps the server's default.
    """

    def __init__(self, concurrency: int | None = None, ready_path: str = "config", timeout: float = 240.0) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        cmd = [sys.executable, "-m", "chat.cli", "serve", "--quiet", "--host", "127.0.0.1", "--port", str(self.port)]
        if concurrency is not None:
            cmd += ["--concurrency", str(concurrency)]
        env = {k: v for k, v in os.environ.items() if k != "VERBATIM_AUTH"} | {"PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        self._wait_ready(ready_path, timeout)

    def _wait_ready(self, ready_path: str, timeout: float) -> None:
        import httpx

        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"verbatim serve exited ({self.proc.returncode}): {self.proc.stderr.read().decode()[-500:]}")
            try:
                if httpx.get(self.url + ready_path, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"verbatim serve did not start within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def reference_answers(url: str, pool: list[str]) -> tuple[dict[str, dict], list[float]]:
    """Each question asked once by a single client: what every client must get, and how long it took."""
    client = _client(url)
    out, seconds = {}, []
    for q in pool:
        t = time.perf_counter()
        out[q] = client.predict(q, api_name="/ask")
        seconds.append(time.perf_counter() - t)
    return out, seconds


def load(url: str, pool: list[str], reference: dict[str, dict], clients: int, total: int, deadline_s: float) -> dict:
    """``clients`` threads, each with its own gradio_client, share ``total`` questions."""
    work: queue.Queue[str] = queue.Queue()
    for i in range(total):
        work.put(pool[i % len(pool)])
    latencies: list[float] = []
    errors: list[str] = []
    mismatches: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    stop_at = [float("inf")]  # the deadline is set once every client is connected
    per_client: list[int] = []

    def worker() -> None:
        try:
            client = _client(url)
        except Exception as exc:  # noqa: BLE001 - counted, never raised
            with lock:
                errors.append(f"connect: {exc!r}")
            ready.wait()
            return
        ready.wait()
        asked = 0
        while time.monotonic() < stop_at[0]:
            try:
                q = work.get_nowait()
            except queue.Empty:
                break
            asked += 1
            t = time.perf_counter()
            try:
                got = client.predict(q, api_name="/ask")
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"{q[:40]!r}: {exc!r}"[:300])
                continue
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                if got != reference[q]:
                    mismatches.append(q)
        with lock:
            per_client.append(asked)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.monotonic()
    stop_at[0] = t0 + deadline_s
    for t in threads:
        t.join(timeout=max(0.0, stop_at[0] - time.monotonic()) + 60)
    wall = time.monotonic() - t0
    asked = len(latencies) + sum(not e.startswith("connect:") for e in errors)
    out = {
        "clients": clients,
        "active_clients": sum(n > 0 for n in per_client),
        "questions_per_client": [min(per_client, default=0), max(per_client, default=0)],
        "questions": total,
        "asked": asked,
        "not_asked": total - asked,
        "errors": len(errors),
        "mismatches": len(mismatches),
        "wall_s": wall,
        "throughput_qps": len(latencies) / wall if wall else 0.0,
        "deadline_hit": time.monotonic() >= stop_at[0],
        "error_samples": errors[:5],
        "mismatch_samples": mismatches[:5],
    }
    if latencies:
        out.update(summary(latencies))
        out["mean_ms"] = statistics.fmean(latencies) * 1e3
    return out


def by_setting(runs: list[dict]) -> dict[int, dict]:
    """Each setting over its rounds: the median of its runs' median and p99, and their worst."""
    out: dict[int, dict] = {}
    for c in sorted({r["concurrency"] for r in runs}):
        mine = [r for r in runs if r["concurrency"] == c]
        ok = all(r["errors"] == 0 and r["mismatches"] == 0 and r["not_asked"] == 0 and "p99_ms" in r for r in mine)
        out[c] = {
            "rounds": len(mine),
            "clean": ok,
            "errors": sum(r["errors"] for r in mine),
            "mismatches": sum(r["mismatches"] for r in mine),
            "median_ms": statistics.median(r.get("median_ms", float("inf")) for r in mine),
            "p99_ms": statistics.median(r.get("p99_ms", float("inf")) for r in mine),
            "worst_p99_ms": max(r.get("p99_ms", float("inf")) for r in mine),
            "throughput_qps": statistics.median(r["throughput_qps"] for r in mine),
        }
    return out


def choose(runs: list[dict]) -> int | None:
    """The setting with no error, no mismatch and every question asked in every round, with the
    lowest p99 over its rounds; within 10 % of the best, the smallest setting (less memory, fairer)."""
    agg = {c: a for c, a in by_setting(runs).items() if a["clean"]}
    if not agg:
        return None
    best = min(a["p99_ms"] for a in agg.values())
    return min(c for c, a in agg.items() if a["p99_ms"] <= best * 1.10)


def run(settings: tuple[int, ...] = (1, 2, 4), clients: int = 20, total: int = 1000, deadline_s: float = 300.0, quiet: bool = False,
        rounds: int = 1) -> dict:
    pool = list(dict.fromkeys(questions()))
    runs = []
    reference: dict[str, dict] | None = None
    # Rounds alternate the order (1 2 4, 4 2 1, …) so that a machine getting busier or quieter
    # does not favour one setting.
    order = [c for r in range(rounds) for c in (settings if r % 2 == 0 else settings[::-1])]
    for concurrency in order:
        if not quiet:
            print(f"load: --concurrency {concurrency}: starting the server…", file=sys.stderr, flush=True)
        with Server(concurrency) as server:
            single, single_seconds = reference_answers(server.url, pool)
            same_as_first = reference is None or single == reference
            reference = reference or single
            if not quiet:
                print(f"load: --concurrency {concurrency}: {clients} clients, {total} questions…", file=sys.stderr, flush=True)
            r = load(server.url, pool, single, clients, total, deadline_s)
        r["concurrency"] = concurrency
        r["single_user"] = summary(single_seconds)
        r["reference_same_across_servers"] = same_as_first
        runs.append(r)
    chosen = choose(runs)
    rows = [
        [r["concurrency"], r["active_clients"], r["asked"], r["errors"], r["mismatches"], r.get("median_ms", float("nan")), r.get("p99_ms", float("nan")),
         r.get("max_ms", float("nan")), r["throughput_qps"], r["wall_s"], r["single_user"]["median_ms"]]
        for r in runs
    ]
    print(table(
        f"Load: {clients} clients through gradio_client, {total} questions ({len(pool)} distinct) per setting, server on 127.0.0.1",
        ["concurrency", "clients asking", "asked", "errors", "≠ single-user", "median ms", "p99 ms", "max ms", "questions/s", "wall s",
         "1 user: median ms"],
        rows,
    ))
    agg = by_setting(runs)
    if rounds > 1:
        print(table(
            f"Per setting over {rounds} rounds (median of the rounds)",
            ["concurrency", "errors", "≠ single-user", "median ms", "p99 ms", "worst p99 ms", "questions/s"],
            [[c, a["errors"], a["mismatches"], a["median_ms"], a["p99_ms"], a["worst_p99_ms"], a["throughput_qps"]] for c, a in agg.items()],
        ))
    print(f"\nChosen queue setting (no error, lowest p99, the smallest within 10 %): {chosen}")
    result = {"clients": clients, "questions": total, "distinct_questions": len(pool), "rounds": rounds, "runs": runs,
              "by_setting": {str(c): a for c, a in agg.items()}, "chosen_concurrency": chosen}
    path = save("load", result)
    if not quiet:
        print(f"JSON: {path.relative_to(ROOT)}")
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--concurrency", default="1,2,4", help="queue settings to try, comma-separated (default 1,2,4)")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--questions", type=int, default=1000)
    p.add_argument("--deadline", type=float, default=300.0, help="seconds per setting before the clients stop (default 300)")
    p.add_argument("--rounds", type=int, default=1, help="run every setting this many times, alternating the order (default 1)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    settings = tuple(int(x) for x in a.concurrency.split(",") if x.strip())
    result = run(settings, a.clients, a.questions, a.deadline, a.quiet, a.rounds)
    bad = [r for r in result["runs"] if r["errors"] or r["mismatches"] or r["not_asked"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
