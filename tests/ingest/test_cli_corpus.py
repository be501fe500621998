"""The corpus commands end to end (add, sources, show, remove, fetch, build), with the fake embedder."""
import json

import pytest

import index.build
from chat.cli import main
from tests.conftest import FakeEmbedder
from tests.data import make_samples as samples
from tests.ingest.helpers import copy_corpus, fake_settings, local_server

HCTS = "https://solidarites.gouv.fr/sites/solidarite/files/2023-08/travail_social_et_intelligence_artificielle.pdf"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A copy of the real corpus, a fake model folder, and the fake embedder in place of the real one."""
    monkeypatch.setattr(index.build, "make_embedder", lambda settings, quiet=False: FakeEmbedder())
    corpus = copy_corpus(tmp_path)
    settings = fake_settings(tmp_path)
    docs = tmp_path / "docs"
    samples.write_samples(docs)

    def run(*argv):
        return main([argv[0], "--corpus", str(corpus), "--model", str(settings.model_dir), *argv[1:]])

    return corpus, docs, run


def ask(run, capsys, question):
    capsys.readouterr()
    assert run("ask", "--json", "--top-k", "5", question) == 0
    return json.loads(capsys.readouterr().out)


def test_add_each_format_and_get_its_quotes(env, capsys):
    corpus, docs, run = env
    for name in ("rapport-comite.pdf", "tablettes-seniors.html", "guide-fonds.md", "charte-ethique.docx", "note-service.txt"):
        assert run("add", str(docs / name), "--quiet") == 0, name
    manifest = (corpus / "sources.toml").read_text(encoding="utf-8")
    assert manifest.startswith("# The corpus manifest")  # comments and the first entry are kept
    assert "[[source.links]]" in manifest and 'id = "rapport-comite"' in manifest
    assert (corpus / "rapport-comite.pdf").read_bytes() == (docs / "rapport-comite.pdf").read_bytes()

    cases = [
        ("Combien de travailleurs sociaux le comité recommande-t-il de former ?", "rapport-comite",
         "quatre mille deux cents travailleurs sociaux", 2, samples.REPORT_AUTHOR),
        ("Les permanences numériques restent-elles ouvertes le samedi ?", "rapport-comite",
         "rester ouvertes le samedi matin", 2, samples.REPORT_AUTHOR),
        ("Quelle médiathèque prête des tablettes aux personnes âgées ?", "tablettes-seniors",
         "La médiathèque de Villeurbanne prête des tablettes", None, "Lucie Martin"),
        ("Combien de projets pilotes le fonds d'innovation sociale finance-t-il en Bretagne ?", "guide-fonds",
         "Le fonds finance douze projets pilotes en Bretagne", None, None),
        ("Combien d'associations ont signé la charte éthique sur les algorithmes ?", "charte-ethique",
         "signée par trente-sept associations", None, "Fédération des centres sociaux"),
        ("À quelle heure ouvrent les guichets de la caisse d'allocations familiales le jeudi ?", "note-service",
         "huit heures trente le jeudi", None, None),
    ]
    capsys.readouterr()
    for question, sid, words, page, author in cases:
        out = ask(run, capsys, question)
        top = next((p for p in out["passages"] if p["source"]["id"] == sid and words in p["context"]), None)
        assert top is not None, (question, [p["context"][:60] for p in out["passages"]])
        assert top["page"] == page
        assert top["source"]["kind"] in ("pdf", "html", "markdown", "docx", "text")
        assert top["speaker"] == author and (author is None or top["role"] == "author")
        capsys.readouterr()
        assert run("show", sid) == 0
        shown = capsys.readouterr().out
        assert shown[top["start"] : top["end"]] == top["quote"]
        assert shown[top["context_start"] : top["context_end"]] == top["context"]
    pdf = next(p for p in ask(run, capsys, cases[0][0])["passages"] if p["source"]["id"] == "rapport-comite")
    assert pdf["section"] == "Recommandations"
    assert pdf["source"]["title"] == samples.REPORT_TITLE and pdf["source"]["date"] == "2024-03-12"


def test_show_paragraph_and_page(env, capsys):
    corpus, docs, run = env
    assert run("add", str(docs / "rapport-comite.pdf"), "--quiet") == 0
    capsys.readouterr()
    assert run("show", "rapport-comite", "--page", "3") == 0
    out = capsys.readouterr()
    assert out.out.startswith("peuvent pas s'y rendre autrement.") and "Conclusion" in out.out
    assert run("show", "rapport-comite", "--paragraph", "5") == 0
    assert capsys.readouterr().out.strip().startswith("Le comité recommande de former")
    assert run("show", "contre-sommet-ia-interview", "--paragraph", "6") == 0
    assert "Thierry Breton" in capsys.readouterr().out
    assert run("show", "rapport-comite", "--page", "9") == 2
    assert "no text on page 9" in capsys.readouterr().err
    assert run("show", "contre-sommet-ia-interview", "--page", "1") == 2
    assert "has no pages" in capsys.readouterr().err


def test_sources_lists_kind_title_passages_and_state(env, capsys):
    corpus, docs, run = env
    assert run("add", str(docs / "guide-fonds.md"), "--quiet", "--title", "Le guide", "--date", "2024-01") == 0
    capsys.readouterr()
    assert run("sources", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["guide-fonds"]["state"] == "indexed" and rows["guide-fonds"]["kind"] == "markdown"
    assert rows["guide-fonds"]["title"] == "Le guide" and rows["guide-fonds"]["chunks"] > 0
    assert rows["contre-sommet-ia-interview"]["state"] == "indexed"
    linked = next(r for r in rows.values() if r["url"] == HCTS)
    assert linked["state"] == "waiting" and linked["linked_from"] == "contre-sommet-ia-interview"
    assert linked["cited_in"] == 41 and linked["title"].startswith("Avis de la Commission éthique du HCTS")
    # a changed file is stale until the next update
    (corpus / "guide-fonds.md").write_text(samples.GUIDE_MD + "\nUne ligne de plus.\n", encoding="utf-8")
    assert run("sources") == 0
    text = capsys.readouterr().out
    assert "stale" in text and "waiting to be fetched" in text and "↳ " in text


def test_a_question_naming_a_linked_document_not_fetched_is_told_so(env, capsys):
    """« Que recommande le HCTS ? »: the opinion is linked (§ 41), not fetched; no quote can say
    what it recommends, so the answer's notice says it is not in the corpus yet and how to
    add it. A question on the corpus's own subject, whose words the title shares, is not told so."""
    corpus, docs, run = env
    assert run("build", "--quiet") == 0
    for q, lang in (("Que recommande le HCTS ?", "fr"), ("Que dit l'avis de la commission éthique ?", "fr"),
                    ("What does the HCTS recommend?", "en")):
        got = ask(run, capsys, q)
        assert got["passages"], q  # the search still quotes what the corpus says (the comment that links it)
        said = ("« Avis de la Commission éthique du HCTS : travail social et intelligence artificielle », lié au § 41, "
                "n'est pas encore dans le corpus : verbatim fetch le télécharge et l'indexe") if lang == "fr" else (
                "“Avis de la Commission éthique du HCTS : travail social et intelligence artificielle”, linked in § 41, "
                "is not in the corpus yet: verbatim fetch downloads and indexes it")
        assert said in (got.get("notice") or ""), q
    for q in ("Que pense Olivier Griffith de l'intelligence artificielle ?", "Quel est l'avis d'Olivier Griffith sur le travail social ?"):
        assert "pas encore dans le corpus" not in (ask(run, capsys, q).get("notice") or ""), q


def test_remove(env, capsys):
    corpus, docs, run = env
    assert run("add", str(docs / "note-service.txt"), "--quiet") == 0
    assert run("remove", "note-service", "--quiet") == 0
    assert "note-service" not in (corpus / "sources.toml").read_text()
    assert (corpus / "note-service.txt").exists()  # kept unless --delete-file
    out = ask(run, capsys, "À quelle heure ouvrent les guichets le jeudi ?")
    assert all(p["source"]["id"] != "note-service" for p in out["passages"])
    assert run("remove", "contre-sommet-ia-interview") == 2
    assert "only source" in capsys.readouterr().err


@pytest.mark.parametrize("argv,message", [
    (("add", "/nowhere/rapport.pdf"), "no file at /nowhere/rapport.pdf"),
    (("add", "{docs}/scan.pdf"), "no extractable text"),
    (("add", "{docs}/guide-fonds.md", "--date", "mars 2024"), "--date must be YYYY"),
    (("add", "{docs}/guide-fonds.md", "--id", "Pas Bon"), "--id must be"),
    (("add", "ftp://example.org/a.pdf"), "only http and https"),
    (("show", "inconnu"), "no source 'inconnu'"),
    (("remove", "inconnu"), "no source 'inconnu'"),
    (("fetch", "--timeout", "0"), "--timeout and --max-size must be positive"),
])
def test_bad_input_is_one_line_and_exit_2(env, capsys, argv, message):
    corpus, docs, run = env
    assert run("build", "--quiet") == 0
    capsys.readouterr()
    before = (corpus / "sources.toml").read_text()
    argv = [a.replace("{docs}", str(docs)) for a in argv]
    assert run(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("verbatim: error: ") and message in err and err.count("\n") == 1, err
    assert (corpus / "sources.toml").read_text() == before  # nothing half-added


def test_adding_the_same_file_twice_is_refused(env, capsys):
    corpus, docs, run = env
    assert run("add", str(docs / "guide-fonds.md"), "--quiet") == 0
    assert run("add", str(docs / "guide-fonds.md")) == 2
    assert "already in the corpus as guide-fonds" in capsys.readouterr().err


def test_build_reports_a_bad_file_and_indexes_the_rest(env, capsys):
    corpus, docs, run = env
    (corpus / "scan.pdf").write_bytes(samples.scanned_pdf())
    with open(corpus / "sources.toml", "a", encoding="utf-8") as f:
        f.write('\n[[source]]\nid = "scan"\nfile = "scan.pdf"\ntitle = "Scan"\n')
    assert run("build") == 1
    err = capsys.readouterr().err
    assert "skipped scan:" in err and "OCR" in err and "Indexed 1 source(s)" in err
    assert run("sources", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["scan"]["state"] == "failed" and "OCR" in rows["scan"]["reason"]


def test_fetch_linked_sources_from_a_local_server(env, capsys, tmp_path):
    corpus, docs, run = env
    opinion = samples.pdf_bytes(
        [["Avis de la commission", "",
          "La commission estime que l'intelligence artificielle ne doit jamais remplacer",
          "la relation humaine entre le travailleur social et la personne accompagnée."]],
        title="Avis sur le travail social et l'intelligence artificielle", author="HCTS",
    )
    with local_server({
        "/avis.pdf": (200, {"Content-Type": "application/pdf"}, opinion),
        "/gone.pdf": (404, {"Content-Type": "text/plain"}, b"gone"),
    }) as base:
        page = samples.ARTICLE_HTML.replace("https://example.org/bilan-mediatheque.pdf", f"{base}/avis.pdf")
        page = page.replace("</article>", f'<p>Un <a href="{base}/gone.pdf">document disparu</a> est aussi cité ici pour mémoire.</p></article>')
        (docs / "page.html").write_text(page, encoding="utf-8")
        assert run("add", str(docs / "page.html"), "--quiet") == 0
        capsys.readouterr()
        # by default a local address is refused, and said so; everything else works
        assert run("fetch", "--quiet") == 1
        out = capsys.readouterr().out
        assert f"could not fetch {base}/avis.pdf" in out and "refused" in out and "--allow-private" in out
        assert "could not fetch https://solidarites.gouv.fr" in out  # no network here, or refused: said either way
        assert ask(run, capsys, "Qui a ouvert la série de rencontres ?")["passages"]
        # allowed explicitly: the opinion is fetched and indexed, the 404 reported
        assert run("fetch", "--quiet", "--allow-private", "--timeout", "2") == 1
        out = capsys.readouterr().out
        assert f"fetched  {base}/avis.pdf" in out and f"could not fetch {base}/gone.pdf" in out and "HTTP 404" in out
    res = ask(run, capsys, "L'intelligence artificielle peut-elle remplacer la relation humaine avec le travailleur social ?")
    top = next(p for p in res["passages"] if p["source"]["id"] == "avis")
    assert "ne doit jamais remplacer la relation humaine" in top["quote"]
    assert top["source"]["linked_from"] == "page" and top["source"]["url"] == f"{base}/avis.pdf"
    assert top["source"]["title"] == "Avis sur le travail social et l'intelligence artificielle"
    assert top["page"] == 1 and top["quote_url"] == f"{base}/avis.pdf#page=1"
    capsys.readouterr()
    assert run("sources", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["avis"]["state"] == "indexed" and rows["avis"]["kind"] == "pdf"
    assert rows["gone"]["state"] == "fetch-failed" and "404" in rows["gone"]["reason"]


def test_add_a_url(env, capsys):
    corpus, docs, run = env
    with local_server({"/article": (200, {"Content-Type": "text/html; charset=utf-8"}, samples.ARTICLE_HTML.encode())}) as base:
        assert run("add", f"{base}/article", "--quiet", "--allow-private") == 0
    manifest = (corpus / "sources.toml").read_text(encoding="utf-8")
    assert f'url = "{base}/article"' in manifest and 'title = "Des tablettes prêtées aux seniors"' in manifest
    assert "file =" not in manifest.split("[[source]]")[-1]
    res = ask(run, capsys, "Quelle médiathèque prête des tablettes aux seniors ?")
    top = next(p for p in res["passages"] if p["source"]["url"] == f"{base}/article")
    assert top["quote_url"].startswith(f"{base}/article#:~:text=")
    # a URL that cannot be fetched now is recorded and waits
    assert run("add", "http://unreachable.invalid/rapport.pdf", "--quiet", "--timeout", "1") == 1
    capsys.readouterr()
    assert run("sources", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["rapport"]["state"] == "fetch-failed" and "cannot resolve" in rows["rapport"]["reason"]
