"""Parsing every real feed capture in ../shared/data/feeds (read in place), and the
hostile documents feeds can be."""

import json

import pytest

from connectors.errors import FeedError
from connectors.feeds import parse_feed
from connectors.safexml import decode, refuse_entities

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title><item><title>x</title><link>http://a/b</link></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>&xxe;</title><link>http://a/b</link></item></channel></rss>"""


def _manifest(feeds_dir):
    return {m["file"]: m for m in json.loads((feeds_dir / "manifest.json").read_text())}


def test_every_well_formed_capture_yields_articles(feeds_dir):
    for name, meta in _manifest(feeds_dir).items():
        if not meta.get("expat_wellformed"):
            continue
        parsed = parse_feed((feeds_dir / name).read_bytes(), "t", "https://example.com/feed")
        assert parsed.articles, name
        for a in parsed.articles:
            assert a.url.startswith("http") and a.id.startswith("a_") and a.source == "t", name
            assert a.title or a.body, name
            assert a.published_at is None or a.published_at.tzinfo is not None, name


@pytest.mark.parametrize(
    ("name", "count", "sample"),
    [
        ("qq_tech_gb2312_2018-09-19.rss.xml", 1, "世纪华通"),  # gb2312 declared
        ("jn_portugal_iso-8859-1_2018-01-03.rss.xml", 40, "Mãe"),  # Latin-1 declared
        ("uol_noticias_latin1_no_xml_decl.rss.xml", 15, "Bolsonaro"),  # Latin-1, no declaration
        ("physorg_no_xml_decl_2021.rss.xml", 30, "SuperBIT"),  # no declaration, malformed: recovered
        ("_synthetic_edge_cases/utf16_encoded.xml", 1, "UTF-16"),
    ],
)
def test_encodings_are_sniffed(feeds_dir, name, count, sample):
    parsed = parse_feed((feeds_dir / name).read_bytes(), "t")
    assert len(parsed.articles) == count
    assert any(sample in (a.title + a.body) for a in parsed.articles)
    assert not any("\ufffd" in a.title for a in parsed.articles)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dailytelegraph_EMPTY.xml", "empty"),
        ("marketwatch_redirect_NOT_A_FEED.html.xml", "not_a_feed"),
        ("_synthetic_edge_cases/malformed_rss_namespaced.xml", "malformed"),
    ],
)
def test_unusable_captures_fail_with_a_reason(feeds_dir, name, reason):
    with pytest.raises(FeedError) as e:
        parse_feed((feeds_dir / name).read_bytes(), "t")
    assert e.value.reason == reason


def test_entity_bombs_and_xxe_are_refused_unparsed():
    for doc, reason in ((BOMB, "xml_bomb"), (XXE, "xxe")):
        with pytest.raises(FeedError) as e:
            parse_feed(doc, "t")
        assert e.value.reason == reason
        with pytest.raises(FeedError):
            refuse_entities(doc.decode().encode("utf-16"))


def test_json_feed():
    doc = {"version": "https://jsonfeed.org/version/1.1", "language": "en", "items": [
        {"id": "1", "url": "https://example.com/a", "title": "Strike", "content_html": "<p>Jets <b>struck</b>.</p>", "date_published": "2021-06-28T01:00:00Z"}]}
    [a] = parse_feed(json.dumps(doc).encode(), "jf").articles
    assert (a.title, a.body, a.language, a.published_at.isoformat()) == ("Strike", "Jets struck.", "en", "2021-06-28T01:00:00+00:00")


def test_decode_prefers_bom_then_declaration_then_charset():
    assert decode("é".encode("utf-8"), "iso-8859-1")[0] == "é"
    assert decode(b'<?xml version="1.0" encoding="iso-8859-1"?><a>\xe9</a>')[0].endswith("<a>é</a>")
    assert decode(b"\xe9t\xe9")[1] == "cp1252"
