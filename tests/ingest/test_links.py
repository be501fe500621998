from ingest.links import quote_link

URL = "https://dubasque.org/contre-sommet/"


def test_web_page_gets_a_text_fragment_of_the_whole_short_quote():
    assert quote_link(URL, "interview", "Cette série de rencontres a été ouverte", None) == (
        URL + "#:~:text=Cette%20s%C3%A9rie%20de%20rencontres%20a%20%C3%A9t%C3%A9%20ouverte"
    )


def test_long_quote_uses_start_and_end_words_and_escapes_syntax():
    quote = "Le comité - après débat, & vote - recommande de former quatre mille deux cents travailleurs sociaux."
    link = quote_link(URL + "#old", "html", quote, None)
    assert link == URL + "#:~:text=Le%20comit%C3%A9%20%2D%20apr%C3%A8s,deux%20cents%20travailleurs%20sociaux."
    assert "#old" not in link


def test_pdf_gets_its_page():
    pdf = "https://solidarites.gouv.fr/files/avis.pdf"
    assert quote_link(pdf, "pdf", "n'importe quoi", 7) == pdf + "#page=7"
    assert quote_link(pdf, None, "x", None) == pdf
    assert quote_link("https://example.org/download?id=3", "pdf", "x", 2) == "https://example.org/download?id=3#page=2"


def test_no_link_without_a_web_address():
    assert quote_link(None, "pdf", "x", 3) is None
    assert quote_link("corpus/rapport.pdf", "pdf", "x", 3) is None
    assert quote_link("javascript:alert(1)", "html", "x", None) is None


def test_word_documents_get_their_address_only():
    assert quote_link("https://example.org/charte.docx", "docx", "une phrase", None) == "https://example.org/charte.docx"
