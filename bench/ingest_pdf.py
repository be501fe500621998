"""Ingest throughput on a generated 120-page PDF, real model: pages and paragraphs per second.

    .venv/bin/python -m bench.ingest_pdf [--pages 120]

Times ``verbatim add`` as a user runs it on a new corpus (extraction, people attribution,
chunking, embedding with the bundled model, index written), then the same document
changed on one page (the incremental update), with a breakdown of the first run.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import save, table


def run(pages: int = 120, quiet: bool = False) -> dict:
    from index.build import build_index, make_embedder
    from index.convert import default_model_dir, ensure_model
    from index.settings import Settings
    from ingest.chunk import chunk
    from ingest.load import load_document, read_manifest
    from ingest.manifest import add_entry
    from ingest.people import attribute
    from tests.data import make_samples as samples

    settings = Settings(model_dir=ensure_model(default_model_dir(), quiet=True))
    embedder = make_embedder(settings, quiet=True)
    embedder.encode(["échauffement"] * 4)  # load the model outside the timings
    tmp = Path(tempfile.mkdtemp(prefix="verbatim-ingest-pdf-"))
    try:
        corpus = tmp / "corpus"
        corpus.mkdir()
        page_lines = samples.long_report_pages(pages)
        (corpus / "schema.pdf").write_bytes(samples.pdf_bytes(samples.framed(page_lines, "Schéma départemental"), title="Schéma"))
        add_entry(corpus, {"id": "schema", "file": "schema.pdf"})
        # the parts, one by one
        t = time.perf_counter()
        doc = load_document(corpus, read_manifest(corpus)[0])
        extract_s = time.perf_counter() - t
        t = time.perf_counter()
        paragraphs = attribute(list(doc.paragraphs))
        attribute_s = time.perf_counter() - t
        n_chunks = len(chunk(doc, settings.chunking))
        # the whole, as `verbatim add` runs it
        t = time.perf_counter()
        index = build_index(corpus, tmp / "idx", settings, embedder, quiet=True)
        total_s = time.perf_counter() - t
        n_par = len(paragraphs)
        # one page changed: only its passages are embedded again
        page_lines[pages // 2][0] = "Une phrase nouvelle ouvre cette page. " + page_lines[pages // 2][0]
        (corpus / "schema.pdf").write_bytes(samples.pdf_bytes(samples.framed(page_lines, "Schéma départemental"), title="Schéma"))
        t = time.perf_counter()
        again = build_index(corpus, tmp / "idx", settings, embedder, quiet=True)
        update_s = time.perf_counter() - t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "pages": pages, "paragraphs": n_par, "passages": n_chunks, "sentences": index.meta["counts"]["sentences"],
        "extract_s": extract_s, "attribute_s": attribute_s, "total_s": total_s,
        "pages_per_s": pages / total_s, "paragraphs_per_s": n_par / total_s,
        "update_one_page_s": update_s, "update_embedded": again.meta["ingest"]["embedded"],
    }
    if not quiet:
        print(table(f"Ingest of a {pages}-page PDF ({n_par} paragraphs, {n_chunks} passages), real model", ["step", "seconds", "pages/s"], [
            ["extract (pypdf, headers, hyphens, paragraphs)", extract_s, pages / extract_s],
            ["people attribution (spaCy)", attribute_s, pages / attribute_s],
            ["whole ingest, embedding included (verbatim add)", total_s, pages / total_s],
            [f"update after one page changed ({result['update_embedded']} passages embedded)", update_s, pages / update_s],
        ]))
        print(f"\nthroughput: {pages / total_s:.1f} pages/s, {n_par / total_s:.1f} paragraphs/s (embedding included)")
    save("ingest_pdf", result)
    return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pages", type=int, default=120)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args()
    run(a.pages, a.quiet)
