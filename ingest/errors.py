"""User errors: each message says the rule, the value and the fix.

``VerbatimError`` is the base of every mistake a user can fix (a bad question, corpus,
setting, index or model folder). The command line shows one as one line on stderr with
exit code 2; any other exception is a bug and shows as one (a traceback, exit code 1).
"""
from __future__ import annotations


class VerbatimError(Exception):
    """A mistake the user can fix; the message says how."""


class SettingsError(VerbatimError, ValueError):
    """A setting of ``[settings]`` in sources.toml, or of the command line, is not valid."""


class CorpusError(VerbatimError, ValueError):
    """The corpus or one of its documents cannot be read; the message says how to fix it."""


class UnsupportedFormatError(CorpusError):
    """A file of a type Verbatim does not read."""


class NoTextError(CorpusError):
    """A document with no extractable text: an empty file, a scanned PDF."""


class NotFetchedError(CorpusError):
    """A web source whose bytes are not in the fetch cache yet."""
