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
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Openings of a question that continues the one before.
_OPENINGS = re.compile(
    r"^(?:et|mais|puis|ensuite|aussi|sinon|and|but|also|what about|how about|same for|et pour|et sur|et concernant)\b", re.IGNORECASE
)
# Words that ask for more of the same.
_MORE = re.compile(r"\b(?:d['’]autres?|autre chose|encore|de plus|aussi|else|other|more|also)\b", re.IGNORECASE)
# Third-person pronouns, alone or after a verb ("a-t-elle", "ont-ils", "dit-il").
_PRONOUNS = re.compile(
    r"(?:^|[\s'’-])(?:il|elle|ils|elles|lui|eux|leur|leurs|celui-ci|celle-ci|ceux-ci|he|she|they|him|her|them|his|their|theirs)(?=$|[\s?!.,;:'’-])",
    re.IGNORECASE,
)
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


@dataclass(frozen=True)
class Context:
    """What a follow-up can lean on: the conversation's topic and the people of its last answer."""

    topic: str  # the last question that stood alone
    people: tuple[str, ...] = ()  # speaker and reported people of the last answer's best passage
    at: tuple[str, int] | None = None  # the title of the document of the last answer's first quote, and its paragraph


@dataclass(frozen=True)
class Understood:
    """How a question is searched: as typed, or with the conversation's context."""

    asked: str  # as typed
    searched: str  # what is searched for
    followup: bool
    topic: str  # the topic the next follow-up leans on

    def next_context(self, people: tuple[str, ...], at: tuple[str, int] | None = None) -> Context:
        """The context the next question leans on, once this one is answered (``at``: where
        its first quote stands, the title of its document and its paragraph)."""
        return Context(topic=self.topic, people=tuple(people), at=at)


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
    if not names_someone(q) and _PRONOUNS.search(_IMPERSONAL.sub(" ", q)):
        return True
    return len(_content_words(q)) <= 1


def reading_step(question: str) -> int:
    """1 when the whole question asks to read on ("Et la suite ?", "next paragraph"), -1
    when it asks for what came before ("le paragraphe précédent"), else 0."""
    q = " ".join(question.split())
    return 1 if _NEXT.match(q) else -1 if _PREVIOUS.match(q) else 0


def resolve(question: str, context: Context | None) -> Understood:
    """How to search ``question`` in a conversation whose last turn left ``context``.

    A standalone question (or the first one) is searched as typed. A follow-up is searched
    with the topic and the people of the last answer, so that "Qu'a-t-elle dit d'autre ?"
    after a question about Katia Roux searches her words. "Et la suite ?" asks for the
    paragraph after the last answer's first quote, by its number and its document's title.
    """
    q = " ".join(question.split())
    step = reading_step(q)
    if context is not None and context.at and step:
        title, paragraph = context.at
        return Understood(asked=q, searched=f"§ {paragraph + step} — {title}", followup=True, topic=context.topic)
    if context is None or not context.topic or not is_followup(q):
        return Understood(asked=q, searched=q, followup=False, topic=q)
    people = [p for p in context.people if p and p.lower() not in q.lower()]
    lead = context.topic + (f" ({', '.join(people)})" if people else "")
    return Understood(asked=q, searched=f"{lead} — {q}", followup=True, topic=context.topic)
