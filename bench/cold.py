"""Cold start: `verbatim ask` for one question, and `verbatim serve` until it answers its first question."""
from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, save, table

QUESTION = "Qui a ouvert la série de rencontres ?"


def _peak_rss_children_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one child process (run in a fresh shell so peaks don't mix)."""
    probe = (
        "import resource,subprocess,sys,time;t=time.perf_counter();"
        "r=subprocess.run(sys.argv[1:],capture_output=True);"
        "dt=time.perf_counter()-t;"
        "assert r.returncode==0, r.stderr.decode()[-500:];"
        "print(dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, cwd=ROOT, check=True)
    dt, rss = out.stdout.split()
    return float(dt), float(rss)


def _vm(pid: int, key: str) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return float("nan")


def serve_first_answer(timeout: float = 120.0) -> dict:
    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    verbatim = str(Path(sys.executable).with_name("verbatim"))
    t0 = time.perf_counter()
    proc = subprocess.Popen([verbatim, "serve", "--quiet", "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answer = None
        while time.perf_counter() - t0 < timeout:
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
                answer = client.predict(QUESTION, api_name="/ask")
                break
            except Exception:  # not listening yet
                time.sleep(0.2)
        elapsed = time.perf_counter() - t0
        if answer is None:
            raise RuntimeError(f"verbatim serve did not answer within {timeout:.0f} s")
        return {"first_answer_s": elapsed, "rss_mb": _vm(proc.pid, "VmRSS:"), "peak_rss_mb": _vm(proc.pid, "VmHWM:"), "answered": answer["answered"]}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(repeat: int = 3, quiet: bool = False) -> dict:
    verbatim = str(Path(sys.executable).with_name("verbatim"))
    # the index must exist: cold start is about answering, not building
    subprocess.run([verbatim, "ask", "--quiet", QUESTION], cwd=ROOT, check=True, capture_output=True)
    ask = [_timed([verbatim, "ask", "--quiet", "--json", QUESTION]) for _ in range(repeat)]
    imp = [_timed([sys.executable, "-c", "import sentence_transformers"]) for _ in range(repeat)]
    ask_s, ask_rss = min(a[0] for a in ask), max(a[1] for a in ask)
    imp_s = min(a[0] for a in imp)
    serve = serve_first_answer()
    result = {
        "ask_s": ask_s, "ask_peak_rss_mb": ask_rss, "import_sentence_transformers_s": imp_s,
        "ratio_ask_to_import": ask_s / imp_s, "serve": serve,
    }
    print(table("Cold start (best of %d)" % repeat, ["what", "seconds", "memory MB", "target"], [
        ["python -c 'import sentence_transformers' (baseline)", imp_s, "", ""],
        ["verbatim ask (one question)", ask_s, ask_rss, f"≤ 2× baseline: {ask_s / imp_s:.2f}×"],
        ["verbatim serve → first answer", serve["first_answer_s"], serve["rss_mb"], "≤ 15 s, ≤ 1200 MB"],
    ]))
    save("cold", result)
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    run(a.repeat, a.quiet)
