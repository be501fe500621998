"""Verbatim: index."""
