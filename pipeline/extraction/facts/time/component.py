"""``strike_times``: time expressions resolved against the article date ->
``doc.spans["sw_times"]``.

Per sentence, ``timeparse.find_times`` ("early Monday", "around 1 a.m. local time",
"since April"). The article date comes from ``doc._.sw_ref_date`` (set by
``extract_events``; None: only absolute dates resolve). Label = precision;
``span._.sw_time`` is the ``EventTime`` with its expression's offsets in the doc.
Clock times stay local wall-clock here: the event assembly converts them to UTC once
it knows the place.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from strikewatch.core.models import Span as TextSpan

from ...components.base import Keys, char_span, sentences, set_group
from . import parse as timeparse


class TimeFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        ref = doc._.sw_ref_date
        spans = []
        for sent in sentences(doc):
            base = sent.start_char
            for sp, t in timeparse.find_times(sent.text, ref):
                expr = TextSpan(text=sp.text, start=sp.start + base, end=sp.end + base)
                span = char_span(doc, expr.start, expr.end, label=t.precision)
                if span is not None:
                    span._.sw_time = t.model_copy(update={"expression": expr})
                    spans.append(span)
        set_group(doc, Keys.TIMES, spans)
        return doc


@Language.factory("strike_times", assigns=["doc.spans"])
def make_time_finder(nlp: Language, name: str) -> TimeFinder:
    return TimeFinder(nlp, name)
