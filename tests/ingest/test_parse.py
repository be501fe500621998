from ingest.load import read_manifest
from ingest.parse import extract_links, parse
from tests.conftest import CORPUS


def _paras(interview_text):
    source = read_manifest(CORPUS)[0]
    return {p.number: p for p in parse(interview_text, source)}


def test_roles_follow_the_interview_structure(interview_text):
    paras = _paras(interview_text)
    questions = sorted(n for n, p in paras.items() if p.role == "question")
    # 11 and 21 have no question mark: they are found by their form, not by a list.
    assert questions == [2, 5, 11, 17, 21, 27]
    assert paras[1].role == "introduction"
    assert paras[36].role == "closing"
    assert paras[37].role == "caption"
    assert paras[38].role == "comment-header"
    assert [paras[n].role for n in (39, 40, 41)] == ["comment"] * 3
    answers = [n for n, p in paras.items() if p.role == "answer"]
    assert answers == [n for n in range(3, 36) if n not in questions]


def test_every_answer_knows_its_question(interview_text):
    paras = _paras(interview_text)
    assert paras[6].section == "Peux tu nous présenter les éléments forts de cette journée ?"
    assert paras[6].section_paragraph == 5
    assert paras[12].section == paras[11].text
    assert paras[35].section_paragraph == 27
    assert paras[39].section is None


def test_speakers_and_roles(interview_text):
    paras = _paras(interview_text)
    assert (paras[6].speaker, paras[6].speaker_role) == ("Olivier Griffith", "interviewee")
    assert paras[2].speaker_role == "interviewer" and paras[1].speaker_role == "interviewer"
    assert "Dubasque" in paras[2].speaker
    assert paras[40].speaker_role == "commenter"


def test_paragraph_offsets_point_into_the_source(interview_text):
    lines = interview_text.split("\n")
    for n, p in _paras(interview_text).items():
        assert interview_text[p.start : p.end] == p.text == lines[n - 1].strip()


def test_links_are_found_with_the_sentence_citing_them(interview_text):
    source = read_manifest(CORPUS)[0]
    links = extract_links(parse(interview_text, source))
    assert [link.url for link in links] == [
        "https://solidarites.gouv.fr/sites/solidarite/files/2023-08/travail_social_et_intelligence_artificielle.pdf"
    ]
    assert "Commission éthique du HCTS" in links[0].citing_text
    assert links[0].paragraph == 41


def test_a_plain_text_is_one_paragraph_per_line():
    from ingest.model import Source

    text = "Premier paragraphe.\n\n  Second paragraphe, indenté.  \n"
    paras = parse(text, Source(id="t", title="T", author="A. Auteur"))
    assert [(p.number, p.text, p.role, p.speaker) for p in paras] == [
        (1, "Premier paragraphe.", "text", "A. Auteur"),
        (3, "Second paragraphe, indenté.", "text", "A. Auteur"),
    ]
