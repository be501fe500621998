import pytest

from ingest import people
from ingest.chunk import ChunkSettings, chunk
from ingest.model import Person
from ingest.people import find_person, person_question, register

GRIFFITH = "Olivier Griffith"
BLOG = "Le blog de Didier Dubasque"
READER = "Un lecteur (commentaire)"

# Hand-checked, for each of the interview's 41 paragraphs: who speaks, whom the paragraph
# reports (people whose words or views at least one of its sentences relays) and whom it
# only names. Read against corpus/contre-sommet-ia-interview.txt:
# § 1   David Cormand organised the day ("organisée par"): named, not reported.
# § 4   "comme l'énonce Bernard Stiegler" relays his idea (first sentence only).
# § 6   "ouverte par Thierry Breton" names him; "Il nous a rappelé…" reports him.
# § 7   "Il a souligné / a posé la question / est revenu sur": Breton still.
# § 12  "développés par X, Y" then "Tous deux ont parlé…".
# § 26  "Tous deux ont expliqué", "Pour eux, …": the last two people of the section.
# § 29  "Ils ont rappelé…", "ils ont réaffirmé…": the four panellists named in § 28.
# § 30  "Il nous est avancé que…" is impersonal: nobody.
# § 35  "le dialogue entre David Cormand et Cécile Duflot" relays what it showed.
# § 37  the photo credit names the interviewee.
GOLD = {
    1: (BLOG, (), ("David Cormand", GRIFFITH)),
    2: (BLOG, (), ()),
    3: (GRIFFITH, (), ()),
    4: (GRIFFITH, ("Bernard Stiegler",), ()),
    5: (BLOG, (), ()),
    6: (GRIFFITH, ("Thierry Breton",), ()),
    7: (GRIFFITH, ("Thierry Breton",), ()),
    8: (GRIFFITH, ("David Maenda Kithoko",), ()),
    9: (GRIFFITH, (), ()),
    10: (GRIFFITH, (), ()),
    11: (BLOG, (), ()),
    12: (GRIFFITH, ("Lorraine De Montenay", "Pierre Terras"), ()),
    13: (GRIFFITH, (), ()),
    14: (GRIFFITH, (), ()),
    15: (GRIFFITH, (), ()),
    16: (GRIFFITH, (), ()),
    17: (BLOG, (), ()),
    18: (GRIFFITH, (), ()),
    19: (GRIFFITH, (), ()),
    20: (GRIFFITH, (), ()),
    21: (BLOG, (), ()),
    22: (GRIFFITH, (), ()),
    23: (GRIFFITH, ("Katia Roux",), ()),
    24: (GRIFFITH, (), ()),
    25: (GRIFFITH, ("Benoît Piédallu",), ()),
    26: (GRIFFITH, ("Katia Roux", "Benoît Piédallu"), ()),
    27: (BLOG, (), ()),
    28: (GRIFFITH, ("Jean Massiet", "Laure Boutron-Marmion", "Alice Guyon", "Fritjhof Michaelsen"), ()),
    29: (GRIFFITH, ("Jean Massiet", "Laure Boutron-Marmion", "Alice Guyon", "Fritjhof Michaelsen"), ()),
    30: (GRIFFITH, (), ()),
    31: (GRIFFITH, (), ()),
    32: (GRIFFITH, (), ()),
    33: (GRIFFITH, ("Laure Boutron-Marmion",), ()),
    34: (GRIFFITH, (), ()),
    35: (GRIFFITH, ("David Cormand", "Cécile Duflot"), ()),
    36: (BLOG, (), ()),
    37: (BLOG, (), (GRIFFITH,)),
    38: (BLOG, (), ()),
    39: (READER, (), ()),
    40: (READER, (), ()),
    41: (READER, (), ()),
}

# The sentences (by their first words) that report someone; every other sentence reports nobody.
SENTENCE_GOLD = {
    "Les outils numériques peuvent": ("Bernard Stiegler",),
    "Il nous a rappelé": ("Thierry Breton",),
    "Il a souligné": ("Thierry Breton",),
    "Il a posé la question": ("Thierry Breton",),
    "Il est également revenu": ("Thierry Breton",),
    "Nous avons ensuite reçu": ("David Maenda Kithoko",),
    "Ils ont été développé": ("Lorraine De Montenay", "Pierre Terras"),
    "Tous deux ont parlé": ("Lorraine De Montenay", "Pierre Terras"),
    "Katia Roux, chargée": ("Katia Roux",),
    "Benoît Piédallu de la": ("Benoît Piédallu",),
    "Il est revenu longuement": ("Benoît Piédallu",),
    "Tous deux ont expliqué": ("Katia Roux", "Benoît Piédallu"),
    "Pour eux, l’IA act": ("Katia Roux", "Benoît Piédallu"),
    "Jean Massiet (Créateur": ("Jean Massiet", "Laure Boutron-Marmion", "Alice Guyon", "Fritjhof Michaelsen"),
    "Ils ont rappelé comment": ("Jean Massiet", "Laure Boutron-Marmion", "Alice Guyon", "Fritjhof Michaelsen"),
    "Bien sûr, ils ont réaffirmé": ("Jean Massiet", "Laure Boutron-Marmion", "Alice Guyon", "Fritjhof Michaelsen"),
    "Laure Boutron-Marmion a présenté": ("Laure Boutron-Marmion",),
    "Elle nous a interpelé": ("Laure Boutron-Marmion",),
    "Nous avons pu mesurer": ("David Cormand", "Cécile Duflot"),
}


def _para(interview, n):
    return next(p for p in interview.paragraphs if p.number == n)


def test_every_paragraph_speaker_reported_and_mentioned(interview):
    assert len(interview.paragraphs) == 41
    got = {
        p.number: (p.speaker, tuple(x.name for x in p.reported), tuple(x.name for x in p.mentioned))
        for p in interview.paragraphs
    }
    assert got == GOLD


def test_every_sentence_reports_exactly_its_people(interview):
    seen = set()
    for p in interview.paragraphs:
        for (s, e), reported in p.sentence_reports:
            sentence = interview.text[s:e]
            key = next((k for k in SENTENCE_GOLD if sentence.startswith(k)), None)
            assert tuple(x.name for x in reported) == (SENTENCE_GOLD[key] if key else ()), sentence
            seen.add(key)
    assert seen - {None} == set(SENTENCE_GOLD)


def test_reported_people_with_their_affiliation(interview):
    assert _para(interview, 6).reported == (Person("Thierry Breton", "ex-commissaire européen"),)
    assert _para(interview, 23).reported == (Person("Katia Roux", "Amnesty France"),)
    assert _para(interview, 25).reported == (Person("Benoît Piédallu", "Quadrature du Net"),)
    assert _para(interview, 8).reported == (Person("David Maenda Kithoko", "Association Génération Lumière"),)
    assert [str(x) for x in _para(interview, 12).reported] == ["Lorraine De Montenay, GreenIT", "Pierre Terras, Beyond Fossil Fuels"]
    # One Person per name in a document: § 35 names David Cormand without "(EELV)".
    assert Person("David Cormand", "EELV") in _para(interview, 35).reported
    assert _para(interview, 33).reported == (Person("Laure Boutron-Marmion", "Algos Victima"),)


def test_person_is_frozen_and_prints_its_label():
    p = Person("Katia Roux", "Amnesty France")
    assert p.label() == str(p) == f"{p}" == "Katia Roux, Amnesty France"
    assert str(Person("Bernard Stiegler", None)) == "Bernard Stiegler"
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]


def test_the_speaker_and_the_interviewee_are_never_reported(interview):
    for p in interview.paragraphs:
        assert not any("Griffith" in x.name for x in p.reported)
    assert "Olivier" not in " ".join(x.name for x in _para(interview, 2).reported + _para(interview, 2).mentioned)


def test_people_are_not_carried_across_sections(interview):
    # 28 opens a new section with new people; 26 (previous section) reported Katia Roux.
    assert "Katia Roux" not in {x.name for x in _para(interview, 28).reported}


def test_mentions_are_exact_slices(interview):
    mentions = [m for p in interview.paragraphs for m in p.mentions]
    assert len(mentions) == 17
    for m in mentions:
        assert interview.text[m.start : m.end] == m.person.name
        s, e = m.sentence
        assert s <= m.start < m.end <= e
        if m.description:
            assert s <= m.description[0] < m.description[1] <= e


def test_sentence_reports_use_the_chunkers_sentences(interview):
    # Chunks look sentences up by span: the spans must be the ones the chunker cuts.
    from ingest.sentences import split_sentences

    for p in interview.paragraphs:
        assert [span for span, _ in p.sentence_reports] == split_sentences(interview.text, p.start, p.end)


def _attribute(text: str, role: str = "text", speaker: str | None = None):
    from ingest.model import Paragraph

    paras = [Paragraph(number=i + 1, start=0, end=len(t), text=t, role=role, speaker=speaker, speaker_role=None)
             for i, t in enumerate(text.split("\n"))]
    return people.attribute(paras)


@pytest.mark.parametrize(
    "text, reported, mentioned",
    [
        ("Selon Marie Dupont, la réforme est injuste.", ["Marie Dupont"], []),
        ("La réunion a été organisée par Marie Dupont à Lyon. Le débat fut long.", [], ["Marie Dupont"]),
        ("Marie Dupont explique que la réforme est injuste.", ["Marie Dupont"], []),
        ("Jean Martin a invité Marie Dupont. Elle a expliqué que tout allait mal.", ["Marie Dupont"], ["Jean Martin"]),
        ("Nous avons rencontré Marie Dupont. Il faut dire que la salle était pleine.", [], ["Marie Dupont"]),
    ],
)
def test_per_sentence_rule_on_small_texts(text, reported, mentioned):
    (p,) = _attribute(text)
    assert [x.name for x in p.reported] == reported
    assert [x.name for x in p.mentioned] == mentioned


def test_a_pronoun_reaches_back_one_paragraph_only():
    paras = _attribute("Marie Dupont a expliqué le projet.\nLe budget est voté.\nElle a souligné un risque.")
    assert [[x.name for x in p.reported] for p in paras] == [["Marie Dupont"], [], []]


def test_chunks_carry_per_sentence_reports(interview):
    chunks = chunk(interview, ChunkSettings())
    for c in chunks:
        assert len(c.reported_in) == len(c.sentences)
        assert sorted({i for ids in c.reported_in for i in ids}) == list(range(len(c.reported)))
        assert not set(c.reported) & set(c.mentioned)
    # § 4: only the passage holding "comme l'énonce Bernard Stiegler" reports him.
    four = [c for c in chunks if c.paragraph == 4]
    assert len(four) == 2
    assert [x.name for x in four[0].reported] == ["Bernard Stiegler"] and four[0].reported_in[0] == (0,)
    assert four[1].reported == ()
    # § 1: David Cormand is mentioned, never reported.
    one = [c for c in chunks if c.paragraph == 1]
    assert all(not c.reported for c in one)
    assert any(x.name == "David Cormand" for c in one for x in c.mentioned)


def test_chunk_round_trips_through_json(interview):
    from ingest.model import Chunk

    for c in chunk(interview, ChunkSettings()):
        d = c.to_dict()
        assert d["reported"] == [x.label() for x in c.reported]
        assert d["reported_people"] == [{"name": x.name, "affiliation": x.affiliation} for x in c.reported]
        assert Chunk.from_dict(d) == c


# -- register -------------------------------------------------------------------------------
REGISTER_GOLD = {
    # name: (affiliation, description as written, paragraph introducing them)
    "David Cormand": ("EELV", "député européen", 1),
    GRIFFITH: (None, "consultant formateur sur le numérique et le travail social", 1),
    "Bernard Stiegler": (None, None, 4),
    "Thierry Breton": ("ex-commissaire européen", "ex-commissaire européen", 6),
    "David Maenda Kithoko": ("Association Génération Lumière", "Association Génération Lumière", 8),
    "Lorraine De Montenay": ("GreenIT", "GreenIT", 12),
    "Pierre Terras": ("Beyond Fossil Fuels", "Beyond Fossil Fuels", 12),
    "Katia Roux": ("Amnesty France", "chargée de plaidoyer chez Amnesty France", 23),
    "Benoît Piédallu": ("Quadrature du Net", "Quadrature du Net", 25),
    "Jean Massiet": ("Backseat", "Créateur de Backseat", 28),
    "Laure Boutron-Marmion": ("Algos Victima", "Avocate au barreau de Paris, et Fondatrice du collectif Algos Victima", 28),
    "Alice Guyon": ("CNRS", "Directrice de recherches au CNRS, Centre de Recherche en Psychologie et Neuroscience", 28),
    "Fritjhof Michaelsen": ("UFC Que Choisir", "UFC Que Choisir", 28),
    "Cécile Duflot": ("Oxfam", "ONG d’Oxfam", 35),
}


@pytest.fixture(scope="module")
def interview_register(interview):
    chunks = chunk(interview, ChunkSettings())
    return register(interview, chunks), chunks


def test_register_lists_everyone_named_with_their_role_as_written(interview, interview_register):
    entries, _ = interview_register
    assert {e.name: (e.affiliation, e.description, e.paragraph) for e in entries} == REGISTER_GOLD
    text = interview.text
    for e in entries:
        assert e.source_id == interview.source.id and e.page is None
        assert text[e.name_span[0] : e.name_span[1]] == e.name
        s, t = e.introduction
        assert s <= e.name_span[0] < e.name_span[1] <= t
        if e.description is not None:
            assert text[e.description_span[0] : e.description_span[1]] == e.description
            assert s <= e.description_span[0] < e.description_span[1] <= t
    katia = next(e for e in entries if e.name == "Katia Roux")
    assert text[katia.introduction[0] : katia.introduction[1]].startswith("Katia Roux, chargée de plaidoyer chez Amnesty France a évoqué")
    griffith = next(e for e in entries if e.name == GRIFFITH)
    assert text[griffith.introduction[0] : griffith.introduction[1]] == (
        "Olivier Griffith, consultant formateur sur le numérique et le travail social y a participé."
    )


def test_register_points_to_the_passages_that_report_or_mention(interview_register):
    entries, chunks = interview_register
    by_id = {c.id: c for c in chunks}
    entry = {e.name: e for e in entries}
    for e in entries:
        for cid in e.reported_in:
            assert e.name in {x.name for x in by_id[cid].reported}
        for cid in e.mentioned_in:
            assert e.name in {x.name for x in by_id[cid].mentioned}
        assert e.reported_in or e.mentioned_in
    assert sorted(by_id[c].paragraph for c in entry["David Cormand"].mentioned_in) == [1]
    assert sorted(by_id[c].paragraph for c in entry["David Cormand"].reported_in) == [35]
    assert sorted(by_id[c].paragraph for c in entry[GRIFFITH].mentioned_in) == [1, 37]
    assert entry[GRIFFITH].reported_in == ()
    assert sorted({by_id[c].paragraph for c in entry["Thierry Breton"].reported_in}) == [6, 7]
    assert sorted({by_id[c].paragraph for c in entry["Laure Boutron-Marmion"].reported_in}) == [28, 29, 33]


def test_register_entry_round_trips(interview_register):
    from ingest.model import RegisterEntry

    for e in interview_register[0]:
        assert RegisterEntry.from_dict(e.to_dict()) == e


@pytest.mark.parametrize(
    "text, names",
    [
        ("roux", ["Katia Roux"]),
        ("Katia Roux", ["Katia Roux"]),
        ("KATIA ROUX", ["Katia Roux"]),
        ("boutron marmion", ["Laure Boutron-Marmion"]),
        ("Laure Boutron-Marmion", ["Laure Boutron-Marmion"]),
        ("piedallu", ["Benoît Piédallu"]),
        ("cecile duflot", ["Cécile Duflot"]),
        ("David", ["David Cormand", "David Maenda Kithoko"]),
        ("Mme Roux", ["Katia Roux"]),
        ("Jean Dupont", []),
        ("", []),
    ],
)
def test_find_person_matches_names_given_in_part(interview_register, text, names):
    assert [e.name for e in find_person(interview_register[0], text)] == names


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Qui est Olivier Griffith ?", ("who", "Olivier Griffith")),
        ("qui est katia roux", ("who", "katia roux")),
        ("C'est qui Thierry Breton ?", ("who", "Thierry Breton")),
        ("Who is Katia Roux?", ("who", "Katia Roux")),
        ("Que fait Katia Roux ?", ("does", "Katia Roux")),
        ("Quel est le rôle de Benoît Piédallu ?", ("does", "Benoît Piédallu")),
        ("Quel est le métier d’Alice Guyon ?", ("does", "Alice Guyon")),
        ("What does Jean Massiet do?", ("does", "Jean Massiet")),
        ("De quelle organisation vient Katia Roux ?", ("affiliation", "Katia Roux")),
        ("Pour qui travaille Cécile Duflot ?", ("affiliation", "Cécile Duflot")),
        ("Which organisation does Pierre Terras work for?", ("affiliation", "Pierre Terras")),
        ("Which organization is Lorraine De Montenay from?", ("affiliation", "Lorraine De Montenay")),
        ("Qui a ouvert la série de rencontres ?", None),
        ("Qui est l’interviewé ?", None),
        ("Who is the speaker?", None),
        ("Que fait la CAF avec les algorithmes ?", None),
        ("Quel est le budget du contre-sommet ?", None),
    ],
)
def test_person_question(question, expected):
    assert person_question(question) == expected


def test_person_questions_find_the_introducing_sentence(interview, interview_register):
    entries, _ = interview_register
    for question, sentence in [
        ("Qui est Olivier Griffith ?", "Olivier Griffith, consultant formateur"),
        ("Que fait Katia Roux ?", "Katia Roux, chargée de plaidoyer chez Amnesty France"),
        ("De quelle organisation vient Benoît Piédallu ?", "Benoît Piédallu de la Quadrature du Net"),
        ("Who is Laure Boutron-Marmion?", "Jean Massiet (Créateur de Backseat), Laure Boutron-Marmion (Avocate"),
    ]:
        _, name = person_question(question)
        (entry,) = find_person(entries, name)
        assert interview.text[entry.introduction[0] : entry.introduction[1]].startswith(sentence)


def test_each_entry_names_the_passage_that_holds_its_introduction(interview_register):
    """``introduced_in`` is the passage a "Qui est X ?" quotes: it holds the whole sentence."""
    entries, chunks = interview_register
    by_id = {c.id: c for c in chunks}
    for e in entries:
        c = by_id[e.introduced_in]
        assert c.start <= e.introduction[0] < e.introduction[1] <= c.end and e.introduction in c.sentences


def test_tag_reads_only_sentences_that_may_name_someone_each_once(monkeypatch):
    seen: list[str] = []
    nlp = people._nlp()

    class Counting:
        def pipe(self, texts, batch_size=64):
            texts = list(texts)
            seen.extend(texts)
            return nlp.pipe(texts, batch_size=batch_size)

    monkeypatch.setattr(people, "_nlp", lambda: Counting())
    named = "Katia Roux, chez Amnesty France, a parlé de surveillance."
    texts = [
        f"Le sujet était vaste. {named} La salle était pleine.",
        f"Une autre journée. {named}",
        "rien ici ne nomme quelqu’un.",
    ]
    ents = people.tag(texts)
    assert seen == [named]  # one sentence, tagged once; the others name nobody
    for text, found in zip(texts[:2], ents[:2]):
        assert ("Katia Roux", "PER") in {(text[s:e], kind) for s, e, kind, _ in found}
        assert all(text[s:e] == name for s, e, _, name in found)  # offsets in the paragraph
    assert ents[2] == []
    assert people.find_people(texts[0], ents=ents[0])[0].label() == "Katia Roux, Amnesty France"


@pytest.mark.parametrize("description, before, gender", [
    ("chargée de plaidoyer chez Amnesty France", "", "f"),
    ("ex-commissaire européen", "ouverte par ", "m"),  # the noun says nothing, its adjective does
    ("Avocate au barreau de Paris", "", "f"),
    ("Créateur de Backseat", "", "m"),
    ("vice-présidente chargée des solidarités", "", "f"),
    ("moniteur-éducateur", "emmenée par ", "m"),  # the role, not the participle of the sentence
    ("chef du service insertion", "M. ", "m"),  # "chef" says nothing; the title does
    (None, "menée par la statisticienne ", "f"),
    (None, "organisée par le député européen, ", "m"),
    (None, "le directeur de la caisse, ", ""),  # "la" is the article of "caisse"
    ("GreenIT", "développé par ", ""),  # an affiliation alone
    ("ONG d’Oxfam", "entre David Cormand et ", ""),
    ("Backseat", "", ""),
])
def test_the_grammatical_gender_is_what_the_words_presenting_someone_agree_in(description, before, gender):
    from ingest.people import grammatical_gender

    assert grammatical_gender(description, before) == gender
