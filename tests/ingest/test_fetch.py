"""Downloads against a local HTTP server on 127.0.0.1: every way a fetch can go, and the cache."""
import json

import pytest

from ingest.fetch import FetchCache, FetchError, check_url, fetch_url, normalise_url
from tests.data import make_samples as samples
from tests.ingest.helpers import endless, local_server, slow

HTML = samples.ARTICLE_HTML.encode()
PDF = samples.report_pdf()


@pytest.fixture(scope="module")
def server():
    routes = {
        "/article.html": (200, {"Content-Type": "text/html; charset=utf-8"}, HTML),
        "/report.pdf": (200, {"Content-Type": "application/pdf"}, PDF),
        "/download": (200, {"Content-Type": "application/octet-stream"}, PDF),
        "/image.png": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n...."),
        "/big.pdf": (200, {"Content-Type": "application/pdf", "Content-Length": str(10**9)}, b""),
        "/endless.txt": endless(),
        "/slow.html": slow(3.0),
        "/loop-a": (302, {"Location": "/loop-b"}, b""),
        "/loop-b": (302, {"Location": "/loop-a"}, b""),
        "/moved": (301, {"Location": "/report.pdf"}, b""),
        "/r1": (302, {"Location": "/r2"}, b""),
        "/r2": (302, {"Location": "/r3"}, b""),
        "/r3": (302, {"Location": "/article.html"}, b""),
        "/empty.html": (200, {"Content-Type": "text/html"}, b""),
        "/error": (500, {"Content-Type": "text/plain"}, b"boom"),
    }
    with local_server(routes) as base:
        yield base


def get(url, **kw):
    kw.setdefault("allow_private", True)
    kw.setdefault("timeout", 1.0)
    return fetch_url(url, **kw)


def test_success_html_and_pdf(server):
    page = get(f"{server}/article.html")
    assert page.format == "html" and page.content_type == "text/html" and page.data == HTML
    doc = get(f"{server}/report.pdf")
    assert doc.format == "pdf" and doc.data == PDF and doc.fetched_at.endswith("+00:00")


def test_redirects_are_followed_up_to_the_limit(server):
    assert get(f"{server}/moved").final_url == f"{server}/report.pdf"
    assert get(f"{server}/r1").final_url == f"{server}/article.html"
    with pytest.raises(FetchError, match="more than 2 redirects"):
        get(f"{server}/r1", max_redirects=2)


def test_redirect_loop(server):
    with pytest.raises(FetchError, match="redirect loop"):
        get(f"{server}/loop-a")


def test_not_found_and_server_error(server):
    with pytest.raises(FetchError, match="HTTP 404"):
        get(f"{server}/nowhere.pdf")
    with pytest.raises(FetchError, match="HTTP 500"):
        get(f"{server}/error")


def test_timeout(server):
    with pytest.raises(FetchError, match=r"timed out after 0.5 s"):
        get(f"{server}/slow.html", timeout=0.5)


def test_too_large_announced_or_streamed(server):
    with pytest.raises(FetchError, match=r"too large: 1000000000 bytes announced"):
        get(f"{server}/big.pdf")
    with pytest.raises(FetchError, match=r"too large: more than 100000 bytes"):
        get(f"{server}/endless.txt", max_bytes=100_000)


def test_wrong_content_type(server):
    with pytest.raises(FetchError, match=r"content type 'image/png' is not a document"):
        get(f"{server}/image.png")


def test_a_generic_type_is_accepted_when_the_bytes_are_a_pdf(server):
    assert get(f"{server}/download").format == "pdf"


def test_an_empty_document(server):
    with pytest.raises(FetchError, match="empty document"):
        get(f"{server}/empty.html")


def test_loopback_private_and_link_local_are_refused_by_default(server):
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1.*--allow-private"):
        fetch_url(f"{server}/article.html")
    for url in ("http://10.1.2.3/x.pdf", "http://192.168.0.1/", "http://169.254.169.254/latest/meta-data/",
                "http://[::1]/", "http://0.0.0.0/", "http://localhost/"):
        with pytest.raises(FetchError, match="refused"):
            check_url(url)


@pytest.mark.parametrize("url", ["ftp://example.org/a.pdf", "file:///etc/passwd", "javascript:alert(1)", "gopher://x/"])
def test_only_http_and_https(url):
    with pytest.raises(FetchError, match="only http and https"):
        check_url(url, allow_private=True)


def test_a_redirect_to_a_private_address_is_refused(server, monkeypatch):
    import ingest.fetch as fetch

    real = fetch.check_url
    checked = []

    def public_first_hop(url, allow_private=False):
        checked.append(url)
        if len(checked) > 1:  # every hop after the first gets the real check
            real(url, allow_private)

    monkeypatch.setattr(fetch, "check_url", public_first_hop)
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1"):
        fetch_url(f"{server}/moved", timeout=1.0)
    assert checked == [f"{server}/moved", f"{server}/report.pdf"]


def test_no_network_is_reported_not_raised(tmp_path):
    cache = FetchCache(tmp_path)
    record = cache.fetch("http://unreachable.invalid/rapport.pdf", timeout=1.0)
    assert record["status"] == "failed" and "cannot resolve" in record["error"]
    assert cache.fetched("http://unreachable.invalid/rapport.pdf") is None


def test_the_cache_keeps_bytes_date_and_sha256(server, tmp_path):
    import hashlib

    cache = FetchCache(tmp_path)
    url = f"{server}/report.pdf#page=2"
    record = cache.fetch(url, allow_private=True, timeout=1.0)
    assert record["status"] == "fetched"
    assert record["sha256"] == hashlib.sha256(PDF).hexdigest() and record["size"] == len(PDF)
    assert (tmp_path / record["file"]).read_bytes() == PDF and record["file"].endswith(".pdf")
    assert record["fetched_at"] and record["content_type"] == "application/pdf"
    # one document per URL without fragment; the cache index is JSON on disk, git-ignored
    assert FetchCache(tmp_path).fetched(f"{server}/report.pdf") == record
    data = json.loads((tmp_path / ".cache" / "fetch.json").read_text())
    assert list(data["urls"]) == [normalise_url(url)]
    assert (tmp_path / ".cache" / ".gitignore").read_text().strip().endswith("*")
    # a failed refresh keeps the copy fetched before, and says what went wrong
    again = cache.fail(url, "HTTP 503")
    assert again["status"] == "fetched" and again["last_error"] == "HTTP 503" and cache.fetched(url)


def test_a_corrupt_cache_index_is_reported_and_kept_aside_never_silently_emptied(server, tmp_path, capsys):
    cache_dir = tmp_path / ".cache"
    first = FetchCache(tmp_path).fetch(f"{server}/report.pdf", allow_private=True, timeout=1.0)
    assert first["status"] == "fetched"
    # A file cut short (a disk full, an editor): not JSON any more.
    broken = (cache_dir / "fetch.json").read_bytes()[:-20]
    (cache_dir / "fetch.json").write_bytes(broken)
    cache = FetchCache(tmp_path)
    err = capsys.readouterr().err
    assert "fetch cache index" in err and "unreadable" in err and "verbatim fetch" in err
    aside = list(cache_dir.glob("fetch.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == broken and aside[0].name in err
    assert cache.records() == {}
    cache.fail("http://unreachable.invalid/a", "offline")  # the next write starts a new file
    assert aside[0].read_bytes() == broken  # and leaves the old one alone

    # One record that is not a record: the others are kept, and the file is copied aside first.
    data = json.loads((cache_dir / "fetch.json").read_text())
    data["urls"]["https://ex.org/bad"] = "garbage"
    (cache_dir / "fetch.json").write_text(json.dumps(data))
    cache = FetchCache(tmp_path)
    err = capsys.readouterr().err
    assert "1 unreadable record(s)" in err and "https://ex.org/bad" in err
    assert set(cache.records()) == {normalise_url("http://unreachable.invalid/a")}
    assert any("garbage" in p.read_text() for p in cache_dir.glob("fetch.json.corrupt-*"))
