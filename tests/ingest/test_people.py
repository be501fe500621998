def _para(interview, n):
    return next(p for p in interview.paragraphs if p.number == n)


def test_reported_people_with_their_affiliation(interview):
    assert _para(interview, 6).reported == ("Thierry Breton, ex-commissaire européen",)
    assert _para(interview, 23).reported == ("Katia Roux, Amnesty France",)
    assert _para(interview, 25).reported == ("Benoît Piédallu, Quadrature du Net",)
    assert _para(interview, 8).reported == ("David Maenda Kithoko, Association Génération Lumière",)
    assert _para(interview, 12).reported == ("Lorraine De Montenay, GreenIT", "Pierre Terras, Beyond Fossil Fuels")


def test_il_a_souligne_keeps_the_person_of_the_previous_paragraph(interview):
    assert _para(interview, 7).text.startswith("Il a souligné")
    assert _para(interview, 7).reported == _para(interview, 6).reported


def test_tous_deux_means_the_last_two_people_of_the_section(interview):
    assert _para(interview, 26).reported == ("Katia Roux, Amnesty France", "Benoît Piédallu, Quadrature du Net")


def test_impersonal_il_does_not_inherit(interview):
    assert _para(interview, 9).text.startswith("Il faut")
    assert _para(interview, 9).reported == ()
    assert _para(interview, 32).reported == ()  # "Il a largement été discuté…"


def test_the_speaker_is_never_reported(interview):
    for p in interview.paragraphs:
        assert not any("Griffith" in r for r in p.reported)
    assert "Olivier" not in " ".join(_para(interview, 2).reported)


def test_people_are_not_carried_across_sections(interview):
    # 28 opens a new section with new people; 24 (previous section) reports no one by name.
    assert "Katia Roux, Amnesty France" not in _para(interview, 28).reported


def test_tag_reads_only_sentences_that_may_name_someone_each_once(monkeypatch):
    from ingest import people

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
