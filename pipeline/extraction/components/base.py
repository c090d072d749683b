"""What every strikewatch spaCy component shares: span-group keys, the extension
attributes that carry each span's payload, and small helpers.

Each component writes one span group (``doc.spans[KEY]``); a span's payload (an
``Actor``, a ``Weapon``, a ``Place`` ...) rides on a ``Span._.sw_*`` extension, so the
event assembly (``pipeline.extraction.events``) reads typed values, not regex groups.
Payload offsets are relative to ``doc.text``, which has the length and offsets of the
article text (the gate masks skipped passages with spaces, the caser only changes case).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence

from spacy.tokens import Doc, Span

from strikewatch.core.models import Span as TextSpan


class Keys:
    """``doc.spans`` keys, one per component."""

    TRIGGERS = "sw_triggers"
    ACTORS = "sw_actors"
    WEAPONS = "sw_weapons"
    PLACES = "sw_places"
    TIMES = "sw_times"
    CASUALTIES = "sw_casualties"
    ATTRIBUTIONS = "sw_attributions"
    CUES = "sw_cues"
    ROLES = "sw_roles"
    ROLE_RULES = "sw_role_rules"  # the dependency rules' roles: features of the learned choice


# Span payloads. ``sw_modality`` and ``sw_p_event`` are attributes of trigger spans.
SPAN_ATTRS = (
    "sw_actor",
    "sw_weapon",
    "sw_place",
    "sw_time",
    "sw_casualties",
    "sw_attribution",
    "sw_modality",
    "sw_p_event",
    "sw_demonym",
)
# Doc context: the article date against which times resolve (set by ``extract_events``),
# the countries the text is about (places component), the relevance thresholds
# (relevance component).
DOC_ATTRS = ("sw_ref_date", "sw_context", "sw_relevance")


def register_extensions() -> None:
    for name in SPAN_ATTRS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)
    for name in DOC_ATTRS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


register_extensions()


def sentences(doc: Doc) -> list[Span]:
    """The doc's sentences; the whole doc when nothing set sentence starts (a component
    run alone on ``nlp.make_doc``)."""
    # Computed once per doc: every component asks, and Doc.sents and has_annotation walk
    # every token each time (10 % of extraction time on general news). The components
    # after the parser do not move sentence boundaries.
    cached = doc.user_data.get("sw_sents")
    if cached is not None and (not cached or cached[0].doc is doc):
        return cached
    if doc.has_annotation("SENT_START"):
        cached = doc.user_data["sw_sents"] = list(doc.sents)
        return cached
    return [doc[:]] if len(doc) else []


def sentence_of(doc: Doc, span: Span) -> Span:
    """The sentence holding a span (the whole doc without sentence starts)."""
    sents = sentences(doc)
    i = bisect_left([s.start_char for s in sents], span.start_char + 1) - 1
    return sents[max(i, 0)] if sents else doc[:]


def doc_text(doc: Doc) -> str:
    """``doc.text``, built once: spaCy joins every token's text on each access (roles asked for
    it per phrase, 6 % of extraction time on general news)."""
    text = doc.user_data.get("sw_doc_text")
    if text is None:  # a Doc's text never changes
        text = doc.user_data["sw_doc_text"] = doc.text
    return text


def has_gate_hit(doc: Doc, start: int, end: int) -> bool:
    """Does [start, end) hold a relevance-gate term? True when the doc was made without
    the gate (no hit list): then everything is searched."""
    hits = doc.user_data.get("sw_hits")
    if hits is None:
        return True
    i = bisect_left(hits, start)
    return i < len(hits) and hits[i] < end


def text_ranges(doc: Doc) -> list[tuple[int, int]]:
    """The parts of ``doc.text`` that hold text: the gate's passages (the rest is blank),
    or the whole text."""
    return doc.user_data.get("sw_passages") or [(0, len(doc_text(doc)))]


def char_span(doc: Doc, start: int, end: int, label: str = "") -> Span | None:
    """The token span covering characters [start, end) (expanded to token bounds)."""
    return doc.char_span(start, end, label=label, alignment_mode="expand")


def text_span(text: str, start: int, end: int, base: int = 0) -> TextSpan:
    """A model Span over ``text[start:end]`` with offsets shifted by ``base``."""
    return TextSpan(text=text[start:end], start=base + start, end=base + end)


def set_group(doc: Doc, key: str, spans: Iterable[Span]) -> None:
    doc.spans[key] = [s for s in spans if s is not None]


class SpanIndex:
    """The spans of one group sorted by start character, for "which spans lie in this
    sentence" lookups in O(log n)."""

    def __init__(self, spans: Sequence[Span]):
        self.spans = sorted(spans, key=lambda s: (s.start_char, s.end_char))
        self._starts = [s.start_char for s in self.spans]

    def within(self, start: int, end: int) -> list[Span]:
        i = bisect_left(self._starts, start)
        out = []
        while i < len(self.spans) and self.spans[i].start_char < end:
            out.append(self.spans[i])
            i += 1
        return out
