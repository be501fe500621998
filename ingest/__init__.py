"""Verbatim: ingest."""
