"""The filters of a question, as the page, the HTTP API (``/api/ask``, Gradio's
``/ask_filtered``) and ``verbatim ask --source/--speaker`` all take them: one helper, so
that the three accept the same ids and names and refuse the same mistakes.

Kept apart from ``chat.api`` so that the command line does not import the web server.
"""
from __future__ import annotations

from collections.abc import Iterable

from chat.answer import QuestionError
from index.protocol import SearchIndex
from index.store import Filter

SHOWN_NAMES = 12  # known names listed in an error; beyond, the closest ones


def _known(names: list[str], bad: list[str]) -> str:
    """The names to offer after a mistake: all of them when few, else the closest."""
    import difflib

    if len(names) <= SHOWN_NAMES:
        return ", ".join(names)
    close = list(dict.fromkeys(m for b in bad for m in difflib.get_close_matches(b, names, n=3, cutoff=0.5)))
    return (f"closest: {', '.join(close)}; " if close else "") + f"{len(names)} in all"


def make_filter(index: SearchIndex, sources: Iterable[str] | None, people: Iterable[str] | None) -> Filter | None:
    """A ``Filter`` from lists of source ids and of people (empty strings ignored), or None
    when both are empty. A person matches a passage they say or are reported in.

    Raises ``QuestionError`` (``unknown_source``, ``unknown_person``) naming what the index
    knows, for an id or a name it does not.
    """
    sources = list(dict.fromkeys(s for s in (sources or []) if s))
    people = list(dict.fromkeys(p for p in (people or []) if p))
    if not sources and not people:
        return None
    facets = index.facets()
    known_sources = [sid for sid, _ in facets["sources"]]
    known_people = sorted(set(facets["speakers"]) | set(facets["reported"]))
    bad = [s for s in sources if s not in known_sources]
    if bad:
        raise QuestionError(f"unknown source id(s): {', '.join(map(repr, bad))}; known: {_known(sorted(known_sources), bad)}",
                            "unknown_source")
    bad = [p for p in people if p not in known_people]
    if bad:
        raise QuestionError(f"unknown person(s): {', '.join(map(repr, bad))}; known: {_known(known_people, bad)} "
                            "(the names of the page's filter and of /api/facets)", "unknown_person")
    return Filter(sources=frozenset(sources), people=frozenset(people))
