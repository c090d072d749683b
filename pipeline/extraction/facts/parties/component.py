"""The parties of a strike as spaCy components: who is named (``strike_actors`` ->
``doc.spans["sw_actors"]``, ``actors.py``), what the dependency rules say of who struck
whom (``strike_roles`` -> ``doc.spans["sw_role_rules"]``, ``roles.py``) and the learned
choice among candidate phrases (``strike_parties`` -> ``doc.spans["sw_roles"]``,
``model.py``; targets typed by ``targets.py``).

    nlp = spacy.blank("en"); nlp.add_pipe("strike_actors")
    doc = nlp("Iran-backed Kataib Hezbollah fighters")  # -> Kataib Hezbollah, militia_proxy, sponsor IR
"""

from __future__ import annotations

import numpy as np
from spacy.language import Language
from spacy.tokens import Doc, Span

from ...components.base import Keys, SpanIndex, set_group
from ..triggers.component import REFERENCE
from . import rank
from .actors import ActorFinder
from .model import MODEL_VERSION, candidates, decide, features, is_junk, load_model
from .roles import BYSTANDER, FALLBACK_TARGET, VICTIM, RoleLabeller
from .targets import target_type


@Language.factory("strike_actors", assigns=["doc.spans"])
def make_actor_finder(nlp: Language, name: str) -> ActorFinder:
    return ActorFinder(nlp, name)


@Language.factory("strike_roles", assigns=["doc.spans"], requires=["token.dep", "doc.spans"])
def make_role_labeller(nlp: Language, name: str) -> RoleLabeller:
    return RoleLabeller(nlp, name)


class PartyChooser:
    """``strike_parties``: the learned choice of each trigger's attacker and targets among
    candidate phrases (``model.py``) -> ``doc.spans["sw_roles"]`` (label ``attacker`` or
    ``target``, ``span.id_`` the trigger's start character, ``span._.sw_actor`` the Actor,
    a target's with its ``target_type``; the rules' bystanders and victims are kept).
    With ``decide="rules"`` or without a model file the rules' roles are the roles, junk
    phrases dropped; ``"fill"`` (the default, ``DEFAULT_DECIDER``) adds the document-level
    ranker's choices (``rank.py``, roles-2) as fallbacks the assembly takes only for an
    event with no attacker or no target; ``"rank"`` lets the ranker decide every role and
    ``"model"`` roles-1 (sentence candidates)."""

    def __init__(self, nlp: Language, name: str, version: str, decide: str, rank_version: str = rank.MODEL_VERSION):
        if decide not in DECIDERS:
            raise ValueError(f"strike_parties: decide={decide!r}, not one of {', '.join(DECIDERS)}")
        self.name = name
        self.decide = decide
        self.model = load_model(version) if version and decide == "model" else None
        self.ranker = load_model(rank_version) if rank_version and decide in ("rank", "fill") else None

    def __call__(self, doc: Doc) -> Doc:
        rules = list(doc.spans.get(Keys.ROLE_RULES, []))
        doc.user_data["sw_roles_learned"] = self.model is not None or (
            self.ranker is not None and self.decide == "rank"
        )
        if (self.model is None and self.ranker is None) or not doc.has_annotation("DEP"):
            doc.user_data["sw_roles_learned"] = False
            set_group(doc, Keys.ROLES, _rule_roles(doc, rules))
            return doc
        if self.ranker is not None:
            blocks = rank.rank_rows(doc)
            probs = [self.ranker.predict(x) for _t, _c, x, _j, _w in blocks]
            spans = rank.ranked_roles(doc, blocks, probs, self.ranker.thresholds, self.decide, _rule_roles(doc, rules))
            set_group(doc, Keys.ROLES, [_typed(s) for s in spans])
            return doc
        out = [s for s in rules if s.label_ in (BYSTANDER, VICTIM)]
        for trig, cands, x, junk in role_rows(doc):
            att, tgt = decide(cands, self.model.predict(x), self.model.thresholds, junk)
            for role, picked in (("attacker", att), ("target", tgt)):
                for i in picked:
                    c = cands[i]
                    span = doc.char_span(
                        c.start, c.end, label=role, alignment_mode="expand", span_id=str(trig.start_char)
                    )
                    if span is not None:
                        span._.sw_actor = c.actor
                        out.append(span)
        set_group(doc, Keys.ROLES, [_typed(s) for s in out])
        return doc


def _rule_roles(doc: Doc, rules: list[Span]) -> list[Span]:
    """The rules' roles, junk phrases dropped, targets typed."""
    weapons, actors = (SpanIndex(doc.spans.get(k, [])) for k in (Keys.WEAPONS, Keys.ACTORS))
    return [_typed(s) for s in rules if not is_junk(s, weapons, actors)]


def role_rows(doc: Doc) -> list[tuple[Span, list, np.ndarray, list[bool]]]:
    """(trigger, candidates, feature rows, junk flags) of every strike trigger of a doc:
    what the model scores (and what ``strikewatch train`` learns from)."""
    index = {
        k: SpanIndex(doc.spans[k]) if k in doc.spans else SpanIndex([])
        for k in (Keys.ACTORS, Keys.WEAPONS, Keys.PLACES, Keys.TIMES)
    }
    rules = list(doc.spans.get(Keys.ROLE_RULES, []))
    per_trigger: dict[str, dict[int, str]] = {}
    for s in rules:
        if s.label_ != VICTIM:
            per_trigger.setdefault(s.id_, {})[s.root.i] = s.label_
    victims = {s.root.i: VICTIM for s in rules if s.label_ == VICTIM}
    out = []
    for trig in doc.spans.get(Keys.TRIGGERS, []):
        if trig.label_ == REFERENCE:
            continue
        mine = {**victims, **per_trigger.get(str(trig.start_char), {})}
        others = {i for k, v in per_trigger.items() if k != str(trig.start_char) for i in v}
        cands = candidates(doc, trig, mine, index)
        x = features(doc, trig, cands, index, others)
        junk = [
            is_junk(
                doc[c.head.left_edge.i if c.head.left_edge.i >= c.head.sent.start else c.head.i : c.head.i + 1],
                index[Keys.WEAPONS],
                index[Keys.ACTORS],
            )
            for c in cands
        ]
        out.append((trig, cands, x, junk))
    return out


def _typed(span: Span) -> Span:
    """A target's Actor with its ``target_type`` (parties never have one)."""
    a = span._.sw_actor
    if (
        span.label_ in ("target", VICTIM, FALLBACK_TARGET)
        and a is not None
        and a.target_type is None
        and a.type not in _PARTY_TYPES
    ):
        span._.sw_actor = a.model_copy(update={"target_type": target_type(span.text)})
    return span


_PARTY_TYPES = frozenset({"state_military", "militia_proxy", "rebel", "terrorist", "government"})


# Who decides the roles by default. "rules": the dependency rules and the assembly's
# nearest-actor heuristic, junk phrases dropped; "model": roles-1 (sentence candidates);
# "rank": the document-level entity ranker (rank.py, roles-2) decides every role; "fill":
# the rules decide and roles-2 answers only where an event has no attacker or no target
# (Mention.attacker_guess). Out of fold and trained without the set (tools/rank_eval.py,
# docs/benchmarks.md), "fill" is never below the rules' recall and gains on news2_dev
# (attacker 0.750 -> 0.761 cv / 0.757 lodo, target 0.510 -> 0.592 / 0.535); "rank" and
# "model" lose news_dev's attackers (0.737 -> 0.421 / 0.316) and fail the reference article.
DEFAULT_DECIDER = "fill"
DECIDERS = ("rules", "model", "rank", "fill")


@Language.factory(
    "strike_parties",
    assigns=["doc.spans"],
    requires=["doc.spans"],
    default_config={"version": MODEL_VERSION, "decide": DEFAULT_DECIDER, "rank_version": rank.MODEL_VERSION},
)
def make_party_chooser(nlp: Language, name: str, version: str, decide: str, rank_version: str) -> PartyChooser:
    return PartyChooser(nlp, name, version, decide, rank_version)
