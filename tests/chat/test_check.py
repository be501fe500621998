"""Checking quotes against the interview: quotes altered by rules from the real text, each
verdict checked; the fake embedder (the textual verdicts do not depend on the model)."""
import random
from dataclasses import replace

import pytest

from chat.check import CheckError, check_text, quote_spans
from chat.check_render import check_html, render_check
from chat.matcher import SourceMatcher
from chat.quotetext import cut_segments, named_person, quoted_spans, same_person, word_spans
from tests.conftest import small_interview_index


@pytest.fixture(scope="module")
def env():
    index, emb, settings = small_interview_index()
    # No paraphrase verdict from the fake model's vectors: only textual verdicts here.
    return index, emb, replace(settings, check_paraphrase_min=2.0), SourceMatcher.from_index(index)


def sentences(index, min_words=8, role=None):
    """Sentences of the interview's passages that occur once, with their offsets."""
    text = index.texts["itw"]
    out = []
    for c in index.chunks:
        if role and c.role != role:
            continue
        for s, e in c.sentences:
            sent = text[s:e]
            if len(word_spans(sent)) >= min_words and text.count(sent) == 1 and "«" not in sent and "…" not in sent:
                out.append((s, e))
    return out


def check1(env, quote):
    index, emb, settings, matcher = env
    report = check_text(quote, index, emb, settings, matcher, mode="whole")
    assert len(report.quotes) == 1
    return report.quotes[0]


def words_end(text, s, e):
    """The end of the last word of ``text[s:e]`` (places stop at words)."""
    return word_spans(text, s, e)[-1][1]


def test_every_sentence_as_is_is_exact_with_its_offsets(env):
    index = env[0]
    text = index.texts["itw"]
    for s, e in sentences(index):
        q = check1(env, text[s:e])
        assert q.verdict == "exact", text[s:e]
        (p,) = q.places
        assert (p.start, p.end) == (s, words_end(text, s, e))
        assert text[p.start : p.end] == p.text
        assert p.speaker and p.paragraph


def test_typography_changes_are_folded(env):
    index = env[0]
    text = index.texts["itw"]
    rng = random.Random(1)
    cases = [x for x in sentences(index) if "’" in text[x[0] : x[1]]][:15]
    assert len(cases) >= 10
    for s, e in cases:
        sent = text[s:e]
        typed = sent.replace("’", "'").replace(" ", rng.choice(["\u00a0", "\u202f", "  ", " "]), 3)
        typed = typed[0].lower() + typed[1:]
        q = check1(env, f"“{typed}”")
        assert q.verdict == "exact", typed
        assert q.places[0].start == s and q.places[0].text == text[s : words_end(text, s, e)]


def test_a_word_swapped_is_altered_with_the_change_and_the_text_to_quote(env):
    index = env[0]
    text = index.texts["itw"]
    rng = random.Random(2)
    checked = 0
    for s, e in sentences(index, 10):
        words = word_spans(text, s, e)
        i = rng.randrange(2, len(words) - 2)
        ws, we = words[i]
        if len(text[ws:we]) < 3:
            continue
        checked += 1
        altered = text[s:ws] + "bidule" + text[we:e]
        q = check1(env, altered)
        assert q.verdict == "altered", altered
        assert any(c.kind == "changed" and c.quote == "bidule" and c.source == text[ws:we] for c in q.changes), q.changes
        assert q.instead == text[q.places[0].start : q.places[0].end]
        assert q.places[0].start == s and 0.8 <= q.similarity < 1
    assert checked >= 20


def test_a_word_dropped_is_altered_and_named(env):
    index = env[0]
    text = index.texts["itw"]
    rng = random.Random(3)
    for s, e in sentences(index, 10):
        words = word_spans(text, s, e)
        i = rng.randrange(2, len(words) - 2)
        ws, we = words[i]
        dropped = text[s:ws] + text[we:e].lstrip()
        q = check1(env, dropped)
        assert q.verdict == "altered", dropped
        removed = [c for c in q.changes if c.kind == "removed"]
        assert removed and text[ws:we] in removed[0].source
        assert q.instead == text[s : words_end(text, s, e)]


def test_a_cut_marked_with_an_ellipsis_is_exact(env):
    index = env[0]
    text = index.texts["itw"]
    for s, e in sentences(index, 12):
        words = word_spans(text, s, e)
        head = text[s : words[4][1]]
        tail = text[words[-4][0] : e]
        for mark in (" […] ", " [...] ", " … ", " (...) "):
            q = check1(env, head + mark + tail)
            assert q.verdict == "exact", head + mark + tail
            assert [p.text for p in q.places] == [head, text[words[-4][0] : words[-1][1]]]


def test_two_sentences_from_different_places_are_stitched(env):
    index = env[0]
    text = index.texts["itw"]
    cases = sentences(index, 8)
    rng = random.Random(4)
    checked = 0
    for _ in range(30):
        (a, b), (c, d) = rng.sample(cases, 2)
        if abs(a - c) < 400:
            continue  # far apart: not one after the other
        checked += 1
        q = check1(env, f"{text[a:b]} {text[c:d]}")
        assert q.verdict == "stitched", (text[a:b], text[c:d])
        assert [(p.start, p.text) for p in q.places] == [(a, text[a : words_end(text, a, b)]), (c, text[c : words_end(text, c, d)])]
        assert all(p.word_for_word for p in q.places)
    assert checked >= 15


def test_unrelated_text_is_not_found(env):
    q = check1(env, "La recette de la tarte Tatin demande des pommes bien fermes et beaucoup de beurre.")
    assert q.verdict == "not_found" and not q.places


def test_quoted_spans_and_their_offsets():
    text = 'Il dit « un deux trois quatre » puis “cinq six sept” et "huit neuf dix" mais « IA » non.'
    spans = quoted_spans(text)
    assert [text[s:e] for s, e in spans] == ["un deux trois quatre", "cinq six sept", "huit neuf dix"]
    nested = "« il a dit “un deux trois” hier soir »"
    assert [nested[s:e] for s, e in quoted_spans(nested)] == ["il a dit “un deux trois” hier soir"]


def test_cut_segments():
    t = "un deux […] trois ... quatre (…) cinq"
    assert [t[s:e] for s, e in cut_segments(t, 0, len(t))] == ["un deux", "trois", "quatre", "cinq"]


def test_named_person_before_and_after():
    known = {"olivier griffith": "Olivier Griffith", "griffith": "Olivier Griffith"}
    t = "Selon Katia Roux, « un deux trois ». « quatre cinq six », a déclaré Olivier Griffith. Griffith : « sept huit neuf »."
    spans = quoted_spans(t)
    assert [named_person(t, s, e, known).name for s, e in spans] == ["Katia Roux", "Olivier Griffith", "Griffith"]
    assert named_person("Il a dit « un deux trois ».", 10, 23, known) is None
    assert same_person("Griffith", "Olivier Griffith") and same_person("katia roux", "Katia Roux")
    assert not same_person("Katia Roux", "Olivier Griffith")


def test_sentences_mode_checks_every_sentence(env):
    index, emb, settings, matcher = env
    text = index.texts["itw"]
    (a, b), (c, d) = sentences(index)[:2]
    draft = f"{text[a:b]} Une phrase qui ne vient pas de là du tout. {text[c:d]}"
    report = check_text(draft, index, emb, settings, matcher, mode="sentences")
    assert [q.verdict for q in report.quotes] == ["exact", "not_found", "exact"]
    assert [draft[q.start : q.end] for q in report.quotes][0] == text[a:b]


def test_report_json_shape(env):
    index, emb, settings, matcher = env
    text = index.texts["itw"]
    (a, b), (c, d) = sentences(index, role="interviewee")[:2]
    draft = f"Selon Olivier Griffith, « {text[a:b]} » Et « {text[c:d].replace('e', 'é', 1)} »."
    d = check_text(draft, index, emb, settings, matcher).to_dict()
    assert set(d) == {"text", "mode", "counts", "quotes"} and d["text"] == draft
    assert sum(d["counts"].values()) == len(d["quotes"]) == 2
    q = d["quotes"][0]
    assert set(q) == {"start", "end", "quote", "verdict", "similarity", "places", "changes", "instead", "attribution"}
    assert draft[q["start"] : q["end"]] == q["quote"] == text[a:b]
    p = q["places"][0]
    assert {"source_id", "start", "end", "text", "quote_start", "quote_end", "word_for_word", "paragraph", "page",
            "section", "speaker", "role", "reported", "reported_people", "source", "link"} <= set(p)
    assert index.texts[p["source_id"]][p["start"] : p["end"]] == p["text"]
    assert p["link"].startswith("https://dubasque.org/x#:~:text=")
    assert q["attribution"]["named"] == "Olivier Griffith" and q["attribution"]["status"] == "speaker"
    assert set(q["attribution"]) == {"named", "start", "end", "status", "speakers", "reported", "reported_people", "person"}
    assert d["quotes"][1]["verdict"] == "altered" and d["quotes"][1]["changes"][0]["kind"] == "changed"


@pytest.mark.parametrize("text, code", [("", "empty"), ("  \n\t", "empty"), ("!!! … ?", "no_words"), (None, "not_text")])
def test_texts_that_cannot_be_checked(env, text, code):
    index, emb, settings, matcher = env
    with pytest.raises(CheckError) as err:
        check_text(text, index, emb, settings, matcher)
    assert err.value.code == code


def test_bad_mode_is_refused():
    with pytest.raises(CheckError, match="mode must be one of"):
        quote_spans("un deux trois", "everything")


def test_html_marks_each_quote_in_place_and_escapes_everything(env):
    index, emb, settings, matcher = env
    text = index.texts["itw"]
    (a, b), = sentences(index)[:1]
    draft = f"<script>alert(1)</script> Selon <b>X</b> Y, « {text[a:b]} » puis « pas du tout <i>ça</i> vraiment »"
    report = check_text(draft, index, emb, settings, matcher)
    out = check_html(report, "fr")
    assert "<script>" not in out and "<b>" not in out and "<i>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert out.count('<mark id="vb-q') == 2 and 'class="vb-check vb-exact"' in out and "vb-not_found" in out
    assert "exacte" in out and "introuvable" in out
    assert "exact" in check_html(report, "en") and "not found" in check_html(report, "en")
    terminal = render_check(report, "fr")
    assert "[exacte]" in terminal and "[introuvable]" in terminal and f"§ {report.quotes[0].places[0].paragraph}" in terminal


def test_benchmark_text_has_its_words_and_quotes(env):
    from bench.check import make_text

    index, emb, settings, matcher = env
    text, plan = make_text(index, random.Random(0))
    assert len(plan) == 50 and 4800 <= len(text.split()) <= 5600
    report = check_text(text, index, emb, settings, matcher, mode="quotes")
    assert len(report.quotes) == 50
    counts = report.counts()
    assert counts["exact"] >= plan.count("exact") + plan.count("cut") - 2  # an "altered" word may exist in the sentence
    assert counts["stitched"] >= plan.count("stitched") - 1


def test_reported_people_are_those_of_the_sentences_quoted():
    """Attribution is per sentence: a stretch gets the people its own sentences relay."""
    from chat.check import reported_between
    from ingest.model import Chunk, Person

    breton, roux = Person("Thierry Breton", "ex-commissaire européen"), Person("Katia Roux", "Amnesty France")
    c = Chunk(id="x", source_id="s", text="", start=0, end=30, paragraph=1, page=None, section=None, speaker="O", role="interviewee",
              reported=(breton, roux), sentences=((0, 10), (10, 20), (20, 30)), reported_in=((0,), (), (1, 0)))
    assert reported_between(c, 0, 10) == (breton,)
    assert reported_between(c, 12, 18) == ()
    assert reported_between(c, 15, 25) == (roux, breton)
    # An older passage without per-sentence attribution counts as a whole.
    assert reported_between(replace(c, reported_in=()), 12, 18) == (breton, roux)


def test_a_place_is_shown_under_its_question_or_its_heading(env):
    """An interview's answer stands under a question; another document's text under a heading."""
    from chat.check_render import _place_html

    index, _, _, _ = env
    (a, b), = sentences(index, role="interviewee")[:1]
    q = check1(env, index.texts["itw"][a:b])
    place = replace(q.places[0], section="Que retenez-vous ?", part="answer")
    assert "Question : Que retenez-vous ?" in _place_html(place, q, "fr")
    heading = replace(place, section="Recommandations", part="text")
    shown = _place_html(heading, q, "fr")
    assert "Rubrique : Recommandations" in shown and "Question :" not in shown
    assert "Section : Recommandations" in _place_html(heading, q, "en")
