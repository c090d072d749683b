"""Spans -> Events: the assembly, as short pure functions over a processed doc.

The components (``pipeline.extraction.components`` and ``facts``) have written ``doc.spans``:
triggers (with modality), actors, weapons, places, times, casualties, attributions,
de-escalation cues and attacker/target roles. Here:

1. **Mentions.** Each trigger of a sentence becomes a ``Mention`` with the sentence's
   attributes: the attacker and targets (syntactic roles of the trigger when the parse
   gives them, else position and prepositions around it), the places and times nearest
   it, weapons, counts, casualties, attributions.
2. **Continuation.** A sentence right after a strike sentence that has no trigger of
   its own adds its weapons, counts, casualties and cues to that strike ("The
   fighter-bombers dropped 500-pound bombs ...").
3. **Merge.** Mentions of one type and modality whose times and places are compatible
   are one real-world strike; references back ("the strikes") join the last one; a
   headline's strike joins the lead's (``groups.join_headline``).
4. **Provocation.** A state strike on an actor that the article also reports as
   attacking (drone/missile/rocket) the striking state gets ``provoked_by`` links.

Modules: ``mentions`` (1, 2), ``groups`` (3), ``event`` (the Event of a group, 4).
"""

from __future__ import annotations

from spacy.tokens import Doc

from strikewatch.core.models import Article, Event

from ..facts.places.assemble import place_context
from .event import article_group, article_towns, link_provocations, named_group, refine_places, to_event
from .groups import group_mentions, join_headline, relevant
from .mentions import CONTINUATION_SENTENCES, Mention, continue_mention, doc_mentions


def assemble(doc: Doc, article: Article) -> list[tuple[Event, list[Mention]]]:
    """Every candidate event of one article with the mentions behind it, before the
    relevance decision (``strikewatch train`` learns from these)."""
    ref = article.published_at.date() if article.published_at else None
    context = place_context(doc)
    towns = article_towns(doc)
    armed = article_group(article.text)
    groups = join_headline(group_mentions(doc_mentions(doc, ref, article.body_start)), article.body_start)
    return [(to_event(article, g, context, towns, armed), g) for g in groups]


def events_from_doc(doc: Doc, article: Article) -> list[Event]:
    """All strike events of one article (``doc``: the article text through ``load_nlp()``)."""
    kept = [ev for ev, group in assemble(doc, article) if relevant(group, doc._.sw_relevance, len(article.text))]
    return link_provocations(kept)


__all__ = [
    "CONTINUATION_SENTENCES",
    "Mention",
    "assemble",
    "continue_mention",
    "events_from_doc",
    "named_group",
    "refine_places",
    "relevant",
]
