"""Follow-up questions, resolved without any generative model.

In a conversation, "Et sur les enfants ?" or "Qu'a-t-elle dit d'autre ?" mean nothing
alone: they lean on the question before. A question is read as a follow-up when it
starts like one ("Et …", "And what about …"), asks for more ("d'autre", "else"), points
back with a pronoun ("elle", "ils", "they") without naming anyone, or is too short to
stand alone. It is then searched together with the conversation's topic (the last
question that stood alone) and the people of that answer's best passage, and the page
says how it was understood, with a way to ask it alone. "Et la suite ?", "le paragraphe
précédent", "what comes next?" read on from the last answer's first quote: the paragraph
after (or before) it, asked for by its number in its document (index/structure.py).

Outside the page, a conversation is the object ``Context.to_dict()`` gives: ``verbatim
ask --json`` and ``/api/ask`` return it with each answer (``conversation``), a program
sends it back with the next question, and ``verbatim ask -c`` keeps the last one in a
file of the user's state folder (``saved_path``), as ``llm -c`` continues its last chat.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chat.answer import detect_language, plain_text

from index.store import Filter

if TYPE_CHECKING:
    from chat.answer import Answer
    from index.store import Index

# Openings of a question that continues the one before.
_OPENINGS = re.compile(
    r"^(?:et|mais|puis|ensuite|aussi|sinon|and|but|also|what about|how about|same for|et pour|et sur|et concernant)\b", re.IGNORECASE
)
# Words that ask for more of the same.
_MORE = re.compile(r"\b(?:d['’]autres?|autre chose|encore|de plus|aussi|else|other|more|also)\b", re.IGNORECASE)
# Words that ask for something other than what was quoted ("Qu'a-t-elle dit d'autre ?"),
# not the same question about something else ("Et les enfants, aussi ?").
_ELSE = re.compile(r"\b(?:d['’]autres?|autre chose|encore|else|other|more)\b", re.IGNORECASE)


def _pronoun(words: str) -> re.Pattern[str]:
    """Any of ``words`` (regex alternatives) as a word alone or after a verb ("a-t-elle", "ont-ils", "dit-il")."""
    return re.compile(rf"(?:^|[\s'’-])(?:{words})(?=$|[\s?!.,;:'’-])", re.IGNORECASE)


# Pronouns that point at one person, and at several ("Qu'ont-ils dit d'autre ?", "tous deux").
_ONE_WORDS = "il|elle|lui|he|she|him|her|his"
_SEVERAL_WORDS = "ils|elles|eux|they|them|their"
_ONE = _pronoun(_ONE_WORDS)
_FEMININE = _pronoun("elle|she|her")
_MASCULINE = _pronoun("il|he|him|his")
_SEVERAL = _pronoun(rf"{_SEVERAL_WORDS}|tous\s+deux|toutes\s+deux|both")
# Third-person pronouns: a question that points back at someone.
_PRONOUNS = _pronoun(rf"{_ONE_WORDS}|{_SEVERAL_WORDS}|leur|leurs|celui-ci|celle-ci|ceux-ci|theirs")
# A whole question that asks to read on from the last quote, or back.
_NEXT = re.compile(
    r"^(?:et |and )?(?:(?:lis |read )?la suite|après|apres|ensuite|(?:le )?paragraphe suivant|(?:le )?passage suivant|"
    r"(?:the )?next(?: paragraph| passage)?|what comes next|what follows|then|continue|go on|keep reading)\s*[?.!…]*$",
    re.IGNORECASE,
)
_PREVIOUS = re.compile(
    r"^(?:et |and )?(?:avant|(?:le )?paragraphe précédent|(?:le )?paragraphe precedent|(?:le )?passage précédent|"
    r"(?:the )?previous(?: paragraph| passage)?|what comes before|before that|before)\s*[?.!…]*$",
    re.IGNORECASE,
)
# Impersonal uses of "il": no one is pointed at.
_IMPERSONAL = re.compile(r"\b(?:il y a|y a-t-il|il faut|faut-il|s['’]agit-il|il s['’]agit|il existe|existe-t-il)\b", re.IGNORECASE)
_STOP = frozenset(
    "et mais puis ensuite aussi sinon le la les l un une des du de d au aux a à en sur dans pour par avec sans ce cet cette ces "
    "qui que quoi qu quel quelle quels quelles comment pourquoi où quand combien est sont ont été dit dire parlé "
    "and but also the a an of on in for with about what who whom which why how when where is are was were did do does say said "
    "concernant propos niveau côté ça cela".split()
)


MAX_TOPIC = 4000  # a topic is a question a user typed; the longest one kept is 2,000 characters
MAX_SHOWN = 60  # paragraphs a conversation remembers as quoted: the latest ones, past them "d'autre" may come back
_SHOWN_LIMIT = 100  # what a conversation sent back may hold


def merge_shown(before, after) -> tuple[tuple[str, int], ...]:
    """The paragraphs quoted ``before`` and ``after``, each once, the latest ``MAX_SHOWN``."""
    return tuple(dict.fromkeys([*before, *after]))[-MAX_SHOWN:]


@dataclass(frozen=True)
class Context:
    """What a follow-up can lean on: the conversation's topic and the people of its last answer."""

    topic: str  # the last question that stood alone
    people: tuple[str, ...] = ()  # speaker and reported people of the last answer's best passage
    at: tuple[str, int] | None = None  # the title of the document of the last answer's first quote, and its paragraph
    shown: tuple[tuple[str, int], ...] = ()  # (source id, paragraph) of the last answer's quotes
    language: str | None = None  # the last answer's: "next" alone is read on in it
    reported: tuple[str, ...] = ()  # the people that passage reports: whom "elle" in "Qu'a-t-elle dit d'autre ?" means

    def to_dict(self) -> dict:
        """The conversation as JSON: what a program sends back with its next question."""
        at = {"title": self.at[0], "paragraph": self.at[1]} if self.at else None
        shown = [{"source": s, "paragraph": n} for s, n in self.shown]
        return {"topic": self.topic, "people": list(self.people), "reported": list(self.reported), "at": at, "shown": shown,
                "language": self.language}

    @classmethod
    def from_dict(cls, data: object) -> Context:
        """The context of a ``conversation`` object an answer returned. Raises ValueError,
        saying which field is wrong, for anything else."""
        fix = "send back the `conversation` object of the last answer, or none to start a new conversation"
        if not isinstance(data, dict):
            raise ValueError(f"a conversation must be an object with topic, people and at ({type(data).__name__} given); {fix}")
        topic, people, at = data.get("topic"), data.get("people", []), data.get("at")
        if not isinstance(topic, str) or len(topic) > MAX_TOPIC:
            raise ValueError(f"a conversation's topic must be a question of at most {MAX_TOPIC} characters (got {topic!r:.60}); {fix}")
        if not isinstance(people, list) or len(people) > 20 or not all(isinstance(n, str) and len(n) <= 200 for n in people):
            raise ValueError(f"a conversation's people must be a list of names (got {people!r:.60}); {fix}")
        reported = data.get("reported", [])  # absent from conversations saved before it existed
        if not isinstance(reported, list) or len(reported) > 20 or not all(isinstance(n, str) and len(n) <= 200 for n in reported):
            raise ValueError(f"a conversation's reported must be a list of names (got {reported!r:.60}); {fix}")
        place = None
        if at is not None:
            ok = isinstance(at, dict) and isinstance(at.get("title"), str) and type(at.get("paragraph")) is int
            if not ok or at["paragraph"] < 0:
                raise ValueError(f"a conversation's at must be {{\"title\": …, \"paragraph\": N}} (got {at!r:.60}); {fix}")
            place = (at["title"], at["paragraph"])
        shown = data.get("shown", [])
        if not isinstance(shown, list) or len(shown) > _SHOWN_LIMIT or not all(
                isinstance(x, dict) and isinstance(x.get("source"), str) and type(x.get("paragraph")) is int for x in shown):
            raise ValueError(f"a conversation's shown must be a list of {{\"source\": …, \"paragraph\": N}} (got {shown!r:.60}); {fix}")
        language = data.get("language")
        if language not in (None, "fr", "en"):
            raise ValueError(f"a conversation's language must be \"fr\" or \"en\" (got {language!r:.20}); {fix}")
        return cls(topic=topic, people=tuple(people), at=place, shown=tuple((x["source"], x["paragraph"]) for x in shown),
                   language=language, reported=tuple(reported))


@dataclass(frozen=True)
class Understood:
    """How a question is searched: as typed, or with the conversation's context."""

    asked: str  # as typed
    searched: str  # what is searched for
    followup: bool
    topic: str  # the topic the next follow-up leans on
    skip: frozenset[tuple[str, int]] = frozenset()  # paragraphs already quoted, left out ("d'autre", "else")
    language: str | None = None  # to answer in, when not that of what is searched (reading on)
    about: tuple[str, ...] = ()  # "Qu'a-t-elle dit d'autre ?" after "Que dit Katia Roux ?": her passages only
    previous: Context | None = None  # what a follow-up leaned on: kept when its answer quotes nothing

    def next_context(self, people: tuple[str, ...], at: tuple[str, int] | None = None,
                     shown: tuple[tuple[str, int], ...] = (), language: str | None = None,
                     reported: tuple[str, ...] = ()) -> Context:
        """The context the next question leans on, once this one is answered (``at``: where
        its first quote stands, the title of its document and its paragraph; ``shown``: the
        paragraphs its quotes come from, and those left out before, so that asking for more
        again goes on to new ones)."""
        return Context(topic=self.topic, people=tuple(people), at=at, shown=merge_shown(sorted(self.skip), shown),
                       language=language, reported=tuple(reported))


def people_of(ans: Answer) -> tuple[str, ...]:
    """The people of an answer's best passage: whom a follow-up's pronoun most likely means."""
    if not ans.passages:
        return ()
    c = ans.passages[0].chunk
    names = ([c.speaker] if c.speaker and not c.speaker.rstrip().endswith(")") else []) + [r.name for r in c.reported]
    return tuple(dict.fromkeys(n for n in names if n))


def reported_of(ans: Answer) -> tuple[str, ...]:
    """The people an answer's best passage reports (not its speaker)."""
    return tuple(dict.fromkeys(r.name for r in ans.passages[0].chunk.reported)) if ans.passages else ()


def place_of(ans: Answer) -> tuple[str, int] | None:
    """Where an answer's first quote stands (its document's title, its paragraph): what
    "Et la suite ?" reads on from."""
    if not ans.passages:
        return None
    p = ans.passages[0]
    return (p.source.get("title") or p.chunk.source_id, p.chunk.paragraph)


def shown_of(ans: Answer) -> tuple[tuple[str, int], ...]:
    """The (source id, paragraph) of an answer's quotes: what "d'autre" leaves out next."""
    return tuple(dict.fromkeys((p.chunk.source_id, p.chunk.paragraph) for p in ans.passages))


def next_context(understood: Understood, ans: Answer) -> Context:
    """The context the question after ``ans`` leans on: a follow-up that quotes nothing
    keeps the people and the place of the one before ("d'autre" asked twice stays on them)."""
    before = understood.previous
    people = people_of(ans) or (before.people if before else ())
    # whom the follow-up was about stays whom its pronoun means: "d'autre" asked again stays on her
    reported = understood.about or (reported_of(ans) if ans.passages else (before.reported if before else ()))
    at = place_of(ans) or (before.at if before else None)
    return understood.next_context(people, at, shown_of(ans), ans.language, reported)


def turn_dict(understood: Understood, ans: Answer) -> dict:
    """The ``ask --json`` object of an answer in a conversation: a follow-up says how it
    was searched (``understood_as``), and every answer carries the ``conversation`` the next
    question can lean on."""
    out = ans.to_dict()
    if understood.followup:
        out["question"] = understood.asked
        out["understood_as"] = ans.question
    if understood.skip:
        out["left_out"] = [{"source": s, "paragraph": n} for s, n in sorted(understood.skip)]
    if understood.about:
        out["about"] = list(understood.about)
    out["conversation"] = next_context(understood, ans).to_dict()
    return out


def _content_words(question: str) -> list[str]:
    words = re.findall(r"[\w]+", question.lower())
    return [w for w in words if w not in _STOP and len(w) > 1]


def names_someone(question: str) -> bool:
    """True when the question names a person or body: a capitalised word that does not open it."""
    words = re.findall(r"[\w’'-]+", question)
    return any(w[:1].isupper() for w in words[1:])


def is_followup(question: str) -> bool:
    """True when the question needs the one before it to make sense."""
    q = " ".join(question.split())
    if not q:
        return False
    if _OPENINGS.match(q) or _MORE.search(q):
        return True
    if not names_someone(q) and (_PRONOUNS.search(_IMPERSONAL.sub(" ", q)) or _POSSESSIVE.search(q)):
        return True  # « son rôle »: whose, the question before says
    return len(_content_words(q)) <= 1


def reading_step(question: str) -> int:
    """1 when the whole question asks to read on ("Et la suite ?", "next paragraph"), -1
    when it asks for what came before ("le paragraphe précédent"), else 0."""
    q = " ".join(question.split())
    return 1 if _NEXT.match(q) else -1 if _PREVIOUS.match(q) else 0


def resolve(question: str, context: Context | None, known: Mapping[str, str] | None = None) -> Understood:
    """How to search ``question`` in a conversation whose last turn left ``context``.

    A standalone question (or the first one) is searched as typed. A follow-up is searched
    with the topic and the people of the last answer, so that "Qu'a-t-elle dit d'autre ?"
    after a question about Katia Roux searches her words. "Et la suite ?" asks for the
    paragraph after the last answer's first quote, by its number and its document's title.
    A follow-up naming someone of ``known`` (the people the corpus quotes or reports, each
    with the grammatical gender the text gives them: :func:`known_people`) whom the topic
    does not name asks the topic's question of them, in their passages: "Et David Cormand ?"
    after "Que dit Thierry Breton sur l'Europe ?" is "Que dit David Cormand sur l'Europe ?".
    Raises QuestionError (``not_text``) for anything but text.
    """
    q = plain_text(question)  # what is asked, kept and shown: printable, whatever was typed
    step = reading_step(q)
    if context is not None and context.at and step:
        title, paragraph = context.at
        # answered in the question's language, or the conversation's for a bare "next"
        language = detect_language(q, default=context.language or "fr")
        return Understood(asked=q, searched=f"§ {paragraph + step} — {title}", followup=True, topic=context.topic,
                          language=language, previous=context)
    if context is None or not context.topic or not is_followup(q):
        return Understood(asked=q, searched=q, followup=False, topic=q)
    other = bool(_ELSE.search(q))
    skip = frozenset(context.shown) if other else frozenset()
    known = known or {}
    named = named_in(context.topic, tuple(dict.fromkeys([*known, *context.people])))
    new = tuple(n for n in named_in(q, tuple(known)) if n not in named)
    if new:
        # the topic's question, asked of someone else: in place of whom it named, else beside it
        lead = _put_in_place(context.topic, named, new)
        return Understood(asked=q, searched=f"{lead} — {q}", followup=True, topic=context.topic, skip=skip, about=new,
                          previous=context)
    if not other:
        # "Qui est-elle ?", "What does he do?": the question about a person, asked of them
        # a possessive says nothing of the person's gender: the one person reported
        pointed = pointed_at(q, context.reported, known) or (
            context.reported if _POSSESSIVE.search(q) and len(context.reported) == 1 else ())
        about_one = person_asked(q, pointed)
        if about_one:
            return Understood(asked=q, searched=about_one, followup=True, topic=context.topic, previous=context)
    people = [p for p in context.people if p and p.lower() not in q.lower()]
    lead = context.topic + (f" ({', '.join(people)})" if people else "")
    # "Qu'a-t-elle dit d'autre ?": what was quoted is not "else", and "else" is the words of
    # the people the conversation's topic names, when it names some
    about = (named or pointed_at(q, context.reported, known)) if other else ()
    return Understood(asked=q, searched=f"{lead} — {q}", followup=True, topic=context.topic, skip=skip, about=about,
                      previous=context)


# A pronoun after a verb (« est-elle », « travaille-t-il ») or alone ("she", "he").
_INVERTED = re.compile(r"-(?:t-)?(?:il|elle)\b", re.IGNORECASE)
_PART_OF = re.compile(r"\bfait-(?:il|elle)\s+partie\b", re.IGNORECASE)  # « De quelle organisation fait-elle partie ? »
_SUBJECT = re.compile(r"\b(?:he|she)\b", re.IGNORECASE)
_ROLE = re.compile(r"\b(?:his|her)\s+(role|job|position)\b", re.IGNORECASE)  # "What is her role?"
# « Quel est son rôle ? », « Quelle est sa fonction ? »: the possessive agrees with the noun, not the person
_POSSESSIVE = re.compile(r"\b(son|sa)\s+(rôle|role|métier|metier|fonction|poste|travail|profession)\b", re.IGNORECASE)


def person_asked(question: str, pointed: tuple[str, ...]) -> str | None:
    """``question`` about a person with its pronoun replaced by the one person ``pointed``
    at, when that makes it a question the register answers (``ingest.people.person_question``:
    "Qui est-elle ?" → "Qui est Katia Roux ?", "What does he do?" → "What does Thierry
    Breton do?"); None otherwise."""
    from ingest.people import person_question

    if len(pointed) != 1:
        return None
    name = pointed[0]

    def article(m: re.Match[str]) -> str:  # « son rôle » → « le rôle de X », « sa fonction » → « la fonction de X »
        return f"{'le' if m.group(1).lower() == 'son' else 'la'} {m.group(2)} de {name}"

    rewrites = ((_PART_OF, f"fait partie {name}"), (_INVERTED, f" {name}"), (_SUBJECT, name), (_ROLE, rf"the \1 of {name}"),
                (_POSSESSIVE, article))
    for pattern, put in rewrites:
        asked = pattern.sub(put, question, count=1)
        if asked != question and person_question(asked):
            return asked
    return None


def known_people(index: Index) -> dict[str, str]:
    """The people an index quotes or reports, by name, for :func:`resolve`, each with the
    grammatical gender its register's entries give them ("f", "m", or "" when none gives
    one or two disagree: ``ingest.people.grammatical_gender``). Speakers named by a role alone
    ("Un lecteur (commentaire)") are not names a follow-up gives."""
    from ingest.people import grammatical_gender

    facets = index.facets()
    genders: dict[str, set[str]] = {}
    for e in index.people:  # index.texts keeps what it read (a Milvus index fetches a source once)
        before = index.texts[e.source_id][e.introduction[0]:e.name_span[0]]
        genders.setdefault(e.name, set()).add(grammatical_gender(e.description, before))
    names = [n for n in [*facets["speakers"], *facets["reported"]] if not n.rstrip().endswith(")")]
    given = {n: g - {""} for n, g in genders.items()}  # an entry that says nothing does not disagree
    return {n: (next(iter(given[n])) if len(given.get(n, ())) == 1 else "") for n in names}


def resolve_in(question: str, context: Context | None, index: Index) -> Understood:
    """:func:`resolve` with the people ``index`` quotes or reports (:func:`known_people`),
    read only when there is a conversation to follow: a first question needs none."""
    return resolve(question, context, known_people(index) if context else None)


def _put_in_place(topic: str, named: tuple[str, ...], new: tuple[str, ...]) -> str:
    """``topic`` with the first of ``named`` it names (whole name, else last name) replaced
    by ``new``; with ``new`` in brackets after it when it names none of them."""
    from ingest.people import folded_words

    # the words as folded_words splits them ("Boutron-Marmion" is two), with their offsets
    words = [(m.start(), m.end(), f[0]) for m in re.finditer(r"[^\W_]+", topic) if (f := folded_words(m.group()))]
    for name in named:
        target = folded_words(name)
        for look in (target, target[-1:]):
            for i in range(len(words) - len(look) + 1):
                if look and [w for _, _, w in words[i:i + len(look)]] == look:
                    joined = (" and " if detect_language(topic) == "en" else " et ").join(new)
                    return topic[:words[i][0]] + joined + topic[words[i + len(look) - 1][1]:]
    return f"{topic} ({', '.join(new)})"


def named_in(text: str, people: tuple[str, ...]) -> tuple[str, ...]:
    """The people of ``people`` that ``text`` names, by their whole name or their last name
    ("Que dit Katia Roux ?", "Et Roux ?"), accents and case aside."""
    from ingest.people import folded_words

    said = set(folded_words(text))
    out = []
    for name in people:
        words = folded_words(name)
        if words and (set(words) <= said or (len(words[-1]) >= 3 and words[-1] in said)):
            out.append(name)
    return tuple(out)


def pointed_at(question: str, reported: tuple[str, ...], genders: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The people a follow-up's pronoun points at among those the last answer's best passage
    reports: "Qu'a-t-elle dit d'autre ?" after a passage reporting one person only (« la
    chargée de plaidoyer d'Amnesty » is Katia Roux), or only one the text presents in the
    feminine (``genders``: name → "f", "m" or "", :func:`known_people`), or, none being, only
    one it gives no gender; "Qu'ont-ils dit d'autre ?" after one reporting several. Nobody
    when the question names someone, when the pronoun is impersonal ("il y a"), or when the
    number or the gender does not fit: "il" may then be the speaker."""
    q = _IMPERSONAL.sub(" ", question)
    if not reported or names_someone(question):
        return ()
    if _ONE.search(q):
        said = "f" if _FEMININE.search(q) else "m" if _MASCULINE.search(q) else ""
        gender = {p: (genders or {}).get(p, "") for p in reported}
        # the one person of the pronoun's gender, else the one the text gives no gender
        same = [p for p in reported if said and gender[p] == said]
        for fits in (same, [p for p in reported if not said or gender[p] in ("", said)]):
            if fits:
                return tuple(fits) if len(fits) == 1 else ()
        return ()
    if _SEVERAL.search(q) and len(reported) >= 2:
        return reported
    return ()


def restricted(where: Filter | None, about: tuple[str, ...]) -> Filter | None:
    """``where``, restricted to the people a follow-up is about (``Understood.about``), unless
    the asker already chose whose passages to search."""
    if not about or (where is not None and where.people):
        return where
    return Filter(sources=where.sources if where is not None else frozenset(), people=frozenset(about))


# -- the conversation `verbatim ask -c` continues ------------------------------------------

def saved_path() -> Path:
    """Where ``verbatim ask`` keeps the last conversation: ``$VERBATIM_STATE_DIR``, else
    ``$XDG_STATE_HOME/verbatim``, else ``~/.local/state/verbatim``; file ``conversation.json``."""
    folder = os.environ.get("VERBATIM_STATE_DIR")
    if not folder:
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        folder = str(Path(base) / "verbatim")
    return Path(folder) / "conversation.json"


def load_saved(path: Path | None = None) -> Context | None:
    """The conversation the last ``verbatim ask`` left, or None when there is none yet.
    Raises ValueError, with the file and the fix, when the file cannot be read as one."""
    path = path or saved_path()
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # never saved (or its folder cannot exist)
        return None
    except OSError as exc:
        raise ValueError(f"the saved conversation {path} cannot be read ({exc.strerror}); ask without -c to start a new one") from exc
    try:
        return Context.from_dict(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"the saved conversation {path} is not one ({str(exc)[:80]}); "
                         "ask without -c to start a new one (it replaces the file)") from exc


def save(context: Context, path: Path | None = None) -> bool:
    """Keep ``context`` for the next ``verbatim ask -c``, atomically. False when the state
    folder cannot be written (a read-only home): continuing is a convenience, never a
    reason for an answer to fail."""
    from ingest.files import atomic_write

    path = path or saved_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, (json.dumps(context.to_dict(), ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError:
        return False
    return True
