"""Take the README's screenshots of the chat page, in headless Chromium.

    .venv/bin/python -m tests.chat.screenshot [--out docs/chat-page.png] [--question "…"] [--follow-up "…"]
    .venv/bin/python -m tests.chat.screenshot --check [--out docs/check-page.png]

It serves ``corpus/`` as ``verbatim serve`` does (the index is built if missing), asks
the question and a follow-up, opens the first quote of the follow-up in the full-text
panel and saves the page as PNG; with ``--width 390`` it is a phone's view. With
``--check`` it checks a draft holding one quote of each verdict in the "Vérifier une
citation" tab instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.chat.test_browser import (  # noqa: E402
    BRETON,
    ask,
    check_in_tab,
    last_card,
    launch_browser,
    missing_browser,
    open_page,
    serve_corpus,
)

# A draft with one quote of each verdict: exact (with a cut), altered, stitched, paraphrase only, not found.
CHECK_DRAFT = (
    "Selon Olivier Griffith, « nous avons réussi à stocker toutes les traces de l'activité humaine […] à l'aide de "
    "supercalculateurs répartis sur différents continents ».\n"
    "« Cette série de rencontres a été lancée par Thierry Breton, l’ex-commissaire européen », rappelle Katia Roux.\n"
    "Il ajoute : « Il a souligné que l’Europe compte 450 millions d’habitants. Il m’est apparu indispensable de participer "
    "à cette journée. »\n"
    "Pour lui, « les programmes de la CAF contrôlent les ressources des allocataires ».\n"
    "Et de conclure : « La cuisine française est la meilleure du monde. »"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=None, help="default: docs/chat-page.png, or docs/check-page.png with --check")
    parser.add_argument("--check", action="store_true", help="the check tab with a draft holding each verdict")
    parser.add_argument("--question", default=BRETON)
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--follow-up", default="Et sur l'histoire de l'informatique ?", help="a second question ('' for none)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1500)
    args = parser.parse_args(argv)
    args.out = args.out or str(ROOT / "docs" / ("check-page.png" if args.check else "chat-page.png"))
    reason = missing_browser()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    url, app = serve_corpus(args.corpus)
    try:
        with sync_playwright() as pw:
            browser = launch_browser(pw)
            context, page, recorder = open_page(browser, url, width=args.width, height=args.height)
            if args.check:
                check_in_tab(page, CHECK_DRAFT)
                page.wait_for_timeout(300)
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=args.out, full_page=True)
                context.close()
                browser.close()
                return _done(args.out, recorder)
            ask(page, args.question)
            if args.follow_up:
                ask(page, args.follow_up)
            last_card(page).locator(".vb-browse").first.click()
            # Show the newest card from its top: the question, and how a follow-up was understood.
            page.wait_for_timeout(500)
            last_card(page).evaluate("""(card) => { let box = card.parentElement;
                while (box && !(box.scrollHeight > box.clientHeight + 10 && getComputedStyle(box).overflowY !== 'visible')) box = box.parentElement;
                if (box) box.scrollTop += card.getBoundingClientRect().top - box.getBoundingClientRect().top - 80; }""")
            page.wait_for_timeout(600)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=True)
            context.close()
            browser.close()
        return _done(args.out, recorder)
    finally:
        app.close()


def _done(out: str, recorder) -> int:
    if recorder.foreign():
        print(f"the page made requests to other hosts: {recorder.foreign()}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
