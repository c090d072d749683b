"""The learned choice of a strike's attacker and targets among candidate phrases.

For each strike trigger, the candidates are the phrases of its sentence that could name a
party: the gazetteer actors, the noun chunks, the victims of harm verbs and the phrases the
dependency rules (``roles.arguments``) pick. Each (trigger, candidate) pair is a row of
features (``ROLE_FEATURES``, then the spaCy tok2vec vector of the candidate's head and its
product with the trigger's):

* what the rules say: the rules' attacker, target or bystander of this trigger, a victim;
* where it stands: before or after the trigger, token distance, tree distance, its
  dependency label and governing preposition, the voice of the strike verb;
* what it is: gazetteer actor type, named-entity label, a country or its forces, civilian
  or object head words, a place, a time, a count, a pronoun.

Two logistic regressions (attacker, target) score every row; ``decide`` keeps the best
attacker over its threshold and every target over its own, never a junk phrase
(``is_junk``: a verb phrase, a weapon, a count, a date). The model is trained by
``strikewatch train`` (``pipeline.extraction.tools.train``) on human role annotations
(news_dev) and labels projected from coded fields (ACLED actor1/actor2, news2_dev's coded
perpetrators and target sectors) and ships as ``models/roles-<version>.npz`` with a JSON
card; numpy only at run time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from spacy.tokens import Doc, Span, Token

from strikewatch.core.models import Actor

from ...components.base import Keys, SpanIndex, doc_text, sentence_of
from . import roles
from .targets import target_type

MODEL_DIR = Path(__file__).with_name("models")
MODEL_VERSION = "roles-1"  # the features below are its columns: change them, retrain
# tok2vec width of the small English model (en_core_web_sm): the head-vector block.
VECTOR_DIM = 96
_DEPS = (
    "nsubj",
    "nsubjpass",
    "dobj",
    "pobj",
    "poss",
    "compound",
    "amod",
    "conj",
    "appos",
    "attr",
    "npadvmod",
    "ROOT",
    "nmod",
)
_PREPS = ("by", "on", "against", "at", "in", "from", "with", "of", "near", "into", "targeting", "during")
_ENTS = ("NORP", "GPE", "ORG", "PERSON", "LOC", "FAC", "DATE", "TIME", "CARDINAL")
_ACTOR_TYPES = ("state_military", "militia_proxy", "rebel", "terrorist", "civilians", "object", "government", "unknown")
ROLE_FEATURES = (
    "rule_attacker",
    "rule_target",
    "rule_bystander",
    "victim",
    "rule_other_trigger",
    "before",
    "log_token_distance",
    "log_tree_distance",
    "same_clause",
    "passive",
    "is_trigger_child",
    *(f"dep={d}" for d in _DEPS),
    *(f"prep={p}" for p in _PREPS),
    *(f"ent={e}" for e in _ENTS),
    *(f"actor={t}" for t in _ACTOR_TYPES),
    "gazetteer",
    "country",
    "place",
    "time",
    "weapon",
    "count",
    "pronoun",
    "proper",
    "log_tokens",
    "in_lead_clause",
    "nearest_actor_before",
    *(
        f"target_type={t}"
        for t in ("residential", "health", "education", "energy", "water", "military", "vehicle", "people", "other")
    ),
)
_LOCK_FREE = True  # the model is read-only after load: shared by threads


@dataclass
class Candidate:
    """One phrase that could name a party of one trigger."""

    start: int  # characters in doc.text
    end: int
    head: Token
    actor: Actor
    rule: str = ""  # the rules' role for this trigger: attacker | target | bystander | victim | ""


@dataclass(frozen=True)
class RoleModel:
    version: str
    weights: np.ndarray  # (2, dim): attacker, target
    bias: np.ndarray  # (2,)
    mean: np.ndarray  # standardisation of every column
    scale: np.ndarray
    thresholds: tuple[float, float]  # attacker, target
    card: dict

    def predict(self, x: np.ndarray) -> np.ndarray:
        """(n, 2) probabilities: attacker, target."""
        if not len(x):
            return np.zeros((0, 2), dtype=np.float32)
        z = (x - self.mean) / self.scale
        return 1.0 / (1.0 + np.exp(-(z @ self.weights.T + self.bias)))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path,
            weights=self.weights.astype(np.float32),
            bias=self.bias.astype(np.float32),
            mean=self.mean.astype(np.float32),
            scale=self.scale.astype(np.float32),
            thresholds=np.asarray(self.thresholds, dtype=np.float64),
        )
        path.with_suffix(".json").write_text(
            json.dumps({"version": self.version, **self.card}, indent=2, sort_keys=True) + "\n"
        )

    @classmethod
    def load(cls, path: Path) -> RoleModel:
        z = np.load(path)
        card = json.loads(path.with_suffix(".json").read_text()) if path.with_suffix(".json").exists() else {}
        return cls(
            card.pop("version", path.stem),
            z["weights"].astype(np.float32),
            z["bias"].astype(np.float32),
            z["mean"].astype(np.float32),
            z["scale"].astype(np.float32),
            tuple(float(t) for t in z["thresholds"]),
            card,
        )


def model_path(version: str = MODEL_VERSION) -> Path:
    return MODEL_DIR / f"{version}.npz"


@lru_cache(maxsize=4)
def load_model(version: str = MODEL_VERSION) -> RoleModel | None:
    path = model_path(version)
    return RoleModel.load(path) if path.exists() else None


# --------------------------------------------------------------------------- junk


# Heads that never name a party or a struck thing, beyond roles._NOT_PARTY.
_NO_ROLE_HEADS = frozenset(
    "details detail report reports information news footage video videos images statement statements "
    "round rounds shell shells munition munitions projectile projectiles damage damages wave waves "
    "barrage barrages salvo salvos volley volleys".split()
)


# Third-person verb forms the parser reads as nouns before a noun ("damages buildings").
_VERB_FORMS = frozenset(
    "damages destroys kills hits strikes wounds injures targets shells bombs pounds attacks levels flattens".split()
)


def is_junk(span_tokens: Span, weapons: SpanIndex, actors: SpanIndex) -> bool:
    """A phrase that can be no role: a verb phrase ("damages buildings"), a weapon ("two
    tank rounds", "the hypersonic missile"), a count or a date ("details", "three")."""
    head = span_tokens.root
    if (
        head.pos_ not in ("NOUN", "PROPN", "PRON")
        and not roles._state_adjective(head)
        and head.ent_type_ != "NORP"
        and head.lower_ not in roles._PARTY_MODIFIERS
    ):  # "rebel mortar fire": the rebels
        return True
    if head.pos_ == "PRON" and head.lower_ not in roles.GROUP_PRONOUNS:
        return True
    if head.lower_ in roles._NOT_PARTY or head.lower_ in _NO_ROLE_HEADS or head.ent_type_ in roles._NOT_PARTY_ENTS:
        return True
    if any(t.tag_ in ("VBZ", "VBD", "VBP") or (t.i != head.i and t.lower_ in _VERB_FORMS) for t in span_tokens):
        return True  # a clause, not a name: "damages buildings" read as a noun phrase
    covered = any(s.start_char <= head.idx < s.end_char for s in weapons.within(max(0, head.idx - 60), head.idx + 1))
    named = any(s.start_char <= head.idx < s.end_char for s in actors.within(max(0, head.idx - 60), head.idx + 1))
    return covered and not named


# --------------------------------------------------------------------------- candidates


def _tree_distance(a: Token, b: Token) -> int:
    up_a = [a, *a.ancestors]
    up_b = {t.i: k for k, t in enumerate([b, *b.ancestors])}
    for k, t in enumerate(up_a):
        if t.i in up_b:
            return k + up_b[t.i]
    return 20


def candidates(doc: Doc, trig: Span, rule_roles: dict[int, str], index: dict[str, SpanIndex]) -> list[Candidate]:
    """The candidate phrases of one trigger: noun chunks and gazetteer actors of its
    sentence, and the rules' role phrases (``rule_roles``: head token index -> role)."""
    sent = sentence_of(doc, trig)
    heads: dict[int, Candidate] = {}
    known = index[Keys.ACTORS]

    def add(head: Token, rule: str = "") -> None:
        # A trigger's own words are no party, unless they name one ("Israeli warplanes struck").
        inside = trig.start <= head.i < trig.end and head.pos_ != "PROPN" and not _covers(known, head.idx)
        if head.i in heads or inside:
            if head.i in heads and rule and not heads[head.i].rule:
                heads[head.i].rule = rule
            return
        s, e, text = roles.phrases(head)[0]
        heads[head.i] = Candidate(s, e, head, roles.party_actor(doc, s, e, text, known, head), rule)

    for i, role in rule_roles.items():
        add(doc[i], role)
    for a in known.within(sent.start_char, sent.end_char):
        if a.end_char <= sent.end_char:
            add(a.root)
    for chunk in _chunks(sent):
        add(chunk.root)
    return list(heads.values())


def _chunks(sent: Span) -> list[Span]:
    try:
        return list(sent.noun_chunks)
    except ValueError:  # no parse
        return []


def features(
    doc: Doc, trig: Span, cands: list[Candidate], index: dict[str, SpanIndex], other_rule_heads: set[int]
) -> np.ndarray:
    """One row per candidate: ``ROLE_FEATURES`` then the tok2vec block."""
    if not cands:
        return np.zeros((0, len(ROLE_FEATURES) + 2 * VECTOR_DIM), dtype=np.float32)
    verb, _noun, _rel = roles.predicate(trig)
    anchor = verb if verb is not None else trig.root
    passive = float(verb is not None and roles._passive(verb))
    tensor = doc.tensor if doc.tensor is not None and len(doc.tensor) == len(doc) else None
    sent = sentence_of(doc, trig)
    lead_end = next((t.i for t in sent if t.i > anchor.i and t.dep_ == "punct" and t.text in ",;"), sent.end)
    before = [s for s in index[Keys.ACTORS].within(sent.start_char, trig.start_char) if s.end_char <= trig.end_char]
    nearest = before[-1].root.i if before else -1  # the actor named last before the trigger
    rows = []
    for c in cands:
        h = c.head
        prep = h.head.lower_ if h.dep_ == "pobj" else ("by" if h.dep_ == "pobj" and h.head.dep_ == "agent" else "")
        if h.dep_ == "pobj" and h.head.dep_ == "agent":
            prep = "by"
        actor = c.actor
        ttype = (
            target_type(doc_text(doc)[c.start : c.end], h)
            if actor.type not in ("state_military", "militia_proxy", "rebel", "terrorist")
            else None
        )
        f = [
            float(c.rule == "attacker"),
            float(c.rule == "target"),
            float(c.rule == "bystander"),
            float(c.rule == "victim"),
            float(h.i in other_rule_heads),
            float(h.i < trig.start),
            math.log1p(abs(h.i - trig.start)),
            math.log1p(_tree_distance(h, anchor)),
            float(h.sent.start == trig.sent.start and (h.i < lead_end) == (trig.start < lead_end)),
            passive,
            float(h.head.i == anchor.i or h.head.head.i == anchor.i),
            *(float(h.dep_ == d) for d in _DEPS),
            *(float(prep == p) for p in _PREPS),
            *(float(h.ent_type_ == e) for e in _ENTS),
            *(float(actor.type == t) for t in _ACTOR_TYPES),
            float(_covers(index[Keys.ACTORS], h.idx)),
            float(actor.country is not None and actor.type == "state_military"),
            float(_covers(index[Keys.PLACES], h.idx)),
            float(_covers(index[Keys.TIMES], h.idx)),
            float(_covers(index[Keys.WEAPONS], h.idx)),
            float(any(t.like_num for t in doc[h.left_edge.i : h.i + 1])),
            float(h.pos_ == "PRON"),
            float(h.pos_ == "PROPN"),
            math.log1p(len(actor.name.split())),
            float(h.i < lead_end),
            float(h.i == nearest),
            *(
                float(ttype == t)
                for t in (
                    "residential",
                    "health",
                    "education",
                    "energy",
                    "water",
                    "military",
                    "vehicle",
                    "people",
                    "other",
                )
            ),
        ]
        if tensor is not None:
            v, w = tensor[h.i], tensor[trig.root.i]
            vec = np.concatenate([v, v * w])
        else:
            vec = np.zeros(2 * VECTOR_DIM, dtype=np.float32)
        rows.append(np.concatenate([np.asarray(f, dtype=np.float32), vec.astype(np.float32)]))
    return np.stack(rows)


def _covers(index: SpanIndex, char: int) -> bool:
    return any(s.start_char <= char < s.end_char for s in index.within(max(0, char - 60), char + 1))


# --------------------------------------------------------------------------- decision


def decide(
    cands: list[Candidate], p: np.ndarray, thresholds: tuple[float, float], junk: list[bool]
) -> tuple[list[int], list[int]]:
    """(attacker candidate indices, best first; target candidate indices) from the
    probabilities: the best attacker over its threshold and the candidates coordinated
    with it ("Afghan and coalition forces"), every target over its threshold that is
    not an attacker, never a junk phrase."""
    ok = [i for i in range(len(cands)) if not junk[i]]
    att = sorted((i for i in ok if p[i, 0] >= thresholds[0]), key=lambda i: -p[i, 0])
    if att:
        best = cands[att[0]].head
        members = {t.i for t in roles._members(best)}
        att = [
            att[0],
            *[i for i in att[1:] if cands[i].head.i in members and cands[i].actor.name != cands[att[0]].actor.name],
        ]
    taken = {cands[i].actor.name for i in att}
    tgt = [
        i
        for i in ok
        if p[i, 1] >= thresholds[1] and i not in att and cands[i].actor.name not in taken and p[i, 1] >= p[i, 0]
    ]
    return att, tgt
