"""Small documents of every format Verbatim reads, made from code (nothing binary is committed).

Tests import the functions; run it to get the files for trying Verbatim by hand:

    .venv/bin/python tests/data/make_samples.py /tmp/samples
    .venv/bin/verbatim add /tmp/samples/rapport-comite.pdf

The PDF writer is a minimal one written here (Helvetica, WinAnsi encoding, one text line
per ``Td``), so that tests control exactly which lines sit on which page: running
headers and footers, words hyphenated at the end of a line, a sentence that goes on
over a page break, a page with no text at all (a scan), and a 100-page report.
"""
from __future__ import annotations

import io
import sys
import zlib
from pathlib import Path

# -- PDF -----------------------------------------------------------------------------


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_bytes(
    pages: list[list[str]],
    *,
    title: str | None = None,
    author: str | None = None,
    created: str | None = None,  # "D:20240312000000Z"
    font_size: float = 11,
    image_pages: frozenset[int] = frozenset(),
    compress: bool = True,
) -> bytes:
    """A PDF whose page i shows ``pages[i]``, one line each, from the top of an A4 page.

    An empty string is a blank line (a paragraph gap). Pages numbered in ``image_pages``
    (0-based) carry a grey image and no text, as a scanned page does.
    """
    objects: list[bytes] = []  # object i+1

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    image = add(b"")
    pixels = bytes([200]) * (8 * 8)
    objects[image - 1] = (
        b"<< /Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream"
    )
    kids = []
    leading = font_size * 1.4
    for n, lines in enumerate(pages):
        if n in image_pages:
            ops = b"q 500 0 0 700 50 70 cm /Im1 Do Q"
        else:
            parts = [b"BT /F1 %g Tf 56 790 Td" % font_size]
            for i, line in enumerate(lines):
                if i:
                    parts.append(b"0 %g Td" % -leading)
                if line:
                    parts.append(_pdf_string(line) + b" Tj")
            parts.append(b"ET")
            ops = b"\n".join(parts)
        if compress:
            data = zlib.compress(ops)
            content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        else:
            content = add(b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream")
        page = add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> /XObject << /Im1 %d 0 R >> >> >>" % (pages_obj, content, font, image)
        )
        kids.append(page)
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    info_items = []
    if title:
        info_items.append(b"/Title " + _pdf_string(title))
    if author:
        info_items.append(b"/Author " + _pdf_string(author))
    if created:
        info_items.append(b"/CreationDate " + _pdf_string(created))
    info = add(b"<< " + b" ".join(info_items) + b" >>") if info_items else None

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    trailer = b"<< /Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def framed(pages: list[list[str]], header: str, footer: str = "Page {n} / {total}") -> list[list[str]]:
    """Pages with a running header on top and a numbered footer at the bottom."""
    total = len(pages)
    return [[header, "", *lines, "", footer.format(n=n, total=total)] for n, lines in enumerate(pages, 1)]


# The report: every fact in it is in no other document of the tests.
REPORT_TITLE = "Rapport du comité sur l'accompagnement numérique"
REPORT_AUTHOR = "Comité d'éthique du numérique social"
REPORT_PAGES = [
    [
        "Introduction",
        "Ce rapport présente les travaux du comité sur l'accompagnement numérique des",
        "personnes accueillies par les services sociaux du département.",
        "",
        "Le comité s'est réuni onze fois entre janvier et juin, sous la présidence de",
        "Madame Hélène Garnier, directrice de l'action sociale.",
    ],
    [
        "Recommandations",
        "Le comité recommande de former quatre mille deux cents travailleurs sociaux à",
        "l'accompa-",
        "gnement numérique d'ici la fin de l'année deux mille vingt-sept.",
        "",
        "Les permanences numériques devront rester ouvertes le samedi matin dans",
        "chaque maison des solidarités, car les personnes qui travaillent en semaine ne",
    ],
    [
        "peuvent pas s'y rendre autrement.",
        "",
        "Conclusion",
        "Le comité propose de publier chaque année un bilan chiffré des démarches",
        "réalisées avec l'aide d'un conseiller numérique.",
    ],
]


def report_pdf() -> bytes:
    return pdf_bytes(
        framed(REPORT_PAGES, REPORT_TITLE + " — version de travail"),
        title=REPORT_TITLE,
        author=REPORT_AUTHOR,
        created="D:20240312093000+01'00'",
    )


def scanned_pdf() -> bytes:
    """Two pages of images and no text: what a scanner without OCR makes."""
    return pdf_bytes([[], []], title="Scan", image_pages=frozenset({0, 1}))


_WORDS = (
    "le service social départemental accompagne les familles dans leurs démarches administratives et "
    "veille à l'accès aux droits de chacun en lien avec les partenaires associatifs du territoire"
).split()


def long_report_pages(n_pages: int = 120, paragraphs_per_page: int = 4, lines_per_paragraph: int = 4) -> list[list[str]]:
    """A long report: each paragraph states one numbered fact, so each can be asked for."""
    pages = []
    for p in range(1, n_pages + 1):
        lines: list[str] = []
        for k in range(paragraphs_per_page):
            fact = f"La mesure {p}-{k + 1} concerne la commune numéro {p * 10 + k} et son budget de {p * 1000 + k} euros."
            words = [*(_WORDS[(p + k + i) % len(_WORDS)] for i in range(11 * lines_per_paragraph))]
            body = " ".join(words).capitalize() + ". " + fact
            # wrap at ~85 characters, as a typeset page would
            line = ""
            for w in body.split():
                if line and len(line) + 1 + len(w) > 85:
                    lines.append(line)
                    line = w
                else:
                    line = f"{line} {w}" if line else w
            lines.append(line)
            lines.append("")
        pages.append(lines[:-1])
    return pages


def long_report_pdf(n_pages: int = 120) -> bytes:
    return pdf_bytes(
        framed(long_report_pages(n_pages), "Schéma départemental des solidarités"),
        title="Schéma départemental des solidarités",
        author="Conseil départemental",
    )


# -- HTML, Markdown, Word, text ------------------------------------------------------

ARTICLE_HTML = """<!doctype html>
<html lang="fr"><head>
<meta charset="utf-8">
<title>Des tablettes prêtées aux seniors | Le journal du quartier</title>
<meta name="author" content="Lucie Martin">
<meta property="article:published_time" content="2024-05-03T10:00:00Z">
<script>var tracking = "ce texte de script ne doit jamais être indexé";</script>
<style>.menu { color: red }</style>
</head><body>
<nav><ul><li><a href="/">Accueil</a></li><li><a href="/agenda">Agenda des sorties</a></li><li><a href="/contact">Nous contacter</a></li></ul></nav>
<main><article>
<h1>Des tablettes prêtées aux seniors</h1>
<p>La médiathèque de Villeurbanne prête des tablettes tactiles aux personnes âgées depuis le printemps deux mille dix-neuf, avec un atelier d'initiation chaque mardi après-midi.</p>
<h2>Un succès mesuré</h2>
<p>Selon le <a href="https://example.org/bilan-mediatheque.pdf">bilan annuel de la médiathèque</a>, trois cent douze personnes ont emprunté une tablette l'an dernier. Les bibliothécaires notent que les emprunteurs reviennent souvent pour un second prêt.</p>
<p>Les ateliers sont animés par des volontaires du service civique, formés par l'association Connexions solidaires pendant deux semaines.</p>
</article></main>
<footer><p>Mentions légales — Plan du site — Tous droits réservés au journal du quartier</p></footer>
<script>console.log("fin du pied de page");</script>
</body></html>
"""

GUIDE_MD = """# Guide du fonds d'innovation sociale

Ce guide décrit le **fonds d'innovation sociale** de la région, créé pour soutenir des
projets pilotes portés par des associations.

## Les projets financés

Le fonds finance douze projets pilotes en Bretagne, dont une *épicerie solidaire mobile*
qui dessert les villages sans commerce. Le règlement complet est publié sur
[le site de la région](https://example.org/reglement-fonds.html).

- Chaque projet reçoit au plus quarante mille euros par an.
- Les candidatures se déposent avant le trente septembre.
"""

NOTE_TXT = """Note de service sur l'accueil du public
Les guichets de la caisse d'allocations familiales ouvriront désormais à huit heures trente le jeudi.
Cette décision fait suite à une consultation des usagers menée pendant tout l'hiver.
"""


def charter_docx() -> bytes:
    """A Word document with a title, headings, paragraphs, a link and core properties."""
    import datetime as dt

    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    d.core_properties.title = "Charte éthique des associations"
    d.core_properties.author = "Fédération des centres sociaux"
    d.core_properties.created = dt.datetime(2024, 3, 12, 9, 0, 0)
    d.add_heading("Charte éthique des associations", level=1)
    d.add_paragraph(
        "La charte éthique sur l'usage des algorithmes a été signée par trente-sept associations "
        "le douze mars, lors de l'assemblée générale de la fédération."
    )
    d.add_heading("Engagements", level=2)
    p = d.add_paragraph("Chaque signataire s'engage à informer les personnes accompagnées de tout traitement automatisé de leurs données, comme le prévoit ")
    rel = d.part.relate_to("https://example.org/rgpd-article-22.html", RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "l'article 22 du règlement"
    run.append(text)
    link.append(run)
    p._p.append(link)
    p.add_run(".")
    d.add_paragraph("")
    d.add_paragraph("Un comité de suivi se réunira deux fois par an pour vérifier le respect de ces engagements.")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def write_samples(dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    files = {
        "rapport-comite.pdf": report_pdf(),
        "schema-departemental.pdf": long_report_pdf(),
        "scan.pdf": scanned_pdf(),
        "tablettes-seniors.html": ARTICLE_HTML.encode(),
        "guide-fonds.md": GUIDE_MD.encode(),
        "note-service.txt": NOTE_TXT.encode(),
        "charte-ethique.docx": charter_docx(),
    }
    out = []
    for name, data in files.items():
        (dest / name).write_bytes(data)
        out.append(dest / name)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: make_samples.py OUTPUT_DIR", file=sys.stderr)
        sys.exit(2)
    for path in write_samples(Path(sys.argv[1])):
        print(path)
