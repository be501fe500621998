"""Follow-up questions in a conversation, resolved by rules (no generative model)."""
import pytest

from chat.conversation import Context, is_followup, names_someone, resolve

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
