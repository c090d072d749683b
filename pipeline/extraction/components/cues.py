"""``strike_cues``: de-escalation language -> ``doc.spans["sw_cues"]`` ("defensive",
"limit the risk of escalation", "ceasefire"), recorded on events for the escalation score."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

from .. import lexicon
from .base import Keys, char_span, doc_text, set_group


class CueFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        set_group(
            doc,
            Keys.CUES,
            (
                char_span(doc, m.start(), m.end(), label="de_escalation")
                for m in lexicon.DE_ESCALATION_RE.finditer(doc_text(doc))
            ),
        )
        return doc


@Language.factory("strike_cues", assigns=["doc.spans"])
def make_cue_finder(nlp: Language, name: str) -> CueFinder:
    return CueFinder(nlp, name)
