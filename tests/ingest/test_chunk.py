import pytest

from ingest.chunk import ChunkSettings, chunk
from ingest.model import Person


@pytest.fixture(scope="module")
def chunks(interview):
    return chunk(interview, ChunkSettings())


def test_every_chunk_is_an_exact_slice_of_the_source(interview, chunks):
    assert chunks
    for c in chunks:
        assert interview.text[c.start : c.end] == c.text
        assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        for s, e in c.sentences:
            assert c.start <= s < e <= c.end
            # never cut mid-word
            assert not interview.text[s].isspace() and not interview.text[e - 1].isspace()


def test_chunks_stay_inside_one_paragraph_and_follow_the_settings(interview, chunks):
    paras = {p.number: p for p in interview.paragraphs}
    settings = ChunkSettings()
    for c in chunks:
        p = paras[c.paragraph]
        assert p.start <= c.start and c.end <= p.end
        assert len(c.sentences) <= settings.max_sentences + 1  # a short tail may join
        assert c.section == p.section and c.speaker == p.speaker


def test_every_part_of_the_interview_is_a_passage_with_its_part(interview, chunks):
    parts = {p.number: p.role for p in interview.paragraphs}
    by_paragraph: dict[int, list] = {}
    for c in chunks:
        by_paragraph.setdefault(c.paragraph, []).append(c)
        assert c.part == parts[c.paragraph]
    # Every paragraph but the bare URL (a link, not prose) has passages.
    assert set(by_paragraph) == set(parts) - {41}
    assert {c.part for c in chunks} == {"introduction", "question", "answer", "closing", "caption", "comment-header", "comment"}
    for n, part, text in [(2, "question", "Bonjour Olivier, quel est lien"), (36, "closing", "Merci Olivier"),
                          (37, "caption", "Photo : Olivier Griffith sur LinkedIn"), (38, "comment-header", "Une réponse")]:
        (c,) = by_paragraph[n]
        assert c.part == part and c.text.startswith(text)
        assert interview.text[c.start : c.end] == c.text
    question = by_paragraph[5][0]
    assert (question.speaker, question.role) == ("Le blog de Didier Dubasque", "interviewer")
    assert question.section == question.text  # a question is its own section
    header = by_paragraph[38][0]
    assert (header.speaker, header.role, header.section) == ("Le blog de Didier Dubasque", "publisher", None)
    assert by_paragraph[37][0].mentioned == (Person("Olivier Griffith"),) and by_paragraph[37][0].reported == ()


def test_headings_are_passages_and_the_sections_of_what_follows():
    from ingest.model import Document, Paragraph, Source

    text = "Méthode\nNous avons interrogé dix personnes sur leurs usages du numérique."
    source = Source(id="doc", title="Doc")
    paras = (
        Paragraph(number=1, start=0, end=7, text="Méthode", role="heading", speaker=None, speaker_role=None),
        Paragraph(number=2, start=8, end=len(text), text=text[8:], role="text", speaker=None, speaker_role=None, section="Méthode"),
    )
    h, c = chunk(Document(source=source, text=text, paragraphs=paras), ChunkSettings())
    assert (h.paragraph, h.part, h.section, h.text) == (1, "heading", None, "Méthode")
    assert (c.paragraph, c.part, c.section) == (2, "text", "Méthode")


def test_the_comment_that_links_the_hcts_opinion_carries_the_link(chunks):
    c = next(c for c in chunks if c.paragraph == 40)
    assert c.role == "commenter"
    assert c.links and c.links[0].endswith("travail_social_et_intelligence_artificielle.pdf")


def test_ids_are_stable_and_unique(interview, chunks):
    again = chunk(interview, ChunkSettings())
    assert [c.id for c in chunks] == [c.id for c in again]
    assert len({c.id for c in chunks}) == len(chunks)


def test_smaller_chunks_with_other_settings(interview, chunks):
    small = chunk(interview, ChunkSettings(max_sentences=1, max_chars=200))
    assert len(small) > len(chunks)


@pytest.mark.parametrize("kwargs", [{"max_sentences": 0}, {"max_chars": 10}])
def test_bad_settings_say_the_rule(kwargs):
    with pytest.raises(ValueError, match="must be between"):
        ChunkSettings(**kwargs)
