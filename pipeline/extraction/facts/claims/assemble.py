"""Claims of each event of one article, from the doc's span groups (short pure functions).

Each sentence belongs to the event whose evidence is nearest to it (an article about one
strike gives every sentence to it). Per event:

* **casualties**: each casualty figure (``sw_casualties``, reported killed or injured) in its
  sentences, voiced by the sentence's speaker, else by the outlet itself; the outlet's own
  figure is dropped when a named speaker in the article gives the same one;
* **responsibility**: who denies (``denied``: the speaker denies for its side), who claims it
  (``claimed``), who blames whom (``blamed``: "accused X of"), and the attacker the event names
  (blamed on it by the speaker of the attacker's sentence, else by the outlet);
* **target**: each target the event names, voiced as its sentence is.
"""

from __future__ import annotations

from bisect import bisect_right

from spacy.tokens import Doc

from strikewatch.models import Article, Claim, Event, Modality, Span, outlet_of

from ...components.base import Keys, sentences
from .component import KEY, Speaker, side_of

OUTLET = "outlet"
TARGET_TYPES = frozenset({"object", "civilians"})


def _outlet_speaker(article: Article) -> Speaker:
    return Speaker(text=outlet_of(article.canonical_url) or article.source or "the report", kind=OUTLET, side=None, stance="reported")


def _nearest_event(bounds: list[tuple[int, int]], start: int) -> int:
    """Index of the event whose evidence is nearest to ``start`` (``bounds``: (start, end) of each event's evidence)."""
    best, dist = 0, None
    for i, (s, e) in enumerate(bounds):
        d = 0 if s <= start < e else min(abs(start - s), abs(start - e))
        if dist is None or d < dist:
            best, dist = i, d
    return best


def _quote(text: str, start: int, end: int) -> Span:
    return Span(text=text[start:end], start=start, end=end)


def claims_by_event(doc: Doc, events: list[Event], article: Article) -> list[list[Claim]]:
    """The claims of each event (same order as ``events``)."""
    if not events:
        return []
    text = article.text
    sents = sentences(doc)
    starts = [s.start_char for s in sents]
    bounds = [(min((s.start for s in ev.evidence), default=0), max((s.end for s in ev.evidence), default=0)) for ev in events]
    outlet = _outlet_speaker(article)

    def sentence_at(pos: int):
        i = max(bisect_right(starts, pos) - 1, 0)
        return sents[i] if sents else doc[:]

    speakers: dict[int, list[tuple[int, int, Speaker]]] = {}
    for span in doc.spans.get(KEY, []):
        for sp in span._.sw_speakers or ():
            sent = sentence_at(span.start_char)
            speakers.setdefault(sent.start_char, []).append((span.start_char, span.end_char, sp))

    def voice(pos: int) -> tuple[Speaker, tuple[int, int]]:
        """The speaker who says what stands at ``pos``: the reporter of its sentence, else the outlet."""
        sent = sentence_at(pos)
        said = [sp for _s, _e, sp in speakers.get(sent.start_char, []) if sp.stance in ("reported", "claimed", "blamed")]
        return (said[0] if said else outlet), (sent.start_char, sent.end_char)

    out: list[list[Claim]] = [[] for _ in events]

    def add(i: int, sp: Speaker, kind: str, quote: tuple[int, int], detail: str, **kw) -> None:
        ev = events[i]
        out[i].append(Claim(id=Claim.make_id(article.id, kind, quote[0], quote[1], detail), kind=kind, speaker=sp.text,
                            speaker_kind=sp.kind, speaker_side=sp.side, quote=_quote(text, *quote), article_id=article.id,
                            event_id=ev.id, url=article.url, outlet=outlet_of(article.canonical_url),
                            published_at=article.published_at, **kw))

    # Casualty figures.
    for span in doc.spans.get(Keys.CASUALTIES, []):
        cas = span._.sw_casualties
        if cas is None or cas.statement != "reported":
            continue
        i = _nearest_event(bounds, span.start_char)
        sp, sent = voice(span.start_char)
        add(i, sp, "casualties", sent, f"{cas.killed}/{cas.injured}/{sp.text}", killed=cas.killed, injured=cas.injured)
    for i, claims in enumerate(out):
        sourced = [c for c in claims if c.speaker_kind != OUTLET]

        def repeated(c: Claim) -> bool:  # the outlet's own figure, which a named speaker gives too
            return any((c.killed is None or c.killed == s.killed) and (c.injured is None or c.injured == s.injured) for s in sourced)

        out[i] = [c for c in claims if c.speaker_kind != OUTLET or not repeated(c)]
        seen: set = set()
        out[i] = [c for c in out[i] if not ((c.speaker, c.killed, c.injured) in seen or seen.add((c.speaker, c.killed, c.injured)))]

    # Responsibility: denials, claims and blame in the text.
    for sent_start, found in speakers.items():
        i = _nearest_event(bounds, sent_start)
        sent = sentence_at(sent_start)
        for _s, _e, sp in found:
            if sp.stance == "denied":
                add(i, sp, "responsibility", (sent.start_char, sent.end_char), f"denied/{sp.text}", stance="denied",
                    party=sp.side or sp.text, party_side=sp.side)
            elif sp.stance == "claimed":
                add(i, sp, "responsibility", (sent.start_char, sent.end_char), f"claimed/{sp.text}", stance="claimed",
                    party=sp.text, party_side=sp.side)
            elif sp.stance == "blamed" and sp.party:
                add(i, sp, "responsibility", (sent.start_char, sent.end_char), f"blamed/{sp.party}", stance="blamed",
                    party=sp.party, party_side=sp.party_side)
    # Responsibility: the attacker the event names.
    for i, ev in enumerate(events):
        att = ev.attacker
        if att is None or att.type == "object":
            continue
        if ev.modality == Modality.DENIED:
            continue  # a denied strike's "attacker" is who denies it: its denial is above
        pos = att.mentions[0].start if att.mentions else bounds[i][0]
        sp, sent = voice(pos)
        if not any(c.stance == "blamed" and c.party == att.name and c.speaker == sp.text for c in out[i]):
            add(i, sp, "responsibility", sent, f"attacker/{att.name}", stance="blamed", party=att.name,
                party_side=att.country or side_of(att.name))
    # What was hit.
    for i, ev in enumerate(events):
        for t in ev.targets:
            if t.type not in TARGET_TYPES:
                continue  # a party struck is in the responsibility claims' dyad; what was hit is a thing or people
            pos = t.mentions[0].start if t.mentions else bounds[i][0]
            sp, sent = voice(pos)
            add(i, sp, "target", sent, f"target/{t.name}", target=t.name)
    return out


def attach_claims(doc: Doc, events: list[Event], article: Article) -> list[Event]:
    """The events with their claims."""
    return [ev.model_copy(update={"claims": claims}) for ev, claims in zip(events, claims_by_event(doc, events, article))]
