"""Property tests: parsing, sentence splitting, chunking, cleaning and answering any Unicode.

Offsets are always valid, quotes always verbatim, and no exception escapes but
``QuestionError`` (the clear outcome for a question with no words). Answering runs with
the FakeEmbedder on a small index of the interview built once for the module. The number
of examples run is printed at the end of the module.
"""
from __future__ import annotations

import html
import os
import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.answer import MAX_QUESTION_TOKENS, QuestionError, answer, clean_question
from chat.render import render_text
from chat.web import render_html
from index.settings import Settings
from ingest.chunk import ChunkSettings, chunk
from ingest.model import Document, Source
from ingest.parse import extract_links, parse
from ingest.sentences import split_sentences
from tests.conftest import small_interview_index

EXAMPLES = int(os.environ.get("VERBATIM_FUZZ_EXAMPLES", "200"))  # more: VERBATIM_FUZZ_EXAMPLES=5000
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RAN: Counter[str] = Counter()

# Any code point, surrogates included: a question can hold them (undecodable argv bytes).
any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
# A document's text cannot: it was decoded strictly from UTF-8 or UTF-16.
doc_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",))
# Text that looks like the corpus: French words, sentence punctuation, quotes, line breaks of every kind.
french = st.sampled_from(
    ["Qui", "a", "ouvert", "la", "série", "M.", "Dr.", "etc.", "J.-C.", "3.5", "1er", "« Quoi ? »", "dit-il.", "Il", "Elle",
     "https://ex.org/a_b?c=d.", "(UFC Que Choisir)", "de la Quadrature du Net", "?", "!", "…", ".", "...", " ", " ", " ",
     "\n", "\n\n", "\r\n", "\u2028", "\x0b", "\x85", "\t", "Une réponse", "3 commentaires", "Photo : X", "Merci Olivier",
     "Thierry Breton, l’ex-commissaire européen.", "😀", "\u200b", "\x00", "<script>", "é", "e\u0301"]
)
corpus_like = st.lists(french | st.text(doc_char, max_size=3), max_size=120).map("".join)
texts = st.one_of(corpus_like, st.text(doc_char, max_size=400))


@pytest.fixture(scope="module", autouse=True)
def report_examples(request):
    yield
    total = sum(v for k, v in RAN.items() if ":" not in k)
    line = f"fuzz: {total} examples run ({', '.join(f'{k} {v}' for k, v in sorted(RAN.items()))})"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line("\n" + line)


@pytest.fixture(scope="module")
def small():
    """The interview, parsed and chunked (no attribution: no spaCy), indexed with the FakeEmbedder."""
    return small_interview_index()


def _check_paragraphs(text: str, paragraphs) -> None:
    last = -1
    for p in paragraphs:
        assert 0 <= p.start < p.end <= len(text) and text[p.start : p.end] == p.text
        assert p.start > last and p.number >= 1
        assert not p.text[0].isspace() and not p.text[-1].isspace()
        last = p.end


@FUZZ
@given(texts, st.sampled_from(["interview", "text"]))
def test_paragraph_offsets_are_always_exact(text, kind):
    RAN["parse"] += 1
    source = Source(id="s", title="t", kind=kind, interviewee="I", publisher="P")
    paragraphs = parse(text, source)
    _check_paragraphs(text, paragraphs)
    for link in extract_links(paragraphs):
        assert any(link.url in p.text for p in paragraphs if p.number == link.paragraph)


@FUZZ
@given(texts, st.data())
def test_sentences_cover_every_word_without_overlap(text, data):
    RAN["sentences"] += 1
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = split_sentences(text, start, end)
    last = start
    for s, e in spans:
        assert last <= s < e <= end
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert text[last:s].strip() == ""  # nothing but white space between sentences
        last = e
    assert text[last:end].strip() == ""


@FUZZ
@given(texts, st.sampled_from(["interview", "text"]), st.integers(1, 6), st.integers(50, 700))
def test_passages_are_exact_slices_of_whole_sentences_inside_one_paragraph(text, kind, max_sentences, max_chars):
    RAN["chunk"] += 1
    source = Source(id="s", title="t", kind=kind, interviewee="I", publisher="P")
    paragraphs = parse(text, source)
    doc = Document(source=source, text=text, paragraphs=tuple(paragraphs), links=tuple(extract_links(paragraphs)))
    spans = {p.number: (p.start, p.end) for p in paragraphs}
    for c in chunk(doc, ChunkSettings(max_sentences=max_sentences, max_chars=max_chars)):
        assert text[c.start : c.end] == c.text and c.text.strip()
        ps, pe = spans[c.paragraph]
        assert ps <= c.start < c.end <= pe
        assert c.sentences and c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for (s, e), (s2, _) in zip(c.sentences, c.sentences[1:]):
            assert s < e <= s2


class _OneTokenPerChar:
    def count_tokens(self, text: str) -> int:
        return len(text) + 2


@FUZZ
@given(st.one_of(st.text(any_char, max_size=3000), corpus_like, st.lists(french | st.text(any_char, max_size=3), max_size=120).map("".join)))
def test_cleaning_a_question_gives_clean_text_or_a_clear_error(q):
    RAN["clean"] += 1
    s = Settings(model_dir="x", max_question_chars=600)
    try:
        text, notice = clean_question(q, s, _OneTokenPerChar())
    except QuestionError as exc:
        assert exc.code in ("empty", "no_words") and str(exc) and "\n" not in str(exc)
        return
    assert text and text.isprintable() and text == text.strip() and "  " not in text
    assert any(c.isalnum() for c in q)
    assert len(text) <= s.max_question_chars and len(text) + 2 <= MAX_QUESTION_TOKENS
    assert notice is None if len(q) <= 100 else (notice is None or "shortened" in notice or "raccourcie" in notice)
    text.encode("utf-8")  # no lone surrogate left
    assert clean_question(text, s, _OneTokenPerChar()) == (text, None)  # cleaning is idempotent


@FUZZ
@given(st.one_of(st.text(any_char, max_size=300), corpus_like, st.text(max_size=2500)))
def test_answering_any_question_quotes_verbatim_or_says_why(small, q):
    RAN["answer"] += 1
    index, emb, s = small
    try:
        ans = answer(q, index, emb, s)
    except QuestionError as exc:
        assert exc.code in ("empty", "no_words")
        RAN["answer: refused"] += 1
        return
    RAN["answer: answered" if ans.passages else "answer: no passage"] += 1
    assert len(ans.passages) <= s.top_k
    for p in ans.passages:
        src = index.texts[p.source["id"]]
        assert src[p.start : p.end] == p.quote and p.quote.strip()
        assert p.context_start <= p.start < p.end <= p.context_end
        assert src[p.context_start : p.context_end] == p.context
    data = json.dumps(ans.to_dict(), ensure_ascii=False)
    data.encode("utf-8")
    render_text(ans).encode("utf-8")
    page = render_html(ans, index.texts)
    assert html.escape(ans.question) in page
    assert "<script" not in page.lower()
