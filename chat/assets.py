"""The chat page's assets: its style sheet, its browser script and its security headers.

Kept apart from the app (``chat/web.py``) and the HTML rendering (``chat/page.py``):
these are text the browser reads, with no Python logic in them.
"""
from __future__ import annotations

FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]

CSS = """
footer, .api-docs, .settings-btn { display: none !important; }
.vb-helper { display: none !important; }
/* Gradio's own chat controls speak English and would clear the chat without the conversation: "Nouvelle conversation" does it. */
#vb-chat button[aria-label="Clear"] { display: none !important; }
.vb-answer { line-height: 1.55; }
.vb-asked { color: #6b7280; margin: 0 0 .6rem; }
.vb-understood { font-size: .92rem; margin: 0 0 .6rem; padding: .3rem .6rem; border-radius: 6px; background: rgba(59, 130, 246, .08); }
.vb-passage { border-left: 3px solid #9ca3af; padding: .5rem .9rem; margin: .9rem 0; }
.vb-context { color: #6b7280; margin: 0 0 .4rem; }
.vb-quote { color: #111827; background: #fde68a; padding: 0 .15rem; border-radius: 2px; }
.vb-guil { color: inherit; font-weight: 600; }
/* An uncertain answer: quotes shown, but in a dashed amber frame and a paler mark. */
.vb-level-uncertain .vb-passage { border-left: 3px dashed #d97706; }
.vb-level-uncertain .vb-quote { background: #fef3c7; outline: 1px dashed #d97706; }
.vb-uncertain { font-weight: 600; color: #92400e; }
/* Closest passages of an unanswered question are never marked like quotes. */
.vb-near { background: transparent; color: inherit; text-decoration: underline dotted #9ca3af; }
.vb-level-none .vb-passage { border-left: 3px dotted #d1d5db; }
.vb-attr { font-size: .92rem; overflow-wrap: anywhere; }
.vb-attr > div { margin: .1rem 0; }
.vb-actions { display: flex; flex-wrap: wrap; gap: .4rem .9rem; align-items: center; margin-top: .35rem; }
.vb-copy, .vb-copy-link, .vb-ask-alone { border: 1px solid #9ca3af; border-radius: 6px; padding: .1rem .6rem; background: transparent; color: inherit; cursor: pointer; font: inherit; }
.vb-copy:hover, .vb-copy-link:hover, .vb-ask-alone:hover { background: rgba(156, 163, 175, .2); }
.vb-copied { display: block; font-size: .85rem; white-space: pre-wrap; overflow-wrap: anywhere; border: 1px dashed #9ca3af; padding: .3rem .5rem; margin-top: .3rem; user-select: all; }
.vb-copied[hidden] { display: none; }
.vb-turn-actions { display: flex; flex-wrap: wrap; gap: .4rem .9rem; margin-top: .4rem; }
.vb-none { font-weight: 600; }
.vb-error { font-weight: 600; color: #b91c1c; }
.vb-note { font-size: .9rem; color: #6b7280; }
.vb-fulltext { white-space: pre-wrap; max-height: 75vh; overflow-y: auto; padding-right: .5rem; line-height: 1.55; }
.vb-fulltext .vb-quote.vb-focus, .vb-fulltext .vb-quote:target { outline: 3px solid #f59e0b; }
.vb-source-head { margin: .2rem 0 .5rem; }
.vb-gap { display: block; height: .5em; }
.vb-empty { color: #6b7280; }
.vb-corpus table { border-collapse: collapse; font-size: .9rem; }
.vb-corpus td, .vb-corpus th { padding: .15rem .5rem; text-align: left; vertical-align: top; }
#vb-chat .message-wrap .message { max-width: 100%; }
.vb-examples-label { flex: 0 0 6.5rem !important; min-width: 6.5rem !important; }
@media (max-width: 700px) { .vb-passage { padding: .4rem .5rem; } }
/* The "Check a quote" tab: each verdict has its colour and its underline, in the text and on its card. */
.vb-checked, .vb-check-result { line-height: 1.55; overflow-wrap: anywhere; }
.vb-checked .vb-exact { --vb-c: #15803d; --vb-bg: #dcfce7; }
.vb-checked .vb-altered, .vb-check-result .vb-chip.vb-altered { --vb-c: #c2410c; --vb-bg: #ffedd5; }
.vb-checked .vb-stitched, .vb-check-result .vb-chip.vb-stitched { --vb-c: #7e22ce; --vb-bg: #f3e8ff; }
.vb-checked .vb-paraphrase, .vb-check-result .vb-chip.vb-paraphrase { --vb-c: #1d4ed8; --vb-bg: #dbeafe; }
.vb-checked .vb-not_found, .vb-check-result .vb-chip.vb-not_found { --vb-c: #b91c1c; --vb-bg: #fee2e2; }
.vb-check-result .vb-chip.vb-exact { --vb-c: #15803d; --vb-bg: #dcfce7; }
.vb-checked .vb-text { padding: .6rem .8rem; border: 1px solid #e5e7eb; border-radius: 8px; margin-bottom: .8rem; }
.vb-checked mark.vb-check { color: #111827; background: var(--vb-bg); border-bottom: 2px solid var(--vb-c); padding: 0 .1rem; border-radius: 2px; }
.vb-checked mark.vb-altered { border-bottom-style: dashed; }
.vb-checked mark.vb-stitched { border-bottom-style: double; border-bottom-width: 3px; }
.vb-checked mark.vb-paraphrase { border-bottom-style: dotted; }
.vb-checked mark.vb-not_found { border-bottom: none; text-decoration: underline wavy var(--vb-c); text-underline-offset: 3px; }
.vb-checked mark.vb-check sup a { color: var(--vb-c); text-decoration: none; font-weight: 600; margin-left: .1rem; }
.vb-checked mark.vb-check:target { outline: 3px solid var(--vb-c); }
.vb-checked .vb-cards { list-style: none; padding: 0; margin: 0; }
.vb-checked .vb-card { border-left: 4px solid #9ca3af; padding: .5rem .9rem; margin: .8rem 0; }
.vb-checked .vb-card:has(.vb-verdict.vb-exact) { border-left-color: #15803d; }
.vb-checked .vb-card:has(.vb-verdict.vb-altered) { border-left-color: #c2410c; }
.vb-checked .vb-card:has(.vb-verdict.vb-stitched) { border-left-color: #7e22ce; }
.vb-checked .vb-card:has(.vb-verdict.vb-paraphrase) { border-left-color: #1d4ed8; }
.vb-checked .vb-card:has(.vb-verdict.vb-not_found) { border-left-color: #b91c1c; }
.vb-checked .vb-card:target { outline: 2px solid #9ca3af; }
.vb-checked .vb-verdict, .vb-check-result .vb-chip { display: inline-block; font-weight: 600; color: var(--vb-c); background: var(--vb-bg); padding: 0 .45rem; border-radius: 6px; }
.vb-check-result .vb-chip { margin: 0 .3rem .2rem 0; font-size: .9rem; }
.vb-checked .vb-verdict a { color: inherit; margin: 0; padding: 0; }
.vb-checked .vb-similarity { font-weight: 400; font-size: .85rem; margin-left: .4rem; }
.vb-checked .vb-quote { background: none; margin: .3rem 0; }
.vb-checked .vb-explain, .vb-checked .vb-where, .vb-checked .vb-who, .vb-checked .vb-section { font-size: .92rem; }
.vb-checked .vb-explain { color: #6b7280; }
.vb-checked .vb-diff { margin: .3rem 0; padding-left: 1.2rem; font-size: .92rem; }
.vb-checked .vb-diff ins { background: #fee2e2; text-decoration: none; padding: 0 .15rem; }
.vb-checked .vb-diff del { background: #dcfce7; text-decoration: none; padding: 0 .15rem; }
.vb-checked .vb-instead { margin: .3rem 0; padding: .2rem .5rem; background: rgba(21, 128, 61, .08); border-radius: 6px; }
.vb-checked .vb-place { margin: .4rem 0; padding-left: .6rem; border-left: 2px solid #e5e7eb; }
.vb-checked .vb-source-text { margin: .2rem 0; color: #374151; }
.vb-checked .vb-attribution { margin-top: .3rem; font-weight: 600; }
.vb-checked .vb-attribution.vb-speaker, .vb-checked .vb-attribution.vb-reported { color: #15803d; }
.vb-checked .vb-attribution.vb-other { color: #b91c1c; }
.vb-checked .vb-attribution.vb-unverified { color: #6b7280; }
@media (max-width: 700px) { .vb-checked .vb-card { padding: .4rem .5rem; } }
"""

# Runs once when the page loads. One listener for the whole document: the chat's cards
# come and go, the listener stays. Citations and links are read from data attributes
# (text, never HTML), and shown in an <output> as plain text, so a reader can select
# them when the clipboard is refused.
PAGE_JS = """
() => {
  document.documentElement.lang = 'fr';
  const copyText = async (text) => {
    try {
      if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(text); return true; }
    } catch (e) {}
    const ta = document.createElement('textarea');
    ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
    document.body.appendChild(ta); ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (e) {}
    ta.remove();
    return ok;
  };
  const show = async (button, text) => {
    const ok = await copyText(text);
    const out = button.parentElement.querySelector('.vb-copied');
    if (out) { out.textContent = text; out.hidden = false; out.dataset.status = ok ? 'copied' : 'shown'; }
    button.textContent = ok ? button.dataset.done : button.dataset.fail;
  };
  // The helper textbox and button that ask a question from a card ("ask it alone").
  const askFromCard = (q) => {
    const box = document.querySelector('#vb-helper-q textarea, #vb-helper-q input');
    const go = document.querySelector('#vb-helper-go');
    if (!box || !go) return;
    box.value = q;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => go.click(), 50);
  };
  document.addEventListener('click', async (ev) => {
    const copy = ev.target.closest('.vb-copy');
    if (copy) { await show(copy, copy.dataset.citation); return; }
    const link = ev.target.closest('.vb-copy-link');
    if (link) { await show(link, location.origin + location.pathname + link.dataset.query); return; }
    const alone = ev.target.closest('.vb-ask-alone');
    if (alone) { askFromCard(alone.dataset.question); return; }
    const browse = ev.target.closest('.vb-browse');
    if (browse) {
      const mark = document.getElementById(browse.getAttribute('href').slice(1));
      const box = mark && mark.closest('.vb-fulltext');
      if (!box) return;
      ev.preventDefault();
      document.querySelectorAll('.vb-fulltext .vb-focus').forEach((m) => m.classList.remove('vb-focus'));
      mark.classList.add('vb-focus');
      box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
      const r = box.getBoundingClientRect();
      if (r.bottom < 0 || r.top > window.innerHeight) box.scrollIntoView({block: 'start'});
    }
  });
  // The page's language follows its last answer (the `lang` of the newest card).
  const follow = () => {
    const cards = document.querySelectorAll('#vb-chat .vb-answer[lang]');
    const lang = cards.length ? cards[cards.length - 1].getAttribute('lang') : (document.querySelector('#vb-lang')?.dataset.lang || 'fr');
    if (document.documentElement.lang !== lang) document.documentElement.lang = lang;
  };
  new MutationObserver(follow).observe(document.body, {childList: true, subtree: true});
}
"""

# When a new answer arrives, the full-text panel scrolls to its first quote.
SOURCE_JS = """
watch('value', () => {
  const box = element.querySelector('.vb-fulltext');
  const mark = box && box.querySelector('.vb-quote, .vb-near');
  if (mark) box.scrollTop += mark.getBoundingClientRect().top - box.getBoundingClientRect().top - box.clientHeight / 3;
});
"""

# Only the server itself: no font, script, image or connection elsewhere, even by mistake.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' blob:; "
    "worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)


class SecurityHeaders:
    """ASGI middleware adding the Content-Security-Policy and no-referrer headers to every response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-content-type-options", b"nosniff"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
