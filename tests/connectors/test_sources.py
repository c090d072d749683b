"""News sitemaps and GDELT-style JSON search results (our own small documents)."""

import json

import pytest

from connectors.errors import FeedError
from connectors.sources import parse_gdelt, parse_sitemap

SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
 <url><loc>https://news.example/a</loc><news:news><news:publication><news:name>Ex</news:name><news:language>en</news:language></news:publication>
  <news:publication_date>2021-06-28T01:00:00+00:00</news:publication_date><news:title>US strikes militia sites</news:title></news:news></url>
 <url><loc>https://news.example/b</loc><lastmod>2021-06-27</lastmod></url>
</urlset>"""
INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://news.example/s1.xml</loc></sitemap></sitemapindex>"""


def test_news_sitemap():
    arts, children = parse_sitemap(SITEMAP, "ex")
    assert children == []
    assert [(a.url, a.title, a.language) for a in arts] == [
        ("https://news.example/a", "US strikes militia sites", "en"),
        ("https://news.example/b", "", None),
    ]
    assert arts[0].published_at.isoformat() == "2021-06-28T01:00:00+00:00"


def test_sitemap_index_lists_children():
    assert parse_sitemap(INDEX, "ex") == ([], ["https://news.example/s1.xml"])


def test_sitemap_refuses_entities_and_junk():
    with pytest.raises(FeedError) as e:
        parse_sitemap(b'<!DOCTYPE u [<!ENTITY x "y">]><urlset/>', "ex")
    assert e.value.reason == "xml_bomb"
    with pytest.raises(FeedError) as e:
        parse_sitemap(b"<html></html>", "ex")
    assert e.value.reason == "not_a_feed"


def test_gdelt_artlist():
    doc = {
        "articles": [
            {
                "url": "https://news.example/x",
                "title": "Drone strike",
                "seendate": "20210628T013000Z",
                "language": "English",
                "domain": "news.example",
            }
        ]
    }
    [a] = parse_gdelt(json.dumps(doc).encode(), "gdelt")
    assert (a.title, a.language, a.published_at.isoformat()) == ("Drone strike", "en", "2021-06-28T01:30:00+00:00")
    with pytest.raises(FeedError):
        parse_gdelt(b"not json", "gdelt")
