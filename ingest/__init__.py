"""Verbatim: ingest, the first steps of the flow.

``sources.toml → load → parse → attribute → chunk`` → embed → Index → search → answer → render

Reads the manifest and each document (``load``, ``formats``, ``fetch``), parses an
interview's structure (``parse``), attributes speakers and reported people (``people``),
and cuts passages with exact offsets (``chunk``). User errors: ``errors``.
"""
