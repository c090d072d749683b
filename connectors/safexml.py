"""Bytes -> safe text for the feed parsers.

* Entity declarations are refused before any parser sees the document: a DTD that
  declares entities is how billion-laughs (``xml_bomb``) and external-entity reads
  (``xxe``) work, and no news feed needs one. Nothing is ever expanded.
* Encoding is sniffed: BOM, then the XML declaration, then strict UTF-8, then the
  HTTP charset, then Windows-1252 (a superset of Latin-1 in practice).
  gb2312 is decoded as gb18030, its superset, so stray extended characters survive.
"""

from __future__ import annotations

import codecs
import re

from .errors import FeedError

_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_ENTITY_RE = re.compile(rb"<!ENTITY", re.I)
# Linear by construction: a declaration is scanned only up to the next "<" or ">" ([^<>]), and the DTD is
# only looked for at the start of the document, where XML puts it; the old unanchored ``<!DOCTYPE ... [.*?]>``
# and ``<!ENTITY[^>]*`` rescanned the rest of the text from every occurrence.
_EXTERNAL_RE = re.compile(rb"<!ENTITY[^<>]*\b(?:SYSTEM|PUBLIC)\b", re.I)
_DOCTYPE_SUBSET_RE = re.compile(
    r"\A\s*(?:<!--(?:[^-]|-(?!->))*-->\s*|<\?[^<>]*\?>\s*)*"  # comments and processing instructions before it
    r"<!DOCTYPE[^<>\[]*\[[^\]]*\]\s*>",
    re.I,
)
# Encodings that are usually mislabelled supersets in the wild.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
# Only the head of a document is scanned for a DTD: it must come before the root.
HEAD_BYTES = 64 * 1024


def refuse_entities(body: bytes) -> None:
    head = body[:HEAD_BYTES]
    probe = head
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        probe = head.decode("utf-16", errors="ignore").encode("utf-8")
    if _EXTERNAL_RE.search(probe):
        raise FeedError("document declares an external entity (XXE); refused unparsed", "xxe", body)
    if _ENTITY_RE.search(probe):
        raise FeedError("document declares entities (possible billion-laughs bomb); refused unparsed", "xml_bomb", body)


def _norm(enc: str | None) -> str | None:
    if not enc:
        return None
    enc = enc.strip().lower()
    enc = SUPERSETS.get(enc, enc)
    try:
        return codecs.lookup(enc).name
    except LookupError:
        return None


def decode(body: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used). The XML declaration is rewritten to UTF-8-free form
    by the caller passing text to parsers that accept str."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace"), "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace"), "utf-16"
    if body[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        enc = "utf-16-le" if body[0] == 0x3C else "utf-16-be"
        return body.decode(enc, errors="replace"), enc
    candidates = []
    m = _DECL_RE.match(body)
    if m:
        candidates.append(_norm(m.group(1).decode("ascii", "ignore")))
    # Valid UTF-8 with non-ASCII bytes is almost never anything else, while HTTP
    # charsets are often wrong (servers default to ISO-8859-1): UTF-8 before them.
    candidates += ["utf-8", _norm(http_charset)]
    for enc in candidates:
        if not enc:
            continue
        try:
            return body.decode(enc), enc
        except UnicodeDecodeError:
            continue
    return body.decode("cp1252", errors="replace"), "cp1252"


def strip_declaration(text: str) -> str:
    """Drop the XML declaration (its encoding no longer applies to decoded text) and
    any DTD internal subset (already checked to declare no entities)."""
    text = re.sub(r"\A\s*<\?xml[^<>]*\?>", "", text, count=1)
    return _DOCTYPE_SUBSET_RE.sub("", text, count=1).lstrip()
