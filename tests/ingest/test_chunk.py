import pytest

from ingest.chunk import ChunkSettings, chunk


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


def test_questions_and_frame_lines_are_not_passages(interview, chunks):
    roles = {p.number: p.role for p in interview.paragraphs}
    used = {roles[c.paragraph] for c in chunks}
    assert "question" not in used and "closing" not in used and "comment-header" not in used
    assert 41 not in {c.paragraph for c in chunks}  # a bare URL is a link, not prose


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
