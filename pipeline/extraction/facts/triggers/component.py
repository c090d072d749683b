"""``strike_triggers`` and ``strike_modality``: the words that report a strike ->
``doc.spans["sw_triggers"]``, and how each is asserted -> ``span._.sw_modality``.

Triggers, per sentence: at most one per strike type (``triggers.jsonl``: air
strike, drone strike, missile/rocket attack, shelling), label = the event type. Rules
that make a strike word not a strike drop it: an exchange of fire is a clash, shelling
words inside an IED or grenade report, "bombard" with an air strike is the air strike,
missile with artillery is one shelling event. Sentences with no trigger but a reference
to strikes already reported ("the strikes", "Monday's strike") get a trigger labelled
``reference``; the assembly attaches it to the last strike of the article, if any.

Modality (needs the parse): denied, negated (``neg`` on the trigger's verb),
hypothetical (modal auxiliary, if-clause, plans), threatened, historical by wording
("previous strikes"); else asserted. Historical by date is decided in the assembly,
which knows the event's time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from spacy.language import Language
from spacy.tokens import Doc, Span

from strikewatch.core.models import EventType, Modality

from ... import lexicon
from ...components import _geo
from ...components.base import Keys, char_span, doc_text, has_gate_hit, sentence_of, sentences, set_group
from ..parties.actors import table as actor_table

STRIKE_PRIORITY = (EventType.DRONE_STRIKE, EventType.AIR_STRIKE, EventType.MISSILE_ATTACK, EventType.SHELLING)
REFERENCE = "reference"
# ``span.id_`` of a trigger found only by a broad pattern (needs the relevance model).
BROAD = "broad"
_GROUND = (EventType.SHELLING, EventType.MISSILE_ATTACK)
_SHELL_WORDS = re.compile(r"\b(?:shell(?:ed|ing)|mortars?|artillery|rockets?)\b", re.I)
_MODAL_AUX = frozenset({"will", "would", "could", "might", "may", "should", "shall", "must"})
# Demands to stop are no report of a strike ("the army must cease all bombing").
_DEMAND = re.compile(
    r"\b(?:must|should|to)\s+(?:cease|stop|end|halt)\b|\b(?:calls?|called|demand\w*|"
    r"urg\w+) (?:for|on) \w+(?: \w+)? to (?:stop|end|cease|halt)\b",
    re.I,
)
_IF_CLAUSE = re.compile(r"\b(?:if|unless|whether)\b[^.;]*$", re.I)
_PLANS = re.compile(r"\b(?:options?|plans? for|planning|planners|ordered the use of force|approved the strike)\b", re.I)
_CARRIED_OUT = re.compile(r"\b(?:carried out|conducted|launched|struck|dropped)\b", re.I)
_PAST_WORDING = re.compile(
    r"\b(?:previous|earlier) (?:strikes?|airstrikes?|attacks?)\b|\bThese previous\b|"
    r"\b(?:had taken place|had been carried out)\b",
    re.I,
)


def filter_kinds(
    kinds: Sequence[tuple[EventType, re.Match]], text: str, clash_in_doc: bool
) -> list[tuple[EventType, re.Match]]:
    """The triggers of one sentence that are strikes, by ACLED's distinctions;
    ``clash_in_doc``: the text reports an exchange of fire somewhere."""
    kinds = list(kinds)
    if not kinds or not_a_strike(text):
        return []
    ground = all(k in _GROUND for k, _ in kinds)
    if ground and (clash_in_doc or lexicon.TEAR_GAS_RE.search(text)):
        return []
    if ground and lexicon.IED_RE.search(text) and not _SHELL_WORDS.search(text):
        return []  # shelling words inside an IED report are not a strike
    if lexicon.GRENADE_RE.search(text) and all(k == EventType.MISSILE_ATTACK for k, _ in kinds):
        return []
    types = {k for k, _ in kinds}
    if EventType.AIR_STRIKE in types and EventType.SHELLING in types and re.search(r"\bbombard", text, re.I):
        # "aerial bombardment" read twice; a shelling word of its own ("the guerrillas used
        # mortars ..., whereas the army dispatched planes to bombard") is a second attack.
        kinds = [k for k in kinds if k[0] != EventType.SHELLING or not re.search(r"\bbombard", k[1].group(0), re.I)]
    if EventType.MISSILE_ATTACK in types and EventType.SHELLING in types:
        # "fired artillery and rockets" / "missile and artillery": ACLED codes one event.
        kinds = [k for k in kinds if k[0] != EventType.MISSILE_ATTACK]
    return kinds


def not_a_strike(text: str) -> str | None:
    """The class of non-strike event a sentence reports (chemical weapon, weapons found,
    interception, exercise or test, sanctions), or None."""
    for cls, pattern, unless, after, before in lexicon.NOT_STRIKES:
        if unless and unless.search(text):
            continue
        for m in pattern.finditer(text):
            if after and after.match(text, m.end()):
                continue
            if before and before.search(text[max(0, m.start() - 80) : m.start()]):
                continue
            return cls
    return None


def strike_words(text: str) -> list[tuple[EventType, re.Match]]:
    """The first match of each strike type's patterns in one sentence, strongest type first."""
    kinds = []
    for et in STRIKE_PRIORITY:
        for r in lexicon.TRIGGER_RES[et.value]:
            m = r.search(text)
            if m:
                kinds.append((et, m))
                break
    return kinds


def broad_words(text: str, found: set[EventType]) -> list[tuple[EventType, re.Match]]:
    """First broad-pattern match of each strike type not in ``found`` ("warplanes destroyed ...")."""
    out = []
    for et in STRIKE_PRIORITY:
        if et in found:
            continue
        for r in lexicon.BROAD_TRIGGER_RES.get(et.value, ()):
            m = r.search(text)
            if m:
                out.append((et, m))
                break
    return out


# "Israel struck ...", "the IDF pounded ...", "US forces conducted a strike against ...":
# a strike verb whose agent is an armed actor, with no platform or weapon word. Alone
# these verbs are mostly other things ("struck a deal", "a labour strike"), so the agent
# must be an actor of the gazetteer, a state's forces or a country named right before the
# verb, and the trigger is broad (the relevance model decides).
_AGENT_VERB_RE = re.compile(
    r"\b(?:(?:struck|pounded|bombarded)\b(?!\s+(?:down|off|out|back|up|gold|oil)\b)"
    r"(?!\s+(?:\w+\s+){0,2}?(?:deals?|agreements?|accords?|chords?|notes?|tones?|balance|blows?|poses?|"
    r"bargains?|compromises?|"
    r"partnerships?|truces?|ceasefires?|alliances?|pacts?|fear|terror|gold|lucky)\b)"
    r"|(?:conducted|carried out|launched|mounted)\s+(?:\w+\s+){0,3}?strikes?\b(?!\s+(?:action|ballot|pay)))",
    re.I,
)
# Characters before the verb where its agent may stand ("the IDF said it struck"; "US forces
# on Tuesday conducted"): 40, the longest actor-to-verb gap in the dev sets' agent strikes.
AGENT_WINDOW_CHARS = 40
_COUNTRY_BEFORE_RE = re.compile(
    r"(?:^|[\s(])((?:[A-Z][\w.'-]*\s){0,2}[A-Z][\w.'-]*)\s+(?:(?:has|have|had|also|then|reportedly|again|itself)\s+)?$"
)


def agent_strikes(text: str) -> list[tuple[EventType, re.Match]]:
    """The first strike verb of a sentence whose agent is an armed actor (an air strike,
    broad)."""
    t = actor_table()
    for m in _AGENT_VERB_RE.finditer(text):
        before = text[max(0, m.start() - AGENT_WINDOW_CHARS) : m.start()]
        if t.actor_re.search(before) or t.force_re.search(before):
            return [(EventType.AIR_STRIKE, m)]
        c = _COUNTRY_BEFORE_RE.search(before)
        if c and _geo.is_country(c.group(1)):
            return [(EventType.AIR_STRIKE, m)]
    return []


def linguistic_modality(sent: Span, trig_start: int, trig_end: int, parsed: bool = True) -> Modality:
    """Modality of the trigger at [trig_start, trig_end) (relative to the sentence)."""
    text = sent.text
    before = text[:trig_start]
    if lexicon.DENIAL_RE.search(text[max(0, trig_start - 80) : trig_end + 40]):
        return Modality.DENIED
    tok = next((tk for tk in sent if tk.idx - sent.start_char >= trig_start), None)
    if tok is not None and parsed:
        head = tok
        for _ in range(3):
            if head.pos_ in ("VERB", "AUX") or head.head is head:
                break
            head = head.head
        if any(c.dep_ == "neg" for c in head.children):
            return Modality.NEGATED
        if any(c.dep_ == "aux" and c.lower_ in _MODAL_AUX for c in head.children):
            return Modality.HYPOTHETICAL
    if _IF_CLAUSE.search(before) or re.match(r"\s*If\b", text) or _DEMAND.search(before):
        return Modality.HYPOTHETICAL
    if lexicon.THREAT_RE.search(text[max(0, trig_start - 60) : trig_start]):
        return Modality.THREATENED
    if _PLANS.search(before) and not _CARRIED_OUT.search(text):
        return Modality.HYPOTHETICAL
    if _PAST_WORDING.search(text):
        return Modality.HISTORICAL
    return Modality.ASSERTED


class TriggerFinder:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        # An exchange of fire anywhere in the text makes its ground fire a clash. Doc scope,
        # measured against sentence scope on ACLED dev: precision 0.949 vs 0.915 (case2021
        # recall 0.77 vs 0.79). Searched once per doc: linear in long texts.
        clash = bool(lexicon.CLASH_RE.search(doc_text(doc)))
        for sent in sentences(doc):
            base = sent.start_char
            if not has_gate_hit(doc, base, sent.end_char):
                continue  # no gate term, no trigger: 60 % of a candidate article's sentences (context kept by the gate)
            words = strike_words(sent.text)
            broad = broad_words(sent.text, {et for et, _m in words})
            if not words and not broad:
                broad = agent_strikes(sent.text)
            for et, m in filter_kinds(words + broad, sent.text, clash):
                span = char_span(doc, base + m.start(), base + m.end(), label=et.value)
                if span is not None and any(m is b for _e, b in broad):
                    span.id_ = BROAD
                spans.append(span)
            if not words and not broad:
                m = lexicon.WEAK_STRIKE_RE.search(sent.text)
                if m:
                    spans.append(char_span(doc, base + m.start(), base + m.end(), label=REFERENCE))
        set_group(doc, Keys.TRIGGERS, spans)
        return doc


class ModalityTagger:
    def __init__(self, nlp: Language, name: str):
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        parsed = doc.has_annotation("DEP")
        for span in doc.spans.get(Keys.TRIGGERS, []):
            sent = sentence_of(doc, span)
            span._.sw_modality = linguistic_modality(
                sent, span.start_char - sent.start_char, span.end_char - sent.start_char, parsed
            )
        return doc


@Language.factory("strike_triggers", assigns=["doc.spans"])
def make_trigger_finder(nlp: Language, name: str) -> TriggerFinder:
    return TriggerFinder(nlp, name)


@Language.factory("strike_modality", assigns=["span._.sw_modality"], requires=["doc.spans"])
def make_modality_tagger(nlp: Language, name: str) -> ModalityTagger:
    return ModalityTagger(nlp, name)
