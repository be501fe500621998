"""Time from pressing Enter to the answer shown on the chat page, in headless Chromium.

    .venv/bin/python bench/browser_latency.py [--n 20] [--corpus corpus] [--json]

It serves the corpus as ``verbatim serve`` does, opens the page in Debian's Chromium,
and for each question types it, presses Enter and waits until the answer is in the
page and painted. The clock is the page's own: ``performance.now()`` at the Enter
keydown, and at the first animation frame after the answer for that question appears.
One warm-up question is asked first and not counted. Questions: a mix of facts,
paraphrases, English and unanswerable ones from ``corpus/dev_questions.jsonl``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chat.test_browser import launch_browser, missing_browser, open_page, serve_corpus  # noqa: E402

START = """(q) => {
  window.__vb = {t0: null, shown: null};
  const box = document.querySelector('#vb-question textarea');
  box.addEventListener('keydown', (e) => { if (e.key === 'Enter' && window.__vb.t0 === null) window.__vb.t0 = performance.now(); },
                       {capture: true, once: true});
  const target = document.querySelector('#vb-chat');
  const seen = () => { const cards = target.querySelectorAll('.vb-answer'); const last = cards[cards.length - 1];
                       const a = last && last.querySelector('.vb-asked q');
                       return (a && a.textContent === q) || (last && last.querySelector('.vb-error')); };
  const obs = new MutationObserver(() => {
    if (seen()) { obs.disconnect(); requestAnimationFrame(() => { window.__vb.shown = performance.now(); }); }
  });
  obs.observe(target, {childList: true, subtree: true, characterData: true});
}"""


def pick_questions(corpus: Path, n: int) -> list[str]:
    """Up to ``n`` questions, every kind represented, in a fixed order."""
    rows = [json.loads(line) for line in (corpus / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    by_kind: dict[str, list[str]] = {}
    for r in rows:
        by_kind.setdefault(r.get("kind", "fact"), []).append(r["q"])
    out: list[str] = []
    while len(out) < n and any(by_kind.values()):
        for qs in by_kind.values():
            if qs and len(out) < n:
                out.append(qs.pop(0))
    return out


def measure(page, question: str) -> float:
    page.evaluate(START, question)
    box = page.locator("#vb-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("window.__vb.shown !== null", timeout=120_000)
    t = page.evaluate("window.__vb")
    return (t["shown"] - t["t0"]) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20, help="questions timed (default 20)")
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    questions = pick_questions(Path(args.corpus), args.n)
    url, app = serve_corpus(args.corpus)
    try:
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            context, page, recorder = open_page(browser, url)
            warmup = measure(page, "Qui était le député européen organisateur ?")
            times = [(q, measure(page, q)) for q in questions]
            context.close()
            browser.close()
    finally:
        app.close()
    secs = [t for _, t in times]
    report = {
        "questions": len(secs),
        "median_s": round(statistics.median(secs), 3),
        "worst_s": round(max(secs), 3),
        "mean_s": round(statistics.fmean(secs), 3),
        "warmup_s": round(warmup, 3),
        "per_question": [{"q": q, "s": round(t, 3)} for q, t in times],
        "foreign_requests": recorder.foreign(),
    }
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for q, t in times:
            print(f"{t * 1000:7.0f} ms  {q}")
        print(f"\n{len(secs)} questions: median {report['median_s'] * 1000:.0f} ms, worst {report['worst_s'] * 1000:.0f} ms "
              f"(mean {report['mean_s'] * 1000:.0f} ms; warm-up question {warmup * 1000:.0f} ms, not counted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
