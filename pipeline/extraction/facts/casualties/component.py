"""``strike_casualties``: what a sentence says of casualties -> ``doc.spans["sw_casualties"]``.

At most one span per sentence, over the evidence phrase; ``span._.sw_casualties`` is the
``Casualties`` (killed, injured, statement: reported | no_immediate_reports | none).
"Killing 12 ... wounding 7", "no immediate reports of casualties", "no casualties were
reported"; ACLED's "fatalities split between 3 events" divides the toll.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from strikewatch.core.models import Casualties

from ... import lexicon
from ...components.base import Keys, char_span, sentences, set_group, text_span


def find_casualties(text: str, base: int = 0) -> Casualties | None:
    m = lexicon.NO_IMMEDIATE_RE.search(text)
    if m:
        return Casualties(statement="no_immediate_reports", evidence=text_span(text, m.start(), m.end(), base))
    killed = injured = None
    ev = None
    for _i, r in enumerate(lexicon.KILLED_RES):
        m = r.search(text)
        if m:
            n = lexicon.number(m.group("n"))
            if n is not None:
                killed = n
                ev = text_span(text, m.start(), m.end(), base)
        if killed is not None:
            break
    for r in lexicon.INJURED_RES:
        m = r.search(text)
        if m and lexicon.number(m.group("n")) is not None:
            injured = lexicon.number(m.group("n"))
            ev = ev or text_span(text, m.start(), m.end(), base)
            break
    split = lexicon.SPLIT_RE.search(text)
    if killed is not None and split:
        killed = killed // max(1, int(split.group("k")))
    if killed is not None or injured is not None:
        return Casualties(killed=killed, injured=injured, statement="reported", evidence=ev)
    m = lexicon.NO_CASUALTIES_RE.search(text)
    if m:
        return Casualties(killed=0, injured=0, statement="none", evidence=text_span(text, m.start(), m.end(), base))
    return None


class CasualtyFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for sent in sentences(doc):
            cas = find_casualties(sent.text, sent.start_char)
            if cas is not None and cas.evidence is not None:
                span = char_span(doc, cas.evidence.start, cas.evidence.end, label=cas.statement)
                if span is not None:
                    span._.sw_casualties = cas
                    spans.append(span)
        set_group(doc, Keys.CASUALTIES, spans)
        return doc


@Language.factory("strike_casualties", assigns=["doc.spans"])
def make_casualty_finder(nlp: Language, name: str) -> CasualtyFinder:
    return CasualtyFinder(nlp, name)
