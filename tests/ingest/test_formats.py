"""Every format Verbatim reads, from small documents the tests make."""
import pytest

from ingest.errors import CorpusError, NoTextError, UnsupportedFormatError
from ingest.formats import extract, format_of
from ingest.load import load_document, page_at
from ingest.model import Source
from ingest.pdftext import Line, blocks, drop_running_lines, join_lines
from tests.data import make_samples as samples


def _texts(ex):
    return [b.text for b in ex.blocks]


def test_pdf_paragraphs_pages_and_metadata():
    ex = extract(samples.report_pdf(), "pdf", "rapport.pdf")
    assert ex.pages == 3
    assert ex.metadata == {
        "title": samples.REPORT_TITLE,
        "author": samples.REPORT_AUTHOR,
        "date": "2024-03-12",
    }
    texts = _texts(ex)
    # running header and "Page n / 3" footer are gone
    assert not any("version de travail" in t or t.startswith("Page ") for t in texts)
    # a word hyphenated at a line end reads whole
    assert any("à l'accompagnement numérique d'ici la fin" in t for t in texts)
    # a sentence over the page break 2 -> 3 is one paragraph, starting on page 2
    over = next(b for b in ex.blocks if b.text.startswith("Les permanences"))
    assert over.text.endswith("en semaine ne peuvent pas s'y rendre autrement.")
    assert over.page == 2 and over.page_starts == [(over.text.index("peuvent"), 3)]
    headings = [b.text for b in ex.blocks if b.heading]
    assert headings == ["Introduction", "Recommandations", "Conclusion"]


def test_pdf_document_has_pages_on_paragraphs_and_offsets(tmp_path):
    (tmp_path / "r.pdf").write_bytes(samples.report_pdf())
    doc = load_document(tmp_path, Source(id="r", title="", file="r.pdf", kind="pdf"))
    assert doc.source.title == samples.REPORT_TITLE and doc.source.author == samples.REPORT_AUTHOR
    for p in doc.paragraphs:
        assert doc.text[p.start : p.end] == p.text
        assert p.page in (1, 2, 3)
    # the heading that opens the document is its title, the others head its sections
    assert [p.role for p in doc.paragraphs if p.role in ("title", "heading")] == ["title", "heading", "heading"]
    assert doc.paragraphs[0].role == "title"
    rec = next(p for p in doc.paragraphs if "quatre mille" in p.text)
    assert rec.page == 2 and rec.section == "Recommandations" and rec.speaker == samples.REPORT_AUTHOR
    tail = doc.text.index("peuvent pas")
    assert page_at(doc.pages, tail) == 3 and page_at(doc.pages, tail - 30) == 2


def test_a_scanned_pdf_is_refused_with_the_fix():
    with pytest.raises(NoTextError, match=r"no extractable text.*2 page.*OCR"):
        extract(samples.scanned_pdf(), "pdf", "scan.pdf")


@pytest.mark.parametrize("name,data", [("vide.txt", b""), ("blanc.txt", b"  \n\n \t\n"), ("vide.md", b"\n"), ("vide.html", b"")])
def test_empty_documents_are_refused(name, data):
    with pytest.raises(NoTextError, match="empty|no text"):
        extract(data, format_of(name), name)


def test_a_damaged_pdf_is_a_clear_error():
    with pytest.raises(CorpusError, match="not a readable PDF"):
        extract(b"%PDF-1.4\nthis is not really a pdf", "pdf", "broken.pdf")


def test_html_keeps_the_main_text_only():
    ex = extract(samples.ARTICLE_HTML.encode(), "html", "page.html", base_url="https://journal.example/tablettes")
    text = "\n".join(_texts(ex))
    assert "La médiathèque de Villeurbanne prête des tablettes" in text
    for junk in ("Accueil", "Agenda des sorties", "Mentions légales", "tracking", "console.log", "color: red"):
        assert junk not in text
    assert ex.metadata["title"] == "Des tablettes prêtées aux seniors"
    assert ex.metadata["author"] == "Lucie Martin"
    assert ex.metadata["date"] == "2024-05-03"
    para = next(b for b in ex.blocks if "trois cent douze" in b.text)
    (url, s, e), = para.links
    assert url == "https://example.org/bilan-mediatheque.pdf" and para.text[s:e] == "bilan annuel de la médiathèque"


def test_markdown_is_read_as_plain_text_with_its_links():
    ex = extract(samples.GUIDE_MD.encode(), "markdown", "guide.md")
    texts = _texts(ex)
    assert texts[0] == "Guide du fonds d'innovation sociale" and ex.blocks[0].heading
    assert not any("**" in t or "](" in t or t.startswith("#") for t in texts)
    para = next(b for b in ex.blocks if "douze projets pilotes" in b.text)
    assert "épicerie solidaire mobile qui dessert" in para.text  # emphasis dropped, line break joined
    (url, s, e), = para.links
    assert url == "https://example.org/reglement-fonds.html" and para.text[s:e] == "le site de la région"
    assert "Chaque projet reçoit au plus quarante mille euros par an." in texts


def test_docx_paragraphs_headings_links_and_properties():
    ex = extract(samples.charter_docx(), "docx", "charte.docx")
    assert ex.metadata["title"] == "Charte éthique des associations"
    assert ex.metadata["author"] == "Fédération des centres sociaux" and ex.metadata["date"] == "2024-03-12"
    assert [b.text for b in ex.blocks if b.heading] == ["Charte éthique des associations", "Engagements"]
    para = next(b for b in ex.blocks if "traitement automatisé" in b.text)
    assert para.text.endswith("comme le prévoit l'article 22 du règlement.")
    (url, s, e), = para.links
    assert url == "https://example.org/rgpd-article-22.html" and para.text[s:e] == "l'article 22 du règlement"


@pytest.mark.parametrize("name,fmt", [("a.txt", "text"), ("a.MD", "markdown"), ("a.htm", "html"), ("a.pdf", "pdf"), ("a.docx", "docx")])
def test_format_by_extension(name, fmt):
    assert format_of(name) == fmt


def test_unknown_and_old_formats_say_what_to_do():
    with pytest.raises(UnsupportedFormatError, match=r"\.doc files cannot be read.*save it as \.docx"):
        format_of("vieux.doc")
    with pytest.raises(UnsupportedFormatError, match=r"unknown file type \.bin"):
        format_of("x.bin", b"\x00\x01\x02")
    assert format_of("sans-extension", b"%PDF-1.7 ...") == "pdf"


@pytest.mark.parametrize("maker,name", [
    (lambda: samples.ARTICLE_HTML.encode(), "a.html"),
    (lambda: samples.GUIDE_MD.encode(), "a.md"),
    (samples.charter_docx, "a.docx"),
    (lambda: samples.NOTE_TXT.encode(), "a.txt"),
])
def test_every_format_loads_with_exact_offsets(tmp_path, maker, name):
    (tmp_path / name).write_bytes(maker())
    doc = load_document(tmp_path, Source(id="x", title="", file=name, author="Quelqu'un"))
    assert doc.paragraphs and doc.source.title
    for p in doc.paragraphs:
        assert doc.text[p.start : p.end] == p.text
        assert "\n" not in p.text
    for link in doc.links:
        assert link.citing_text in doc.text


# -- the PDF text rules, one by one --------------------------------------------------------


@pytest.mark.parametrize("a,b,joined", [
    ("de l'accompa-", "gnement numérique", "de l'accompagnement numérique"),
    ("avec Jean-", "Pierre Dupont", "avec Jean-Pierre Dupont"),
    ("c'est peut-", "être vrai", "c'est peut-être vrai"),
    ("la période 2020-", "2024 a vu", "la période 2020-2024 a vu"),
    ("un mot", "suivant", "un mot suivant"),
    ("coupé\u00ad", "ici", "coupéici"),
])
def test_join_lines(a, b, joined):
    assert join_lines(a, b) == joined


def _page(texts, y0=800.0, step=14.0):
    return [Line(t, 56.0, y0 - i * step, 11.0) for i, t in enumerate(texts)]


def test_running_headers_footers_and_page_numbers_are_dropped():
    bodies = ["Le comité a siégé.", "Les usagers ont été consultés.", "Trois avis ont été rendus.", "Le bilan est publié."]
    pages = [_page([f"Le Rapport 2024 — chapitre {n}", body, f"- {n} -"]) for n, body in enumerate(bodies, 1)]
    kept = drop_running_lines(pages)
    assert [[l.text for l in p] for p in kept] == [[b] for b in bodies]


def test_a_single_page_keeps_its_first_line():
    kept = drop_running_lines([_page(["Titre du document", "Une phrase du corps du texte.", "3"])])
    assert [l.text for l in kept[0]] == ["Titre du document", "Une phrase du corps du texte."]


def test_paragraphs_split_at_gaps_and_short_final_lines():
    lines = _page([
        "Une première phrase qui occupe toute la largeur de la ligne du texte courant et",
        "se termine ici.",
        "Une deuxième phrase qui commence un nouveau paragraphe sans espace vertical et qui",
        "continue sur la ligne suivante.",
    ])
    lines.append(Line("Après un blanc, un troisième paragraphe court.", 56.0, lines[-1].y - 40, 11.0))
    out = blocks([lines])
    assert [b.text[:20] for b in out] == ["Une première phrase ", "Une deuxième phrase ", "Après un blanc, un t"]
    assert out[0].text.endswith("du texte courant et se termine ici.")
