"""Claims of each event of one article, from the doc's span groups (short pure functions).

Each sentence belongs to the event whose evidence is nearest to it (an article about one
strike gives every sentence to it). Per event:

* **casualties**: each casualty figure (``sw_casualties``, reported killed or injured) in its
  sentences, voiced by the sentence's speaker, else by the outlet itself; the outlet's own
  figure is dropped when a named speaker in the article gives the same one. ``counted`` says
  whom it counts (``vocab/counted.tsv``: "people" for a total, else the part, "children",
  "combatants", ...), from the words after its number;
* **responsibility**: who denies (``denied``: the speaker denies for its side), who claims it
  (``claimed``: "claimed responsibility", or a speaker of the side that struck speaking of the
  strike, ``vocab/declared.tsv``: "the IDF said the strike targeted ..."), who blames whom
  (``blamed``: "accused X of", or a cause of another side, ``vocab/blame.tsv``: "the blast was
  caused by a misfiring Palestinian rocket"), and the attacker the event names (blamed on it
  by the speaker of the attacker's sentence, else by the outlet);
* **target**: each target the event names, voiced as its sentence is.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from pathlib import Path

from spacy.tokens import Doc

from strikewatch.core.models import Actor, Article, Claim, Event, Modality, Span, outlet_of

from ...components.base import Keys, sentences
from .component import KEY, Speaker, side_of

OUTLET = "outlet"
TARGET_TYPES = frozenset({"object", "civilians"})
PARTY_TYPES = frozenset({"state_military", "militia_proxy", "rebel", "terrorist", "government"})
VOCAB = Path(__file__).with_name("vocab")
# Words after a casualty figure's number that may name whom it counts ("12 of the displaced
# people", "seven members of the family"); a figure with no such noun counts people.
COUNTED_WORDS = 5
TOTAL = "people"
_NUMBER = re.compile(
    r"\b(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"twenty|several|dozens|a dozen|scores)\b",
    re.I,
)
# "..., including five children": a part of the dead, whatever noun follows.
_PART_BEFORE = re.compile(
    r"\b(?:including|among them|among whom|of whom|among the (?:dead|killed))\s+(?:at least\s+)?$", re.I
)
_WORD = re.compile(r"[\w'-]+")
_PARTITIVE = re.compile(r"\s+of\s+(?:the|those|them|whom|these)\b", re.I)
_CLAUSE_END = re.compile(r"[,.;:()\u2013\u2014]")


@lru_cache(maxsize=1)
def _counted_vocab() -> list[tuple[re.Pattern, str]]:
    rows = [
        r.split("\t")
        for r in (VOCAB / "counted.tsv").read_text(encoding="utf-8").splitlines()
        if r.strip() and not r.startswith("#")
    ]
    return [(re.compile(rf"^(?:{pattern})$", re.I), category) for pattern, category in rows]


@lru_cache(maxsize=1)
def _declared_vocab() -> tuple[re.Pattern, re.Pattern]:
    rows = dict(
        r.split("\t")
        for r in (VOCAB / "declared.tsv").read_text(encoding="utf-8").splitlines()
        if r.strip() and not r.startswith("#")
    )
    return re.compile(rows["strike"], re.I), re.compile(rows["unless"], re.I)


@lru_cache(maxsize=1)
def _blame_vocab() -> list[re.Pattern]:
    rows = [
        r.split("\t")
        for r in (VOCAB / "blame.tsv").read_text(encoding="utf-8").splitlines()
        if r.strip() and not r.startswith("#")
    ]
    return [re.compile(pattern, re.I) for _kind, pattern in rows]


def _blamed_in(sentence: str) -> str | None:
    """The words naming whom a sentence lays the harm on (``vocab/blame.tsv``), when they name a side."""
    for pattern in _blame_vocab():
        for m in pattern.finditer(sentence):
            if side_of(m.group("party")):
                return m.group("party")
    return None


def counted_of(text: str, start: int, end: int) -> str:
    """Whom the casualty figure quoted at ``text[start:end]`` counts: the category of the first
    noun of ``counted.tsv`` within ``COUNTED_WORDS`` words after its number ("people" when
    none: "killing 12"; "a child was killed": children); a total after "including" is a part."""
    m = _NUMBER.search(text, start, end)
    if m is None:
        return TOTAL
    found = TOTAL
    after = _CLAUSE_END.split(text[m.end() : m.end() + 80], maxsplit=1)[0]  # "killed 12, medics said": no noun of it
    if _PARTITIVE.match(after):
        return "part"  # "one of those killed", "four of the dead"
    for w in _WORD.findall(after)[:COUNTED_WORDS]:
        cat = next((c for pattern, c in _counted_vocab() if pattern.match(w)), None)
        if cat is not None:
            found = cat
            break
    if found == TOTAL and _PART_BEFORE.search(text[max(0, m.start() - 30) : m.start()]):
        return "part"
    return found


def _side_of_party(att: Actor) -> str | None:
    """The side of an attacker that is a party (a state, an armed group), else None: a person
    or a thing the parse took for the attacker ("Gaza News Network's report") has none."""
    return (att.country or side_of(att.name)) if att.type in PARTY_TYPES else None


def _outlet_speaker(article: Article) -> Speaker:
    return Speaker(
        text=outlet_of(article.canonical_url) or article.source or "the report",
        kind=OUTLET,
        side=None,
        stance="reported",
    )


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
    bounds = [
        (min((s.start for s in ev.evidence), default=0), max((s.end for s in ev.evidence), default=0)) for ev in events
    ]
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
        said = [
            sp for _s, _e, sp in speakers.get(sent.start_char, []) if sp.stance in ("reported", "claimed", "blamed")
        ]
        return (said[0] if said else outlet), (sent.start_char, sent.end_char)

    out: list[list[Claim]] = [[] for _ in events]

    def add(i: int, sp: Speaker, kind: str, quote: tuple[int, int], detail: str, **kw) -> None:
        ev = events[i]
        out[i].append(
            Claim(
                id=Claim.make_id(article.id, kind, quote[0], quote[1], detail),
                kind=kind,
                speaker=sp.text,
                speaker_kind=sp.kind,
                speaker_side=sp.side,
                quote=_quote(text, *quote),
                article_id=article.id,
                event_id=ev.id,
                url=article.url,
                outlet=outlet_of(article.canonical_url),
                published_at=article.published_at,
                **kw,
            )
        )

    # Casualty figures.
    for span in doc.spans.get(Keys.CASUALTIES, []):
        cas = span._.sw_casualties
        if cas is None or cas.statement != "reported":
            continue
        i = _nearest_event(bounds, span.start_char)
        sp, sent = voice(span.start_char)
        add(
            i,
            sp,
            "casualties",
            sent,
            f"{cas.killed}/{cas.injured}/{sp.text}",
            killed=cas.killed,
            injured=cas.injured,
            counted=counted_of(text, span.start_char, span.end_char),
        )
    for i, claims in enumerate(out):
        sourced = [c for c in claims if c.speaker_kind != OUTLET]

        def repeated(c: Claim) -> bool:  # the outlet's own figure, which a named speaker gives too
            return any(
                (c.killed is None or c.killed == s.killed) and (c.injured is None or c.injured == s.injured)
                for s in sourced  # noqa: B023  (called in this iteration)
            )

        out[i] = [c for c in claims if c.speaker_kind != OUTLET or not repeated(c)]
        seen: set = set()
        out[i] = [
            c
            for c in out[i]
            if not ((c.speaker, c.killed, c.injured) in seen or seen.add((c.speaker, c.killed, c.injured)))
        ]

    # Responsibility: denials, claims and blame in the text.
    for sent_start, found in speakers.items():
        i = _nearest_event(bounds, sent_start)
        sent = sentence_at(sent_start)
        for _s, _e, sp in found:
            if sp.stance == "denied":
                add(
                    i,
                    sp,
                    "responsibility",
                    (sent.start_char, sent.end_char),
                    f"denied/{sp.text}",
                    stance="denied",
                    party=sp.side or sp.text,
                    party_side=sp.side,
                )
            elif sp.stance == "claimed":
                add(
                    i,
                    sp,
                    "responsibility",
                    (sent.start_char, sent.end_char),
                    f"claimed/{sp.text}",
                    stance="claimed",
                    party=sp.text,
                    party_side=sp.side,
                )
            elif sp.stance == "blamed" and sp.party:
                add(
                    i,
                    sp,
                    "responsibility",
                    (sent.start_char, sent.end_char),
                    f"blamed/{sp.party}",
                    stance="blamed",
                    party=sp.party,
                    party_side=sp.party_side,
                )
    # Responsibility: a speaker lays the harm on another side ("... said the blast was caused by
    # a misfiring Palestinian rocket"): a blame of its own, against the side that struck.
    for sent in sents:
        said = sent.text
        party = _blamed_in(said)
        if party is None:
            continue
        side = side_of(party)
        sp, quote = voice(sent.start_char)
        if side is None or side == sp.side:
            continue
        i = _nearest_event(bounds, sent.start_char)
        if not any(c.stance == "blamed" and c.party_side == side and c.speaker == sp.text for c in out[i]):
            add(
                i,
                sp,
                "responsibility",
                quote,
                f"cause/{side}",
                stance="blamed",
                party=party.strip(" “”\"'"),
                party_side=side,
            )
    # Responsibility: the side that struck speaks of the strike ("Israeli forces said the strike
    # targeted a command centre", "The IDF acknowledged its involvement"): it declares it.
    struck_by = {_side_of_party(ev.attacker) for ev in events if ev.attacker is not None} - {None}
    strike_re, unless_re = _declared_vocab()
    for sent_start, found in speakers.items():
        sent = sentence_at(sent_start)
        said = sent.text
        if not strike_re.search(said) or unless_re.search(said):
            continue
        i = _nearest_event(bounds, sent_start)
        if events[i].modality == Modality.DENIED:
            continue
        for _s, _e, sp in found:
            if (
                sp.stance == "reported"
                and sp.side in struck_by
                and not any(c.stance == "claimed" and c.speaker == sp.text for c in out[i])
            ):
                add(
                    i,
                    sp,
                    "responsibility",
                    (sent.start_char, sent.end_char),
                    f"declared/{sp.text}",
                    stance="claimed",
                    party=sp.text,
                    party_side=sp.side,
                )
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
            add(
                i,
                sp,
                "responsibility",
                sent,
                f"attacker/{att.name}",
                stance="blamed",
                party=att.name,
                party_side=_side_of_party(att),
            )
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
    return [
        ev.model_copy(update={"claims": claims}) for ev, claims in zip(events, claims_by_event(doc, events, article))
    ]
