"""Who struck whom, decided over the whole document: the entity ranker (``roles-2``).

The candidates of a strike trigger are every party the document names, not only those of
the trigger's sentence: news names an attacker once ("the FMLN", "the air force") and then
reports its strikes in sentences that do not ("They fired mortars at ..."). So:

1. **Mentions** (``mentions``): the gazetteer actors (``strike_actors``), the phrases the
   dependency rules give any trigger a role (``strike_roles``), and the noun chunks whose
   head names a party or a struck thing (``party_heads.tsv``, the role rules' civilian and
   object heads, the target-type words) or is a named entity (ORG, NORP, PERSON, a country).
2. **Entities** (``entities``): mentions grouped by normalised name ("Russian forces" and
   "Russia's army" are Russia; "the guerrillas" and "guerrillas" one; "Maduro" joins
   "President Nicolas Maduro"). Coreference by name only: a pronoun or "the militants"
   is its own entity, and that the document names one armed group is a feature.
3. **Rows** (``rows``): one per (trigger, entity), ``ROLE_FEATURES``: what the dependency
   rules say of this trigger (its attacker, target, bystander; the nearest actor before
   it; a "by" agent), how far the entity is named from the trigger (same sentence,
   sentences away, before or after), what the document says of it elsewhere (an attacker
   or a target of its other triggers, a speaker, how often and how early it is named,
   the only armed group or state named), and what it is (gazetteer type, entity label,
   head kind, target type, a count, a place, a weapon).
4. **Decision** (``decide``): the attacker is the entity that wins a softmax over the
   candidates and "none" (trained so; ``RoleModel`` row 0), over its threshold; targets
   are the entities named within the trigger's sentence and the next
   ``TARGET_WINDOW_SENTENCES`` whose target probability (row 1, a logistic regression)
   reaches its threshold. Never a junk phrase (``model.is_junk``: a verb phrase, a weapon,
   a count).

5. **Use** (``ranked_roles``): ``strike_parties`` with ``decide="fill"`` (the default)
   keeps the rules' roles and adds the ranker's as fallbacks, which the assembly takes
   only for an event with no attacker or no target; ``decide="rank"`` lets it decide all.

Fit and scored by ``python -m pipeline.extraction.tools.rank_eval --save`` (out of fold
and leave-one-dataset-out, per source, against the rules on the same parses) on
news_dev's human role annotations, ACLED actor1/actor2 and news2_dev's coded perpetrators
and sectors (labels: ``tools/roles.entity_labeller``); numpy only at run time. The model
file is ``models/roles-2.npz``, its card (with those scores) ``models/roles-2.json``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
from spacy.tokens import Doc, Span, Token

from strikewatch.core.models import Actor

from ...casing import unwrap
from ...components import _geo
from ...components.base import Keys, SpanIndex, doc_text, sentences, text_span
from ...gate import sentence_bounds
from ..triggers.component import REFERENCE
from . import roles
from .actors import gazetteer_actors
from .heads import head_kinds
from .model import is_junk
from .targets import PRIORITY as TARGET_TYPES
from .targets import target_type
from .targets import vocabulary as target_words

MODEL_VERSION = "roles-2"  # ROLE_FEATURES are its columns: change them, retrain
# Sentences after a trigger's own where its targets may still be named ("As a result, two
# houses were destroyed"): the assembly's continuation window (assemble.CONTINUATION_SENTENCES).
TARGET_WINDOW_SENTENCES = 3
# Most entities scored per trigger (nearest first): a 30,000-character passage set names
# ~150; the attackers annotated in news_dev are all within the nearest 25.
MAX_CANDIDATES = 40
# Words before a name that make it a target ("airstrikes on X"), or an agent ("by X").
_TARGET_PREP_BEFORE = re.compile(r"\b(?:against|on|targeting|at|into)\s+(?:\S+\s+){0,4}$", re.I)
_BY_BEFORE = re.compile(r"\b(?:by|from)\s+(?:\S+\s+){0,4}$", re.I)
_USED_BY_BEFORE = re.compile(
    r"\b(?:used|owned|operated|controlled|run|held|backed|supported|reported|built|made)\s+(?:\w+\s+)?by\s+"
    r"(?:\S+\s+){0,4}$",
    re.I,
)
_DETERMINERS = frozenset("the a an this that these those its their his her our some several".split())
_PARTY_TYPES = ("state_military", "militia_proxy", "rebel", "terrorist", "government")
_ARMED_TYPES = frozenset({"militia_proxy", "rebel", "terrorist"})
_ACTOR_TYPES = ("state_military", "militia_proxy", "rebel", "terrorist", "government", "civilians", "object", "unknown")
_HEAD_KINDS = ("force", "armed", "person", "official")
_ENTS = ("ORG", "NORP", "GPE", "PERSON", "FAC", "LOC")
_DEPS = ("nsubj", "nsubjpass", "dobj", "pobj", "poss", "compound", "amod", "conj", "appos")
_SENT_DIST = ("0", "1", "2", "3-5", "6+")
ROLE_FEATURES = (
    # what the dependency rules and the assembly's position heuristic say of this trigger
    "rule_attacker",
    "rule_target",
    "rule_bystander",
    "victim_near",
    "nearest_actor_before",
    "by_after",
    "target_prep_before",
    # where it is named, relative to the trigger
    *(f"sent_dist={d}" for d in _SENT_DIST),
    "named_before_trigger",
    "log_token_distance",
    "in_lead_clause",
    *(f"dep={d}" for d in _DEPS),
    # what the document says of it elsewhere
    "rule_attacker_elsewhere",
    "rule_target_elsewhere",
    "bystander_anywhere",
    "speaker",
    "log_mentions",
    "in_lead",
    "first_position",
    "only_armed_group",
    "only_state",
    "generic_with_one_group",
    "one_party",
    # what it is
    *(f"actor={t}" for t in _ACTOR_TYPES),
    "gazetteer",
    "country_forces",
    "country_is_place",
    *(f"ent={e}" for e in _ENTS),
    *(f"head={k}" for k in _HEAD_KINDS),
    "pronoun",
    "proper",
    "civilian_head",
    "object_head",
    *(f"target_type={t}" for t in TARGET_TYPES),
    "count",
    "place",
    "weapon",
    "time",
    "log_words",
)
_F = {name: i for i, name in enumerate(ROLE_FEATURES)}


@dataclass
class Mention:
    start: int  # characters in doc.text
    end: int
    head: Token | None  # None: a gazetteer name outside the passages spaCy read (no parse)
    actor: Actor
    sent: int  # sentence index (``article_sentences``)


@dataclass
class Entity:
    key: str
    actor: Actor  # the representative Actor (the most specific of its mentions'), mentions = every mention
    mentions: list[Mention] = field(default_factory=list)
    kind: str = ""  # party_heads kind of a mention's head ("force", "armed", ...)
    ent: str = ""  # named-entity label of a mention's head


@dataclass
class DocParties:
    """What the ranker knows of one doc: its sentences, entities and the rules' roles."""

    sent_starts: list[int]
    entities: list[Entity]
    rule_roles: dict[str, dict[int, str]]  # trigger start char -> {head token index: role}
    victims: set[int]  # head tokens of victims of sentences with no trigger
    speakers: set[int]  # head tokens that are the subject of a reporting verb
    place_countries: set[str]
    index: dict[str, SpanIndex]


def _singular(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def entity_key(actor: Actor) -> str:
    """The name an entity is grouped by: a gazetteer actor's or state's canonical name,
    else its words folded (case, determiners, plurals, possessives)."""
    if actor.type in _PARTY_TYPES and (actor.country or actor.type != "unknown") and actor.name[:1].isupper():
        return actor.name.lower()
    words = re.sub(r"['’]s\b", "", actor.name.lower()).replace("-", " ").split()
    words = [_singular(re.sub(r"[^\w]", "", w)) for w in words if w not in _DETERMINERS]
    return " ".join(w for w in words if w) or actor.name.lower()


def _candidate_head(tok: Token) -> bool:
    low = tok.lower_
    if tok.pos_ == "PRON":
        return low in roles.GROUP_PRONOUNS
    if tok.pos_ not in ("NOUN", "PROPN"):
        return False
    if low in head_kinds() or low in roles._CIVILIAN_HEADS or low in roles._OBJECT_HEADS or low in target_words():
        return True
    if tok.ent_type_ in ("ORG", "NORP", "PERSON", "FAC"):
        return True
    return tok.ent_type_ == "GPE" and _geo.is_country(tok.text)


def _sent_index(starts: list[int], char: int) -> int:
    return max(0, bisect_right(starts, char) - 1)


def article_text(doc: Doc) -> str:
    """The whole article as written: ``make_doc`` keeps it (``sw_article``) beside the text
    spaCy read, whose passages the relevance gate chose (the rest blanked)."""
    return doc.user_data.get("sw_article") or doc_text(doc)


def article_sentences(text: str) -> list[int]:
    """Start characters of the article's sentences, by the gate's cheap splitter: one
    numbering for parsed passages and blanked text alike (distances in sentences)."""
    return [s for s, _e in sentence_bounds(unwrap(text))] or [0]


def _more_specific(a: Actor, b: Actor) -> Actor:
    """The Actor that says more: a gazetteer or state actor over words, then the longer name."""
    ra, rb = (a.type in _PARTY_TYPES) * 2 + (a.type != "unknown"), (b.type in _PARTY_TYPES) * 2 + (b.type != "unknown")
    if ra != rb:
        return a if ra > rb else b
    return a if len(a.name) >= len(b.name) else b


def doc_parties(doc: Doc) -> DocParties:
    """Every mention of a party or struck thing in a parsed doc, grouped into entities."""
    index = {
        k: SpanIndex(doc.spans[k]) if k in doc.spans else SpanIndex([])
        for k in (Keys.ACTORS, Keys.WEAPONS, Keys.PLACES, Keys.TIMES, Keys.ATTRIBUTIONS)
    }
    sents = sentences(doc)
    written = article_text(doc)
    starts = article_sentences(written)
    known = index[Keys.ACTORS]
    found: dict[int, Mention] = {}

    def add(head: Token, start: int, end: int, actor: Actor) -> None:
        prev = found.get(head.i)
        if prev is None:
            found[head.i] = Mention(start, end, head, actor, _sent_index(starts, head.idx))
        elif _more_specific(actor, prev.actor) is actor and actor is not prev.actor:
            found[head.i] = Mention(start, end, head, actor, prev.sent)

    rule_roles: dict[str, dict[int, str]] = {}
    victims: set[int] = set()
    for s in doc.spans.get(Keys.ROLE_RULES, []):
        if s.label_ == roles.VICTIM:
            victims.add(s.root.i)
        else:
            rule_roles.setdefault(s.id_, {})[s.root.i] = s.label_
        if s._.sw_actor is not None:
            add(s.root, s.start_char, s.end_char, s._.sw_actor)
    for s in known.spans:
        if s._.sw_actor is not None:
            add(s.root, s.start_char, s.end_char, s._.sw_actor)
    text = doc_text(doc)
    for sent in sents:
        if not text[sent.start_char : sent.end_char].strip():
            continue
        for tok in sent:
            if tok.i in found or not _candidate_head(tok) or (tok.dep_ in ("compound", "amod") and tok.pos_ != "PROPN"):
                continue
            if tok.ent_type_ and tok.ent_iob_ == "I" and tok.i + 1 < len(doc) and doc[tok.i + 1].ent_iob_ == "I":
                continue  # inside a name: its last token heads it
            s, e, name = roles.phrases(tok)[0]
            add(tok, s, e, roles.party_actor(doc, s, e, name, known, tok))
    # Names the gate left unparsed ("THE SHINING PATH" three paragraphs before "they fired"):
    # the gazetteer's, by name, with no parse.
    parsed = doc_text(doc)
    for a in gazetteer_actors(written):
        m = a.mentions[0]
        if not parsed[m.start : m.end].strip():
            mention = Mention(m.start, m.end, None, a, _sent_index(starts, m.start))
            found[-1 - len(found)] = mention
    speakers = {
        c.i
        for t in doc
        if t.pos_ == "VERB" and roles._is_verb(t, roles._REPORT_VERBS)
        for c in t.children
        if c.dep_ in ("nsubj",)
    }
    places = {
        p._.sw_place.country_code
        for p in index[Keys.PLACES].spans
        if p._.sw_place is not None and p._.sw_place.country_code
    }
    return DocParties(starts, group(list(found.values()), written), rule_roles, victims, speakers, places, index)


def group(mentions: list[Mention], text: str) -> list[Entity]:
    """Mentions -> entities by ``entity_key``; a proper name contained in a longer one with
    the same last word joins it ("Maduro" -> "President Nicolas Maduro")."""
    by: dict[str, Entity] = {}
    for m in sorted(mentions, key=lambda m: m.start):
        k = entity_key(m.actor)
        e = by.get(k)
        if e is None:
            by[k] = Entity(k, m.actor, [m])
        else:
            e.mentions.append(m)
            e.actor = _more_specific(e.actor, m.actor)
    keys = sorted(by, key=lambda k: -len(k.split()))
    for short in list(by):
        words = short.split()
        if short not in by or not _proper(by[short]):
            continue
        for long_ in keys:
            if (
                long_ != short
                and long_ in by
                and len(long_.split()) > len(words)
                and long_.split()[-1] == words[-1]
                and set(words) <= set(long_.split())
                and _proper(by[long_])
            ):
                by[long_].mentions = sorted(by[long_].mentions + by.pop(short).mentions, key=lambda m: m.start)
                break
    out = list(by.values())
    for e in out:
        kinds = [head_kinds().get(m.head.lower_) for m in e.mentions if m.head is not None]
        e.kind = next((k for k in kinds if k), "")
        e.ent = next((m.head.ent_type_ for m in e.mentions if m.head is not None and m.head.ent_type_), "")
        e.actor = e.actor.model_copy(update={"mentions": [text_span(text, m.start, m.end) for m in e.mentions]})
    return out


def _proper(e: Entity) -> bool:
    return any(m.head is not None and m.head.pos_ == "PROPN" for m in e.mentions)


def strike_triggers(doc: Doc) -> list[Span]:
    return [t for t in doc.spans.get(Keys.TRIGGERS, []) if t.label_ != REFERENCE]


def _covers(index: SpanIndex, char: int) -> bool:
    return any(s.start_char <= char < s.end_char for s in index.within(max(0, char - 60), char + 1))


def nearest_mention(e: Entity, trig: Span, parsed: bool = False) -> Mention:
    """The mention of ``e`` nearest the trigger, one in its sentence first (``parsed``: one
    spaCy read, when there is one)."""
    ms = [m for m in e.mentions if m.head is not None] if parsed else []
    return min(
        ms or e.mentions, key=lambda m: (m.head is None or m.head.sent != trig.sent, abs(m.start - trig.start_char))
    )


def candidates(parties: DocParties, trig: Span) -> list[Entity]:
    """The entities scored for one trigger: every party the gazetteer or a country names,
    and the others nearest first up to ``MAX_CANDIDATES`` in all."""

    def dist(e: Entity) -> int:
        return min(abs(m.start - trig.start_char) for m in e.mentions)

    named = [e for e in parties.entities if e.actor.type in _PARTY_TYPES and e.actor.type != "unknown"]
    rest = sorted((e for e in parties.entities if e not in named), key=dist)
    return sorted(named + rest[: max(0, MAX_CANDIDATES - len(named))], key=dist)


def in_target_window(parties: DocParties, trig: Span, e: Entity) -> bool:
    """Is ``e`` named in the trigger's sentence or the ``TARGET_WINDOW_SENTENCES`` after it?"""
    t = _sent_index(parties.sent_starts, trig.start_char)
    return any(0 <= m.sent - t <= TARGET_WINDOW_SENTENCES for m in e.mentions)


def features(doc: Doc, parties: DocParties, trig: Span, cands: list[Entity]) -> np.ndarray:
    """One row of ``ROLE_FEATURES`` per candidate entity of one trigger."""
    x = np.zeros((len(cands), len(ROLE_FEATURES)), dtype=np.float32)
    if not cands:
        return x
    text = doc_text(doc)
    written = article_text(doc)
    t_sent = _sent_index(parties.sent_starts, trig.start_char)
    mine = parties.rule_roles.get(str(trig.start_char), {})
    elsewhere_att: dict[int, int] = {}
    elsewhere_tgt: dict[int, int] = {}
    bystanders: set[int] = set()
    for tid, heads in parties.rule_roles.items():
        for h, role in heads.items():
            if role == roles.BYSTANDER:
                bystanders.add(h)
            elif tid != str(trig.start_char):
                d = elsewhere_att if role == "attacker" else elsewhere_tgt
                d[h] = d.get(h, 0) + 1
    sent = trig.sent
    lead_end = next((t.i for t in sent if t.i > trig.root.i and t.dep_ == "punct" and t.text in ",;"), sent.end)
    before_actors = [
        s
        for s in parties.index[Keys.ACTORS].within(sent.start_char, trig.start_char)
        if s.end_char <= trig.start_char
        and s._.sw_actor is not None
        and s._.sw_actor.type != "unknown"
        and not _TARGET_PREP_BEFORE.search(text[sent.start_char : s.start_char])
    ]
    nearest_before = before_actors[-1].start_char if before_actors else -1  # the assembly's positional attacker
    armed = [e for e in parties.entities if e.actor.type in _ARMED_TYPES]
    states = [e for e in parties.entities if e.actor.type == "state_military"]
    typed = [e for e in parties.entities if e.actor.type in _PARTY_TYPES]
    n_sents = max(1, len(parties.sent_starts))
    idx = parties.index
    for r, e in enumerate(cands):
        f = x[r]
        heads = {m.head.i for m in e.mentions if m.head is not None}
        near = nearest_mention(e, trig)
        h = near.head
        same = h is not None and h.sent == sent
        f[_F["rule_attacker"]] = any(mine.get(i) == "attacker" for i in heads)
        f[_F["rule_target"]] = any(mine.get(i) == "target" for i in heads)
        f[_F["rule_bystander"]] = any(mine.get(i) == roles.BYSTANDER for i in heads)
        f[_F["victim_near"]] = any(
            m.head is not None and m.head.i in parties.victims and 0 <= m.sent - t_sent <= TARGET_WINDOW_SENTENCES
            for m in e.mentions
        )
        f[_F["nearest_actor_before"]] = any(m.start <= nearest_before < m.end for m in e.mentions)
        if same:
            before = text[sent.start_char : near.start]
            if h.i >= trig.end and near.start - trig.end_char < 60:
                f[_F["by_after"]] = bool(_BY_BEFORE.search(before)) and not _USED_BY_BEFORE.search(before)
            f[_F["target_prep_before"]] = bool(_TARGET_PREP_BEFORE.search(before))
            f[_F["log_token_distance"]] = math.log1p(abs(h.i - trig.root.i))
            f[_F["in_lead_clause"]] = (h.i < lead_end) == (trig.start < lead_end)
            if h.dep_ in _DEPS:
                f[_F[f"dep={h.dep_}"]] = 1
        else:
            f[_F["log_token_distance"]] = math.log1p(60)
        d = min(abs(m.sent - t_sent) for m in e.mentions)
        f[_F["sent_dist=" + ("0" if d == 0 else "1" if d == 1 else "2" if d == 2 else "3-5" if d <= 5 else "6+")]] = 1
        f[_F["named_before_trigger"]] = near.start < trig.start_char
        f[_F["rule_attacker_elsewhere"]] = math.log1p(sum(elsewhere_att.get(i, 0) for i in heads))
        f[_F["rule_target_elsewhere"]] = math.log1p(sum(elsewhere_tgt.get(i, 0) for i in heads))
        f[_F["bystander_anywhere"]] = bool(heads & bystanders)
        f[_F["speaker"]] = bool(heads & parties.speakers) or any(
            _covers(idx[Keys.ATTRIBUTIONS], m.start) for m in e.mentions
        )
        f[_F["log_mentions"]] = math.log1p(len(e.mentions))
        first = min(m.sent for m in e.mentions)
        f[_F["in_lead"]] = first <= 2
        f[_F["first_position"]] = first / n_sents
        f[_F["only_armed_group"]] = len(armed) == 1 and armed[0] is e
        f[_F["only_state"]] = len(states) == 1 and states[0] is e
        f[_F["generic_with_one_group"]] = len(armed) == 1 and e.kind == "armed" and e.actor.type == "unknown"
        f[_F["one_party"]] = len(typed) == 1 and typed[0] is e
        a = e.actor
        f[_F[f"actor={a.type}"]] = 1
        f[_F["gazetteer"]] = any(m.head is None or _covers(idx[Keys.ACTORS], m.start) for m in e.mentions)
        f[_F["country_forces"]] = a.type == "state_military" and a.country is not None
        f[_F["country_is_place"]] = a.country is not None and a.country in parties.place_countries
        if e.ent in _ENTS:
            f[_F[f"ent={e.ent}"]] = 1
        if e.kind:
            f[_F[f"head={e.kind}"]] = 1
        if h is not None:
            f[_F["pronoun"]] = h.pos_ == "PRON"
            f[_F["proper"]] = h.pos_ == "PROPN"
            f[_F["civilian_head"]] = h.lower_ in roles._CIVILIAN_HEADS
            f[_F["object_head"]] = h.lower_ in roles._OBJECT_HEADS
            f[_F["count"]] = any(t.like_num for t in doc[h.left_edge.i : h.i + 1])
            f[_F["place"]] = _covers(idx[Keys.PLACES], h.idx)
            f[_F["weapon"]] = _covers(idx[Keys.WEAPONS], h.idx)
            f[_F["time"]] = _covers(idx[Keys.TIMES], h.idx)
        else:
            f[_F["proper"]] = 1
        if a.type not in _PARTY_TYPES:
            f[_F[f"target_type={target_type(written[near.start : near.end])}"]] = 1
        f[_F["log_words"]] = math.log1p(len(a.name.split()))
    return x


def junk_flags(doc: Doc, parties: DocParties, trig: Span, cands: list[Entity]) -> list[bool]:
    """A candidate that can be no role: its phrase nearest the trigger is junk (``is_junk``)."""
    out = []
    for e in cands:
        m = nearest_mention(e, trig, parsed=True)
        if m.head is None:
            out.append(False)  # a gazetteer name
            continue
        span = doc.char_span(m.start, m.end, alignment_mode="expand")
        out.append(span is None or is_junk(span, parties.index[Keys.WEAPONS], parties.index[Keys.ACTORS]))
    return out


def rank_rows(doc: Doc) -> list[tuple[Span, list[Entity], np.ndarray, list[bool], list[bool]]]:
    """(trigger, candidate entities, feature rows, junk flags, in target window) of every
    strike trigger of a doc: what the model scores and ``strikewatch train`` learns from."""
    trigs = strike_triggers(doc)
    if not trigs or not doc.has_annotation("DEP"):
        return []
    parties = doc_parties(doc)
    out = []
    for trig in trigs:
        cands = candidates(parties, trig)
        out.append(
            (
                trig,
                cands,
                features(doc, parties, trig, cands),
                junk_flags(doc, parties, trig, cands),
                [in_target_window(parties, trig, e) for e in cands],
            )
        )
    return out


def decide(
    cands: list[Entity], p: np.ndarray, thresholds: tuple[float, float], junk: list[bool], window: list[bool]
) -> tuple[list[int], list[int]]:
    """(attacker candidate indices, best first; target candidate indices) from the model's
    scores ``p`` (n, 2): the attacker the best non-junk candidate whose score reaches its
    threshold; targets every non-junk candidate of the target window over its threshold
    that is not the attacker."""
    ok = [i for i in range(len(cands)) if not junk[i]]
    att = []
    if ok:
        best = max(ok, key=lambda i: p[i, 0])
        if p[best, 0] >= thresholds[0]:
            att = [best]
    tgt = [i for i in ok if window[i] and p[i, 1] >= thresholds[1] and i not in att]
    return att, tgt


def role_span(doc: Doc, e: Entity, trig: Span, role: str, on_trigger: bool = True) -> Span | None:
    """The span a chosen entity is written as: its mention nearest the trigger, labelled by
    the role, ``span_id`` the trigger's start character, ``_.sw_actor`` the entity's Actor
    with that mention first. A name outside the trigger's sentence (or unparsed) is written
    on the trigger (``on_trigger``; else None): the assembly reads a trigger's roles within
    its sentence (assemble/mentions.py).

    spaCy keys a span's ``_`` values by its characters alone, so the Actor written here is
    also the one of any span with the same characters (the gazetteer's ``sw_actors`` span
    of that name): the mention it stands on comes first in it, where the assembly reads
    an actor's position, and at most one span (the attacker) is written on a trigger."""
    m = nearest_mention(e, trig, parsed=True)
    inside = m.head is not None and m.head.sent == trig.sent
    if not inside and not on_trigger:
        return None
    s, e_ = (m.start, m.end) if inside else (trig.start_char, trig.end_char)
    span = doc.char_span(s, e_, label=role, alignment_mode="expand", span_id=str(trig.start_char))
    if span is not None:
        i = e.mentions.index(m)
        mentions = list(e.actor.mentions)
        if i < len(mentions):
            mentions.insert(0, mentions.pop(i))
        span._.sw_actor = e.actor.model_copy(update={"mentions": mentions})
    return span


def ranked_roles(
    doc: Doc, blocks: list, probs: list[np.ndarray], thresholds: tuple[float, float], mode: str, rule_spans: list[Span]
) -> list[Span]:
    """The role spans of a doc given the ranker's scores (``probs``: one (n, 2) array per
    block of ``rank_rows``). ``mode="rank"``: the ranker decides every attacker and target
    (the rules' bystanders and victims kept); ``"fill"``: the rules' roles (``rule_spans``)
    stand and the ranker's choices join them as fallbacks (``FALLBACK_ATTACKER``,
    ``FALLBACK_TARGET``), which the assembly takes only for a trigger whose rules and
    positional heuristic leave the role empty (``assemble/mentions.sentence_roles``)."""
    fill = mode == "fill"
    out = list(rule_spans) if fill else [s for s in rule_spans if s.label_ in (roles.BYSTANDER, roles.VICTIM)]
    for (trig, cands, x, junk, window), p in zip(blocks, probs):
        if fill:
            # A guess is never a party that only speaks of the strike or reacts to it ("The
            # ELN said the drone attack was a provocation"): the rules' bystander semantics.
            junk = [
                j or bool(x[i, _F["speaker"]] or x[i, _F["rule_bystander"]] or x[i, _F["bystander_anywhere"]])
                for i, j in enumerate(junk)
            ]
        att, tgt = decide(cands, p, thresholds, junk, window)
        for role, picked in (("attacker", att), ("target", tgt)):
            label = {"attacker": roles.FALLBACK_ATTACKER, "target": roles.FALLBACK_TARGET}[role] if fill else role
            for k in picked:
                span = role_span(doc, cands[k], trig, label, on_trigger=role == "attacker")
                if span is not None:
                    out.append(span)
    return out
