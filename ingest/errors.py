"""Errors of the ingest side, each with a message that says the rule, the value and the fix."""
from __future__ import annotations


class CorpusError(ValueError):
    """The corpus or one of its documents cannot be read; the message says how to fix it."""


class UnsupportedFormatError(CorpusError):
    """A file of a type Verbatim does not read."""


class NoTextError(CorpusError):
    """A document with no extractable text: an empty file, a scanned PDF."""


class NotFetchedError(CorpusError):
    """A web source whose bytes are not in the fetch cache yet."""
