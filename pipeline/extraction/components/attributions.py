"""``strike_attributions``: who says so -> ``doc.spans["sw_attributions"]``.

Per sentence: a named person in a reporting sentence ("..., John Kirby said"), an
institution or official before a reporting verb ("the Pentagon said", "US officials
told"), and claims of responsibility. Label ``reported`` or ``claimed``;
``span._.sw_attribution`` is the ``Attribution`` whose quote is the sentence.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from strikewatch.core.models import Attribution

from .. import lexicon
from ..facts.parties.actors import table as actor_table
from .base import Keys, SpanIndex, char_span, sentences, set_group, text_span

REPORTING_RE = re.compile(r"\b(?:said|says|statement|told|according to|announced|confirmed)\b", re.I)


def find_attributions(text: str, base: int, persons: list[tuple[int, int]] = ()) -> list[tuple[int, int, Attribution]]:
    """(start, end, Attribution) in one sentence; ``persons``: the sentence's PERSON
    entities as (start, end) relative to it."""
    quote = text_span(text, 0, len(text), base)
    out = []
    if persons and REPORTING_RE.search(text):
        for s, e in persons:
            name = text[s:e].strip()
            if len(name.split()) >= 2 and not actor_table().actor_re.fullmatch(name):
                out.append((s, e, Attribution(source=name, role="reported", quote=quote)))
    for m in lexicon.ATTRIBUTION_RE.finditer(text):
        src = re.sub(r"^the\s+", "", m.group("src"), flags=re.I).strip()
        out.append((m.start("src"), m.end("src"), Attribution(source=src, role="reported", quote=quote)))
    m = lexicon.CLAIM_RE.search(text)
    if m:
        out.append((m.start(), m.end(), Attribution(source="claimant", role="claimed", quote=quote)))
    return out


class AttributionFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        # One index over the doc's entities: Span.ents walks every entity of the doc on
        # each call, quadratic in long articles (issue 12: a 50k-character article 11.6 s).
        ents = SpanIndex([e for e in doc.ents if e.label_ == "PERSON"])
        spans = []
        for sent in sentences(doc):
            base = sent.start_char
            persons = [
                (e.start_char - base, e.end_char - base)
                for e in ents.within(base, sent.end_char)
                if e.end_char <= sent.end_char
            ]
            for s, e, attr in find_attributions(sent.text, base, persons):
                span = char_span(doc, base + s, base + e, label=attr.role)
                if span is not None:
                    span._.sw_attribution = attr
                    spans.append(span)
        set_group(doc, Keys.ATTRIBUTIONS, spans)
        return doc


@Language.factory("strike_attributions", assigns=["doc.spans"])
def make_attribution_finder(nlp: Language, name: str) -> AttributionFinder:
    return AttributionFinder(nlp, name)
