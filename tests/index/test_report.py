"""meta["ingest"] read as a typed IngestReport and written back unchanged."""
import json

from index.build import build_index
from index.report import IngestReport, SourceRecord
from ingest.manifest import add_entry
from tests.data import make_samples as samples
from tests.ingest.helpers import CountingEmbedder, copy_corpus, fake_settings


def test_the_report_reads_and_writes_the_meta_of_an_index_as_it_is(tmp_path):
    corpus = copy_corpus(tmp_path)
    (corpus / "rapport.pdf").write_bytes(samples.report_pdf())
    add_entry(corpus, {"id": "rapport", "file": "rapport.pdf", "title": samples.REPORT_TITLE, "kind": "pdf"})
    (corpus / "vide.txt").write_text("   \n", encoding="utf-8")
    add_entry(corpus, {"id": "vide", "file": "vide.txt", "title": "Vide"})
    index = build_index(corpus, tmp_path / "idx", fake_settings(tmp_path), CountingEmbedder(), quiet=True)
    on_disk = json.loads((tmp_path / "idx" / "meta.json").read_text(encoding="utf-8"))["ingest"]
    report = IngestReport.of(index.meta)
    assert report.to_dict() == on_disk  # the JSON layout is unchanged
    assert set(report.sources) == {"contre-sommet-ia-interview", "rapport"} and "vide" in report.failed
    pdf = report.sources["rapport"]
    assert isinstance(pdf, SourceRecord) and pdf.chunks > 0 and pdf.pages and pdf.paragraphs[0][3] == 1  # page of § 1
    assert report.titles["rapport"] == samples.REPORT_TITLE and report.embedded > 0
    assert any(r.linked_from == "contre-sommet-ia-interview" for r in report.links)
    # Rebuilt with nothing changed: every source is reused, and said to be.
    again = IngestReport.of(build_index(corpus, tmp_path / "idx", fake_settings(tmp_path), CountingEmbedder(), quiet=True).meta)
    assert again.reused_sources == ("contre-sommet-ia-interview", "rapport") and again.embedded == 0
    assert again.sources == report.sources


def test_an_index_without_a_report_reads_as_an_empty_one():
    assert IngestReport.of({}) == IngestReport()
    assert IngestReport.of({}).to_dict()["sources"] == {}


def test_a_paragraph_or_a_page_of_a_source_is_a_slice_of_its_text():
    import pytest

    from index.report import NotInSourceError, page_span, paragraph_span
    from ingest.errors import VerbatimError

    text = "Titre\nPremier paragraphe.\nSecond, page 2.\n"
    record = SourceRecord("fp", 2, ((1, 0, 5, 1), (2, 6, 25, 1), (3, 26, 41, 2)), ((0, 1), (26, 2)))
    span = paragraph_span("doc", text, record, 2)
    assert text[span.start:span.end] == "Premier paragraphe." and span.page == 1
    page = page_span("doc", text, record, "pdf", 2)
    assert text[page.start:page.end] == "Second, page 2.\n" and page.page == 2
    assert paragraph_span("doc", text, None, 3).start == 26  # no record: the text's lines
    with pytest.raises(NotInSourceError, match="doc has no paragraph 9 \\(paragraphs 1 to 3\\)") as err:
        paragraph_span("doc", text, record, 9)
    assert isinstance(err.value, VerbatimError)
    with pytest.raises(NotInSourceError, match="no text on page 3 \\(pages with text: 1 to 2\\)"):
        page_span("doc", text, record, "pdf", 3)
    with pytest.raises(NotInSourceError, match="it is a text source"):
        page_span("doc", text, SourceRecord("fp"), "text", 1)
