"""Follow-up questions in a conversation, resolved by rules (no generative model)."""
import json

import pytest

from chat.conversation import (MAX_SHOWN, Context, is_followup, load_saved, names_someone, next_context, resolve, save,
                               saved_path, turn_dict)

MENTAL = Context("Qui a parlé de santé mentale ?", ("Katia Roux",))


@pytest.mark.parametrize("q", [
    "Et sur les enfants ?",
    "Qu'a-t-elle dit d'autre ?",
    "Qu'ont-ils dit sur les enfants ?",
    "Pourquoi ?",
    "Les enfants ?",
    "And what about children?",
    "What else did she say?",
    "Que dit-il de l'écologie ?",
])
def test_short_elliptic_or_pointing_questions_are_follow_ups(q):
    assert is_followup(q)


@pytest.mark.parametrize("q", [
    "Qui a ouvert la série de rencontres ?",
    "Qu'est-ce que le véganisme numérique ?",
    "Quelle est la position de la Quadrature du Net ?",
    "What is the link between ecology and social work?",
    "Y a-t-il un lien entre écologie et travail social ?",  # impersonal "il"
    "Comment la Quadrature du Net voit-elle la surveillance ?",  # the pronoun points at a name given
    "Quel est l'impact environnemental du numérique ?",
])
def test_questions_that_stand_alone_are_not(q):
    assert not is_followup(q)


def test_a_follow_up_is_searched_with_the_topic_and_the_people_of_the_last_answer():
    u = resolve("Qu'a-t-elle dit d'autre ?", MENTAL)
    assert u.followup and u.asked == "Qu'a-t-elle dit d'autre ?"
    assert u.searched == "Qui a parlé de santé mentale ? (Katia Roux) — Qu'a-t-elle dit d'autre ?"
    # A chain of follow-ups keeps leaning on the question that stood alone, not on the last follow-up.
    again = resolve("Et sur les enfants ?", u.next_context(("Katia Roux",)))
    assert again.searched == "Qui a parlé de santé mentale ? (Katia Roux) — Et sur les enfants ?"


def test_a_standalone_question_becomes_the_new_topic_and_the_first_question_is_never_a_follow_up():
    u = resolve("  Qui a ouvert la série de rencontres ? ", MENTAL)
    assert not u.followup and u.searched == "Qui a ouvert la série de rencontres ?"
    assert u.next_context(("Thierry Breton",)) == Context("Qui a ouvert la série de rencontres ?", ("Thierry Breton",))
    assert resolve("Et sur les enfants ?", None).searched == "Et sur les enfants ?"
    assert resolve("Et sur les enfants ?", Context("")).followup is False


def test_people_already_named_in_the_follow_up_are_not_repeated():
    u = resolve("Et Katia Roux, sur les enfants ?", MENTAL)
    assert u.followup and u.searched == "Qui a parlé de santé mentale ? — Et Katia Roux, sur les enfants ?"


def test_a_capitalised_word_inside_a_question_names_someone():
    assert names_someone("Que pense Amnesty de la surveillance ?") and not names_someone("Que pense-t-elle ?")


READ = Context("Qui a ouvert la série de rencontres ?", ("Thierry Breton",), ("Contre-sommet : réinventer l’IA", 6))


@pytest.mark.parametrize("q, n", [
    ("Et la suite ?", 7), ("la suite", 7), ("Et après ?", 7), ("Le paragraphe suivant ?", 7), ("What comes next?", 7),
    ("next", 7), ("Et avant ?", 5), ("paragraphe précédent", 5), ("What comes before?", 5),
])
def test_reading_on_asks_for_the_paragraph_next_to_the_last_quote_by_its_number(q, n):
    u = resolve(q, READ)
    assert u.followup and u.asked == q and u.searched == f"§ {n} — Contre-sommet : réinventer l’IA"
    assert u.topic == READ.topic  # the conversation's topic stays


def test_reading_on_needs_a_last_quote_and_a_question_that_asks_only_that():
    assert resolve("Et la suite ?", Context("Qui a ouvert ?")).searched == "Qui a ouvert ? — Et la suite ?"  # no quote to read on from
    assert resolve("Que dit la suite du rapport ?", READ).searched == "Que dit la suite du rapport ?"  # stands alone
    assert resolve("Et sur les enfants ?", READ).searched.startswith("Qui a ouvert la série de rencontres ?")
    assert READ.at and resolve("Qui est Katia Roux ?", READ).next_context((), ("Titre", 3)).at == ("Titre", 3)


@pytest.mark.slow
def test_reading_on_quotes_the_next_paragraph_of_the_same_document(real_index, real_embedder, real_settings):
    from chat.answer import answer

    first = answer("Qui a ouvert la série de rencontres ?", real_index, real_embedder, real_settings)
    top = first.passages[0]
    at = (top.source["title"], top.chunk.paragraph)
    nxt = answer(resolve("Et la suite ?", Context("Qui a ouvert la série de rencontres ?", (), at)).searched,
                 real_index, real_embedder, real_settings)
    assert [(p.chunk.source_id, p.chunk.paragraph) for p in nxt.passages] == [(top.chunk.source_id, top.chunk.paragraph + 1)]
    assert real_index.texts[top.chunk.source_id][nxt.passages[0].start:nxt.passages[0].end] == nxt.passages[0].quote
    # past the last paragraph: said, not quoted
    end = answer(resolve("Et la suite ?", Context("x", (), (at[0], 40))).searched, real_index, real_embedder, real_settings)
    assert not end.passages and "n'a pas de § 41" in end.notice


def test_a_conversation_goes_to_json_and_back_unchanged():
    for ctx in (READ, Context("Qui est Katia Roux ?"), Context("q", ("A", "B"), ("Titre « x »", 0)),
                Context("q", ("A", "B"), None, (), "fr", ("B",))):
        data = json.loads(json.dumps(ctx.to_dict()))
        assert Context.from_dict(data) == ctx
    assert READ.to_dict()["at"] == {"title": "Contre-sommet : réinventer l’IA", "paragraph": 6}


@pytest.mark.parametrize("data, says", [
    (None, "must be an object"),
    ([], "must be an object"),
    ({}, "topic"),
    ({"topic": 3}, "topic"),
    ({"topic": "x" * 5000}, "topic"),
    ({"topic": "q", "people": ["ok", 2]}, "people"),
    ({"topic": "q", "people": ["n"] * 21}, "people"),
    ({"topic": "q", "reported": "Katia Roux"}, "reported"),
    ({"topic": "q", "reported": [None]}, "reported"),
    ({"topic": "q", "at": ["t", 6]}, "at must be"),
    ({"topic": "q", "at": {"title": "t", "paragraph": True}}, "at must be"),
    ({"topic": "q", "at": {"title": None, "paragraph": 3}}, "at must be"),
])
def test_what_is_not_a_conversation_is_refused_saying_which_field_and_the_fix(data, says):
    with pytest.raises(ValueError) as err:
        Context.from_dict(data)
    assert says in str(err.value) and "last answer" in str(err.value) and "\n" not in str(err.value)


def test_the_saved_conversation_is_kept_atomically_and_a_broken_file_is_said_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("VERBATIM_STATE_DIR", str(tmp_path / "state"))
    path = saved_path()
    assert path == tmp_path / "state" / "conversation.json"
    assert load_saved() is None  # nothing asked yet
    assert save(READ) and load_saved() == READ
    assert [p.name for p in path.parent.iterdir()] == ["conversation.json"]  # no temporary file left
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(ValueError) as err:
        load_saved()
    assert str(path) in str(err.value) and "without -c" in str(err.value)
    assert save(READ) and load_saved() == READ  # asking again replaces it
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("VERBATIM_STATE_DIR", str(blocked / "state"))  # a folder that cannot be made
    assert save(READ) is False and load_saved() is None


def test_the_state_folder_follows_xdg_then_the_home(monkeypatch, tmp_path):
    monkeypatch.delenv("VERBATIM_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert saved_path() == tmp_path / "verbatim" / "conversation.json"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert saved_path() == tmp_path / "home" / ".local" / "state" / "verbatim" / "conversation.json"


def test_a_follow_up_answer_says_how_it_was_searched_and_carries_the_next_conversation():
    from tests.conftest import small_interview_index
    from chat.answer import answer

    index, emb, settings = small_interview_index()
    first = resolve("Qui a ouvert la série de rencontres ?", None)
    a1 = answer(first.searched, index, emb, settings)
    d1 = turn_dict(first, a1)
    assert "understood_as" not in d1 and d1["question"] == first.asked
    top = a1.passages[0]
    assert d1["conversation"] == {"topic": first.asked, "people": list(next_context(first, a1).people),
                                  "reported": [r.name for r in top.chunk.reported],
                                  "at": {"title": top.source["title"], "paragraph": top.chunk.paragraph},
                                  "shown": [{"source": p.chunk.source_id, "paragraph": p.chunk.paragraph} for p in a1.passages],
                                  "language": "fr"}
    follow = resolve("Et la suite ?", Context.from_dict(d1["conversation"]))
    a2 = answer(follow.searched, index, emb, settings)
    d2 = turn_dict(follow, a2)
    assert d2["question"] == "Et la suite ?" and d2["understood_as"] == a2.question == follow.searched
    assert [p["paragraph"] for p in d2["passages"]] == [top.chunk.paragraph + 1]
    assert d2["conversation"]["topic"] == first.asked and d2["conversation"]["at"]["paragraph"] == top.chunk.paragraph + 1
    for p in a2.passages:
        assert index.texts[p.source["id"]][p.start:p.end] == p.quote


def test_asking_for_what_else_leaves_out_the_paragraphs_already_quoted_and_goes_on_past_them():
    ctx = Context("Que dit Katia Roux ?", ("Katia Roux",), ("Titre", 23), (("itw", 23), ("itw", 26)))
    u = resolve("Qu'a-t-elle dit d'autre ?", ctx)
    assert u.followup and u.skip == {("itw", 23), ("itw", 26)}
    assert resolve("What else did she say?", ctx).skip == u.skip
    assert resolve("Et sur les enfants ?", ctx).skip == frozenset()  # the same question about something else
    assert resolve("Et les enfants, aussi ?", ctx).skip == frozenset()
    assert resolve("Qui est Katia Roux ?", ctx).skip == frozenset()  # stands alone
    # the next "d'autre" goes past both what was left out and what was shown this time
    assert u.next_context((), ("Titre", 33), (("itw", 33),)).shown == (("itw", 23), ("itw", 26), ("itw", 33))


def test_an_answer_leaves_out_the_paragraphs_it_is_told_to_skip_and_quotes_the_rest_verbatim():
    from tests.conftest import small_interview_index
    from chat.answer import answer

    index, emb, settings = small_interview_index()
    q = "Qui a ouvert la série de rencontres ?"
    first = answer(q, index, emb, settings)
    shown = frozenset((p.chunk.source_id, p.chunk.paragraph) for p in first.passages)
    again = answer(q, index, emb, settings, skip=shown)
    assert again.passages and not shown & {(p.chunk.source_id, p.chunk.paragraph) for p in again.passages}
    for p in again.passages:
        assert index.texts[p.source["id"]][p.start:p.end] == p.quote
    u = resolve("Qu'a-t-il dit d'autre ?", next_context(resolve(q, None), first))
    d = turn_dict(u, again)
    assert sorted((x["source"], x["paragraph"]) for x in d["left_out"]) == sorted(shown)
    assert {(x["source"], x["paragraph"]) for x in d["conversation"]["shown"]} >= shown  # the next "d'autre" goes further


@pytest.mark.parametrize("shown", ["itw", [["itw", 3]], [{"source": "itw", "paragraph": "3"}], [{"paragraph": 3}]])
def test_shown_paragraphs_that_are_not_a_list_of_source_and_paragraph_are_refused(shown):
    with pytest.raises(ValueError, match="shown must be"):
        Context.from_dict({"topic": "q", "shown": shown})
    assert Context.from_dict({"topic": "q"}).shown == ()  # an older conversation object, without it


def test_a_long_run_of_what_else_keeps_the_latest_quoted_paragraphs_and_stays_a_conversation_that_can_be_sent_back():
    ctx = Context("Que dit Katia Roux ?", ("Katia Roux",), ("Titre", 1), (("itw", 1),))
    for n in range(2, 200):
        ctx = resolve("Quoi d'autre ?", ctx).next_context((), ("Titre", n), (("itw", n),))
        ctx = Context.from_dict(json.loads(json.dumps(ctx.to_dict())))  # as a program sends it back
    assert len(ctx.shown) == MAX_SHOWN and ctx.shown[-1] == ("itw", 199) and ("itw", 1) not in ctx.shown


@pytest.mark.slow
def test_a_paragraph_left_out_is_not_quoted_again_even_when_the_people_register_finds_it(real_index, real_embedder, real_settings):
    from chat.answer import answer

    q = "Qui est Olivier Griffith ?"
    first = answer(q, real_index, real_embedder, real_settings)
    intro = (first.passages[0].chunk.source_id, first.passages[0].chunk.paragraph)
    assert intro == ("contre-sommet-ia-interview", 1)  # the introduction says who he is
    assert intro in resolve("Que fait-il d'autre ?", next_context(resolve(q, None), first)).skip
    # the sentence found by the people register, not by the search, is left out too
    other = answer(q, real_index, real_embedder, real_settings, skip=frozenset({intro}))
    assert other.passages and all((p.chunk.source_id, p.chunk.paragraph) != intro for p in other.passages)
    for p in other.passages:
        assert real_index.texts[p.source["id"]][p.start:p.end] == p.quote


def test_reading_on_is_answered_in_the_question_language_or_the_conversation_one_for_a_bare_next():
    en = Context("Who opened the series of meetings?", (), ("Titre", 6), (), "en")
    fr = Context("Qui a ouvert la série de rencontres ?", (), ("Titre", 6), (), "fr")
    assert resolve("What comes next?", fr).language == "en"
    assert resolve("Et la suite ?", en).language == "fr"
    assert resolve("next", en).language == "en" and resolve("next", fr).language == "fr"
    assert resolve("next", Context("q", (), ("Titre", 6))).language == "fr"  # no language kept: the corpus's
    assert resolve("Et sur les enfants ?", fr).language is None  # searched in its own words: its own language
    with pytest.raises(ValueError, match="language must be"):
        Context.from_dict({"topic": "q", "language": "de"})


def test_an_answer_given_in_another_language_than_its_searched_text_says_its_notice_in_it():
    from tests.conftest import small_interview_index
    from chat.answer import answer

    index, emb, settings = small_interview_index()
    first = answer("Who opened the series of meetings?", index, emb, settings)
    title = first.passages[0].source["title"]
    assert first.language == "en"
    on = answer(f"§ 7 — {title}", index, emb, settings, language="en")
    assert on.language == "en" and [p.chunk.paragraph for p in on.passages] == [7]
    assert answer(f"§ 7 — {title}", index, emb, settings).language == "fr"  # the searched text alone reads French
    past = answer(f"§ 99 — {title}", index, emb, settings, language="en")
    assert not past.passages and "has no § 99" in past.notice


def test_what_else_about_someone_the_topic_names_searches_only_their_passages():
    from chat.conversation import named_in, restricted
    from index.store import Filter

    ctx = Context("Que dit Katia Roux ?", ("Olivier Griffith", "Katia Roux"), ("Titre", 23), (("itw", 23),))
    assert resolve("Qu'a-t-elle dit d'autre ?", ctx).about == ("Katia Roux",)  # the speaker is not named by the topic
    assert resolve("Et sur les enfants ?", ctx).about == ()  # not asking for something else
    assert named_in("Et Roux, qu'en dit-elle ?", ("Katia Roux",)) == ("Katia Roux",)  # the last name alone
    assert named_in("Que dit la Quadrature du Net ?", ("Benoît Piédallu",)) == ()
    assert resolve("Quoi d'autre ?", Context("Quel lien avec l'écologie ?", ("Olivier Griffith",))).about == ()
    mine = Filter(sources=frozenset({"itw"}))
    assert restricted(mine, ("Katia Roux",)) == Filter(sources=frozenset({"itw"}), people=frozenset({"Katia Roux"}))
    chosen = Filter(people=frozenset({"Olivier Griffith"}))
    assert restricted(chosen, ("Katia Roux",)) is chosen  # whose passages to search was the asker's choice
    assert restricted(None, ()) is None


def test_a_follow_up_that_quotes_nothing_keeps_the_people_and_place_it_leaned_on():
    from chat.answer import Answer

    ctx = Context("Que dit Katia Roux ?", ("Olivier Griffith", "Katia Roux"), ("Titre", 23), (("itw", 23),), "fr")
    u = resolve("Qu'a-t-elle dit d'autre ?", ctx)
    nothing = Answer(u.searched, False, (), "fr", level="none")
    after = next_context(u, nothing)
    assert after.people == ctx.people and after.at == ctx.at and after.shown == (("itw", 23),)
    assert resolve("Qu'a-t-elle dit d'autre ?", after).about == ("Katia Roux",)  # asked again, still about her


def test_what_else_did_she_say_means_the_one_person_the_last_passage_reports():
    from chat.answer import Answer

    # « Que dit la chargée de plaidoyer d'Amnesty ? » names nobody; its best passage reports Katia Roux alone
    ctx = Context("Que dit la chargée de plaidoyer d'Amnesty ?", ("Olivier Griffith", "Katia Roux"), ("Titre", 23),
                  (("itw", 23),), "fr", ("Katia Roux",))
    assert resolve("Qu'a-t-elle dit d'autre ?", ctx).about == ("Katia Roux",)
    assert resolve("What else did she say?", ctx).about == ("Katia Roux",)
    assert resolve("Quoi d'autre ?", ctx).about == ()  # no one pointed at: the topic, not a person
    assert resolve("Qu'ont-ils dit d'autre ?", ctx).about == ()  # several pointed at, one reported
    assert resolve("Y a-t-il autre chose ?", ctx).about == ()  # impersonal
    assert resolve("Et sur les enfants, qu'a-t-elle dit ?", ctx).about == ()  # not asking for something else
    assert resolve("Qu'a dit Benoît Piédallu d'autre ?", ctx).about == ()  # names someone else
    both = Context("Qui a parlé des textes protecteurs ?", ("Olivier Griffith", "Katia Roux", "Benoît Piédallu"),
                   ("Titre", 26), (("itw", 26),), "fr", ("Katia Roux", "Benoît Piédallu"))
    assert resolve("Qu'ont-ils dit d'autre ?", both).about == ("Katia Roux", "Benoît Piédallu")
    assert resolve("Qu'a-t-il dit d'autre ?", both).about == ()  # which of the two: nobody is guessed
    assert resolve("Qu'a-t-il dit d'autre ?", Context("q", ("Olivier Griffith",))).about == ()  # no one reported
    # asked again after an answer that reports her and someone else, it stays on her
    u = resolve("Qu'a-t-elle dit d'autre ?", ctx)
    nothing = Answer(u.searched, False, (), "fr", level="none")
    assert next_context(u, nothing).reported == ("Katia Roux",)
    assert resolve("Qu'a-t-elle dit d'autre ?", next_context(u, nothing)).about == ("Katia Roux",)


@pytest.mark.slow
def test_what_else_did_she_say_after_a_question_naming_her_role_stays_on_her_on_the_real_corpus(real_index, real_embedder,
                                                                                                  real_settings):
    from chat.answer import answer
    from chat.conversation import restricted

    q = "Que dit la chargée de plaidoyer d'Amnesty ?"
    first = answer(q, real_index, real_embedder, real_settings)
    assert [r.name for r in first.passages[0].chunk.reported] == ["Katia Roux"]
    ctx = next_context(resolve(q, None), first)
    assert ctx.reported == ("Katia Roux",) and Context.from_dict(json.loads(json.dumps(ctx.to_dict()))) == ctx
    for _ in range(3):  # asked again and again: her passages only, then "nothing more"
        u = resolve("Qu'a-t-elle dit d'autre ?", ctx)
        assert u.about == ("Katia Roux",)
        other = answer(u.searched, real_index, real_embedder, real_settings, restricted(None, u.about), u.skip)
        for p in other.passages:
            assert "Katia Roux" in {r.name for r in p.chunk.reported}
            assert (p.chunk.source_id, p.chunk.paragraph) not in u.skip
        ctx = next_context(u, other)
    assert other.level == "none" and not other.passages


@pytest.mark.slow
def test_what_else_did_he_say_quotes_only_his_other_passages_on_the_real_corpus(real_index, real_embedder, real_settings):
    from chat.answer import answer
    from chat.conversation import restricted

    q = "Que dit Benoît Piédallu ?"
    first = answer(q, real_index, real_embedder, real_settings)
    u = resolve("Qu'a-t-il dit d'autre ?", next_context(resolve(q, None), first))
    assert u.about == ("Benoît Piédallu",)
    other = answer(u.searched, real_index, real_embedder, real_settings, restricted(None, u.about), u.skip)
    for p in other.passages:
        assert "Benoît Piédallu" in {p.chunk.speaker, *(r.name for r in p.chunk.reported)}
        assert (p.chunk.source_id, p.chunk.paragraph) not in u.skip
        assert real_index.texts[p.source["id"]][p.start:p.end] == p.quote
    if not other.passages:
        assert other.level == "none"  # all he says was quoted: said, not padded with others' passages
    # without the restriction, the search would have quoted passages that are not his
    loose = answer(u.searched, real_index, real_embedder, real_settings, None, u.skip)
    assert any("Benoît Piédallu" not in {p.chunk.speaker, *(r.name for r in p.chunk.reported)} for p in loose.passages)


KNOWN = {"Olivier Griffith": "m", "Thierry Breton": "m", "David Cormand": "m", "Katia Roux": "f", "Laure Boutron-Marmion": "f",
         "Benoît Piédallu": "", "Cécile Duflot": ""}


def test_a_follow_up_naming_someone_else_asks_the_topic_s_question_of_them_in_their_passages():
    europe = Context("Que dit Thierry Breton sur l'Europe ?", ("Olivier Griffith", "Thierry Breton"), ("Titre", 7), (("itw", 7),))
    u = resolve("Et David Cormand ?", europe, KNOWN)
    assert u.followup and u.searched == "Que dit David Cormand sur l'Europe ? — Et David Cormand ?"
    assert u.about == ("David Cormand",) and u.skip == frozenset()
    assert resolve("And what about Boutron-Marmion?", europe, KNOWN).searched.startswith("Que dit Laure Boutron-Marmion sur l'Europe ?")
    assert resolve("Et Roux, d'autre ?", europe, KNOWN).skip == {("itw", 7)}  # "else" still leaves out what was quoted
    english = Context("What does Thierry Breton say about Europe?", ("Olivier Griffith", "Thierry Breton"))
    assert resolve("And Katia Roux and David Cormand?", english, KNOWN).searched.startswith(
        "What does David Cormand and Katia Roux say about Europe?")
    tiktok = Context("Que dit Laure Boutron-Marmion sur TikTok ?", ("Olivier Griffith", "Laure Boutron-Marmion"))
    assert resolve("Et Katia Roux ?", tiktok, KNOWN).searched.startswith("Que dit Katia Roux sur TikTok ?")
    assert resolve("Et Katia Roux ?", Context("Que pense Marmion de TikTok ?"), KNOWN).searched.startswith(
        "Que pense Katia Roux de TikTok ?")  # the last name alone
    # a topic naming nobody: the person beside it
    mental = Context("Qui a parlé de santé mentale ?", ("Katia Roux",))
    assert resolve("Et Laure Boutron-Marmion ?", mental, KNOWN).searched == (
        "Qui a parlé de santé mentale ? (Laure Boutron-Marmion) — Et Laure Boutron-Marmion ?")
    # not someone else: a name the topic already gives, a place, or nobody the corpus knows
    for q in ("Et Breton ?", "Et la RDC ?", "Et Emmanuel Macron ?"):
        again = resolve(q, europe, KNOWN)
        assert again.about == () and again.searched.startswith("Que dit Thierry Breton sur l'Europe ? (Olivier Griffith, Thierry Breton)"), q
    assert resolve("Et David Cormand ?", europe).about == ()  # without the corpus's people, nobody is known


@pytest.mark.slow
def test_and_what_about_someone_else_quotes_them_on_the_same_topic(real_index, real_embedder, real_settings):
    from chat.answer import answer
    from chat.conversation import known_people, resolve_in, restricted

    first = resolve_in("Que dit Thierry Breton sur l'Europe ?", None, real_index)
    a1 = answer(first.searched, real_index, real_embedder, real_settings)
    assert "Thierry Breton" in [r.name for r in a1.passages[0].chunk.reported]
    assert {"David Cormand", "Thierry Breton", "Katia Roux"} <= set(known_people(real_index))
    u = resolve_in("Et David Cormand ?", next_context(first, a1), real_index)
    a2 = answer(u.searched, real_index, real_embedder, real_settings, restricted(None, u.about))
    assert a2.passages and all("David Cormand" in [r.name for r in p.chunk.reported] + [p.chunk.speaker] for p in a2.passages)
    for p in a2.passages:
        assert real_index.texts[p.source["id"]][p.start:p.end] == p.quote


def test_the_pronoun_s_gender_picks_among_the_people_the_last_passage_reports():
    """« elle » after a passage reporting Katia Roux (« chargée de plaidoyer ») and Benoît
    Piédallu (of whom the text gives no gender): her; « il »: him, since she is not « il »;
    two people the text gives no gender, or two women: nobody is guessed."""
    both = Context("Qui a parlé des textes protecteurs ?", ("Olivier Griffith", "Katia Roux", "Benoît Piédallu"),
                   ("Titre", 26), (("itw", 26),), "fr", ("Katia Roux", "Benoît Piédallu"))
    assert resolve("Qu'a-t-elle dit d'autre ?", both, KNOWN).about == ("Katia Roux",)
    assert resolve("What else did she say?", both, KNOWN).about == ("Katia Roux",)
    assert resolve("Qu'a-t-il dit d'autre ?", both, KNOWN).about == ("Benoît Piédallu",)
    assert resolve("Qu'ont-ils dit d'autre ?", both, KNOWN).about == ("Katia Roux", "Benoît Piédallu")
    unknown = Context("Qui a parlé de souveraineté ?", (), ("Titre", 35), (("itw", 35),), "fr", ("Cécile Duflot", "Benoît Piédallu"))
    assert resolve("Qu'a-t-elle dit d'autre ?", unknown, KNOWN).about == ()
    women = Context("Qui a parlé des enfants ?", (), ("Titre", 28), (("itw", 28),), "fr", ("Katia Roux", "Laure Boutron-Marmion"))
    assert resolve("Qu'a-t-elle dit d'autre ?", women, KNOWN).about == ()
    # one person reported, of the other gender: « il » may be the speaker
    her = Context("Que dit la chargée de plaidoyer ?", ("Olivier Griffith", "Katia Roux"), ("Titre", 23), (("itw", 23),), "fr",
                  ("Katia Roux",))
    assert resolve("Qu'a-t-il dit d'autre ?", her, KNOWN).about == ()
    assert resolve("Qu'a-t-elle dit d'autre ?", her, KNOWN).about == ("Katia Roux",)
    assert resolve("Que lui a-t-on demandé d'autre ?", her, KNOWN).about == ("Katia Roux",)  # « lui »: either


@pytest.mark.slow
def test_the_register_gives_the_grammatical_gender_the_text_gives_people(real_index):
    from chat.conversation import known_people

    known = known_people(real_index)
    assert known["Katia Roux"] == "f" and known["Thierry Breton"] == "m" and known["Laure Boutron-Marmion"] == "f"
    assert known["Benoît Piédallu"] == "" and known["Cécile Duflot"] == ""  # an affiliation alone says nothing


def test_who_is_she_asks_the_register_about_the_one_person_the_pronoun_points_at():
    from chat.conversation import person_asked

    her = Context("Que dit la chargée de plaidoyer d'Amnesty ?", ("Olivier Griffith", "Katia Roux"), ("Titre", 23),
                  (("itw", 23),), "fr", ("Katia Roux",))
    for q, searched in [("Qui est-elle ?", "Qui est Katia Roux ?"), ("Que fait-elle ?", "Que fait Katia Roux ?"),
                        ("Who is she?", "Who is Katia Roux?"), ("What is her role?", "What is the role of Katia Roux?"),
                        ("Which organisation does she work for?", "Which organisation does Katia Roux work for?"),
                        ("Quel est son rôle ?", "Quel est le rôle de Katia Roux ?"),
                        ("De quelle organisation fait-elle partie ?", "De quelle organisation fait partie Katia Roux ?"),
                        ("Quelle est sa fonction ?", "Quelle est la fonction de Katia Roux ?")]:
        u = resolve(q, her, KNOWN)
        assert u.followup and u.searched == searched and u.topic == her.topic, q
    # not a question about who someone is, or nobody pointed at: searched with the topic
    assert resolve("Qu'a-t-elle dit sur la reconnaissance faciale ?", her, KNOWN).searched.startswith(her.topic)
    assert resolve("Qui est-il ?", her, KNOWN).searched.startswith(her.topic)  # « il » is not Katia Roux
    assert person_asked("Qui est-elle ?", ("Katia Roux", "Laure Boutron-Marmion")) is None


@pytest.mark.slow
def test_who_is_she_after_a_passage_reporting_her_quotes_her_introduction(real_index, real_embedder, real_settings):
    from chat.answer import answer
    from chat.conversation import known_people

    first = resolve("Que dit la chargée de plaidoyer d'Amnesty ?", None)
    a1 = answer(first.searched, real_index, real_embedder, real_settings)
    u = resolve("Qui est-elle ?", next_context(first, a1), known_people(real_index))
    assert u.searched == "Qui est Katia Roux ?"
    top = answer(u.searched, real_index, real_embedder, real_settings).passages[0]
    assert top.quote.startswith("Katia Roux, chargée de plaidoyer chez Amnesty France")
    assert real_index.texts[top.source["id"]][top.start:top.end] == top.quote
