"""Take the README's screenshot of the chat page in a conversation, in headless Chromium.

    .venv/bin/python -m tests.chat.screenshot [--out docs/chat-page.png] [--question "…"] [--follow-up "…"]

It serves ``corpus/`` as ``verbatim serve`` does (the index is built if missing), asks
the question and a follow-up, opens the first quote of the follow-up in the full-text
panel and saves the page as PNG; with ``--width 390`` it is a phone's view.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.chat.test_browser import BRETON, ask, last_card, launch_browser, missing_browser, open_page, serve_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "chat-page.png"))
    parser.add_argument("--question", default=BRETON)
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--follow-up", default="Et sur l'histoire de l'informatique ?", help="a second question ('' for none)")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1500)
    args = parser.parse_args(argv)
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
            ask(page, args.question)
            if args.follow_up:
                ask(page, args.follow_up)
            last_card(page).locator(".vb-browse").first.click()
            # Show the newest card from its top: the question, and how a follow-up was understood.
            # Show the newest card from its top: the question, and how a follow-up was understood.
            page.wait_for_timeout(500)
            last_card(page).evaluate("""(card) => { let box = card.parentElement;
                while (box && !(box.scrollHeight > box.clientHeight + 10 && getComputedStyle(box).overflowY !== 'visible')) box = box.parentElement;
                if (box) box.scrollTop += card.getBoundingClientRect().top - box.getBoundingClientRect().top - 80; }""")
            page.wait_for_timeout(300)
            page.wait_for_timeout(300)
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.out, full_page=True)
            context.close()
            browser.close()
        if recorder.foreign():
            print(f"the page made requests to other hosts: {recorder.foreign()}", file=sys.stderr)
            return 1
    finally:
        app.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
