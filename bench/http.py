"""HTTP API under load: 20 concurrent clients on GET /api/ask, against the embedding ceiling.

The ceiling is measured in the same run, on the same cores: the bare loop that embeds
each question with the product's embedder, one after another, in this process (no
search, no quotes, no HTTP), once before the server starts and once after it stops; the
higher of the two is the ceiling (the stricter comparison on a machine shared with other
work). For comparison only, the same loop runs once more in a thread limited to one core,
as each embedding thread of the server is. Then ``verbatim serve`` starts on 127.0.0.1
(one question searched at a time, the default; the questions waiting are embedded together
by chat/batcher.py), every question is asked once by a single client (the reference
answers), and 20 clients (one asyncio loop, one connection each) share the questions.
Every answer must equal the reference; errors, the median and p99 latency seen by a
client and the throughput are reported, and throughput ÷ ceiling is the figure (target
≥ 0.6).

    python -m bench.http                          # 20 clients, 1,000 questions
    python -m bench.http --clients 20 --questions 400
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time

from bench.common import questions, save, summary, table
from bench.load import Server


def make_question_embedder():
    """The embedder ``verbatim serve`` embeds questions with, and its settings."""
    from index.build import make_embedder
    from index.convert import default_model_dir
    from index.settings import Settings

    settings = Settings(model_dir=default_model_dir())
    return make_embedder(settings, quiet=True), settings


def ceiling(embedder, settings, pool: list[str], total: int, one_core: bool = False) -> dict:
    """Questions per second of the bare question-embedding loop (the product's embedder).

    ``one_core``: the same loop in a thread whose calls use one core, as each of the
    server's embedding threads does (for comparison; the ceiling is the loop as it is).
    """
    if one_core:
        out: dict = {}

        def run() -> None:
            embedder.limit_threads(1)  # OpenMP's setting is per thread: this thread only
            out.update(ceiling(embedder, settings, pool, total))

        t = threading.Thread(target=run)
        t.start()
        t.join()
        return out
    from chat.answer import clean_question

    texts = [clean_question(q, settings)[0] for q in pool]
    for t in texts[:20]:
        embedder.encode([t], query=True)
    seconds = []
    t0 = time.perf_counter()
    for i in range(total):
        t = time.perf_counter()
        embedder.encode([texts[i % len(texts)]], query=True)
        seconds.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    return {"questions_per_s": total / wall, "wall_s": wall} | summary(seconds)


async def _load(url: str, pool: list[str], reference: dict[str, bytes], clients: int, total: int, deadline_s: float) -> dict:
    import httpx

    todo = asyncio.Queue()
    for i in range(total):
        todo.put_nowait(pool[i % len(pool)])
    latencies: list[float] = []
    errors: list[str] = []
    mismatches = 0

    async def worker() -> None:
        nonlocal mismatches
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            while not todo.empty() and time.monotonic() < stop_at:
                q = todo.get_nowait()
                t = time.perf_counter()
                try:
                    r = await client.get("api/ask", params={"q": q})
                    data = r.content  # compared as bytes: the clients share the server's cores, parsing would slow it
                except Exception as exc:  # a load test counts every failure
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    errors.append(f"HTTP {r.status_code}")
                elif data != reference[q]:
                    mismatches += 1

    stop_at = time.monotonic() + deadline_s
    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - t0
    return {"clients": clients, "asked": len(latencies), "errors": len(errors), "error_samples": errors[:5], "mismatches": mismatches,
            "questions_per_s": len(latencies) / wall, "wall_s": wall} | summary(latencies or [0.0])


def run(clients: int = 20, total: int = 1000, deadline_s: float = 300.0, quiet: bool = False) -> dict:
    import httpx

    pool = list(dict.fromkeys(questions()))
    if not quiet:
        print(f"http: ceiling, the bare embedding loop over {total} questions…", file=sys.stderr, flush=True)
    embedder, settings = make_question_embedder()
    before = ceiling(embedder, settings, pool, total)
    one_core = ceiling(embedder, settings, pool, total, one_core=True) if hasattr(embedder, "limit_threads") else None
    with Server(ready_path="api/facets") as server:
        reference = {}
        single = []
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for q in pool:
                t = time.perf_counter()
                reference[q] = client.get("api/ask", params={"q": q}).content
                single.append(time.perf_counter() - t)
        if not quiet:
            print(f"http: {clients} clients, {total} questions…", file=sys.stderr, flush=True)
        loaded = asyncio.run(_load(server.url, pool, reference, clients, total, deadline_s))
    if not quiet:
        print("http: ceiling again, after the server stopped…", file=sys.stderr, flush=True)
    after = ceiling(embedder, settings, pool, total)
    top = max(before, after, key=lambda c: c["questions_per_s"])
    ratio = loaded["questions_per_s"] / top["questions_per_s"]
    print(table(
        f"HTTP API: {clients} clients on GET /api/ask, {total} questions ({len(pool)} distinct), server on 127.0.0.1, {os.cpu_count()} cores",
        ["what", "questions/s", "median ms", "p99 ms", "× ceiling"],
        [["ceiling: the bare question-embedding loop (in process, best of before/after)", top["questions_per_s"], top["median_ms"],
          top["p99_ms"], 1.0],
         ["one client, one question at a time (HTTP)", len(single) / sum(single), summary(single)["median_ms"], summary(single)["p99_ms"],
          len(single) / sum(single) / top["questions_per_s"]],
         [f"{clients} clients at once (HTTP)", loaded["questions_per_s"], loaded["median_ms"], loaded["p99_ms"], ratio]]
        + ([["for comparison: the same bare loop on one core (as each embedding thread of the server)", one_core["questions_per_s"],
             one_core["median_ms"], one_core["p99_ms"], one_core["questions_per_s"] / top["questions_per_s"]]] if one_core else []),
    ))
    print(f"errors {loaded['errors']}, answers ≠ single-user {loaded['mismatches']}, asked {loaded['asked']}/{total}; "
          f"throughput / ceiling = {ratio:.2f} (target ≥ 0.6)")
    print(f"ceiling before the server {before['questions_per_s']:.1f} questions/s, after {after['questions_per_s']:.1f}; "
          f"embedder {type(embedder).__name__}")
    result = {"ceiling": top, "ceiling_before": before, "ceiling_after": after, "one_core_loop": one_core, "single": summary(single), "load": loaded, "ratio_to_ceiling": ratio}
    save("http", result)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--questions", type=int, default=1000)
    p.add_argument("--deadline", type=float, default=300.0, help="seconds before the load stops, whatever is left")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    run(a.clients, a.questions, a.deadline, a.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
