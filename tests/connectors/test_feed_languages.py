"""The deployed feed list reads every language extraction reads, and a feed's declared
language is parsed (the connector sets it on items that declare none)."""

from collections import Counter

from connectors.scheduler import load_feeds


def test_feed_list_has_native_sources_for_each_language(repo_root):
    feeds = load_feeds(repo_root / "deploy" / "feeds.toml")
    by_lang = Counter(f.language for f in feeds if f.language)
    assert all(by_lang[code] >= 2 for code in ("ar", "ru", "uk", "fr", "es")), by_lang
    assert all(f.url.startswith("https://") for f in feeds if f.language)
