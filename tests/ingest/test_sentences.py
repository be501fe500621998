import pytest

from ingest.sentences import split_sentences


def _split(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_splits_at_final_punctuation():
    assert _split("Il pleut. Il vente ! Et toi ? Oui.") == ["Il pleut.", "Il vente !", "Et toi ?", "Oui."]


@pytest.mark.parametrize(
    "text",
    [
        "M. Dupont est venu. Mme Durand aussi.",
        "Voir p. 12 et cf. Annexe. Fin.",
        "Il y a eu 3.000 morts. Fin.",
        "J. Martin a parlé. Fin.",
    ],
)
def test_abbreviations_numbers_and_initials_do_not_split(text):
    parts = _split(text)
    assert parts[-1] == "Fin." or parts[-1] == "Mme Durand aussi."
    assert len(parts) == 2


def test_french_quotes_stay_whole():
    text = "Il a dit « Qui sait ? » puis il est parti. « Bravo ! » Ensuite."
    assert _split(text) == ["Il a dit « Qui sait ? » puis il est parti.", "« Bravo ! » Ensuite."]


def test_offsets_are_exact_and_within_the_range():
    text = "xx Première phrase. Deuxième phrase.  yy"
    spans = split_sentences(text, 3, len(text) - 4)
    assert [text[s:e] for s, e in spans] == ["Première phrase.", "Deuxième phrase."]


def test_text_without_punctuation_is_one_sentence():
    assert _split("sans ponctuation finale") == ["sans ponctuation finale"]


def test_a_quoted_title_with_a_question_mark_is_not_split():
    text = "Un contre-sommet intitulé : « Réinventer l’IA ? Pour une technologie humaine ». Cette journée était organisée."
    assert _split(text) == ["Un contre-sommet intitulé : « Réinventer l’IA ? Pour une technologie humaine ».", "Cette journée était organisée."]


def test_an_unclosed_guillemet_does_not_swallow_the_paragraph():
    text = "Sous prétexte de « sécurité. Les algorithmes progressent. " + "Ils gagnent du terrain. " * 15 + "Fin."
    assert len(_split(text)) > 10
