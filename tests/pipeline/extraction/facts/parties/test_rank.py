"""facts/parties/rank.py: the document-level entity ranker, alone: entities across
sentences, one feature row per (trigger, entity), the decision rule, and the "fill" mode
whose answers the assembly takes only where the rules leave a role empty."""

import numpy as np

from pipeline.extraction import article_from_text
from pipeline.extraction import assemble as events
from pipeline.extraction.components.base import Keys
from pipeline.extraction.facts.parties import rank
from pipeline.extraction.facts.parties.roles import FALLBACK_ATTACKER, FALLBACK_TARGET

EARLIER = "Russian forces advanced near Bakhmut. A hospital in Kharkiv was shelled on Sunday."


def _block(doc):
    [(trig, cands, x, junk, window)] = rank.rank_rows(doc)
    return trig, cands, x, junk, window


def test_a_party_named_in_an_earlier_sentence_is_a_candidate_with_one_row(nlp):
    doc = nlp(EARLIER)
    _trig, cands, x, _junk, window = _block(doc)
    names = {c.actor.name: i for i, c in enumerate(cands)}
    assert "Russia" in names and any("hospital" in n for n in names)
    assert x.shape == (len(cands), len(rank.ROLE_FEATURES))
    russia = x[names["Russia"]]
    assert russia[rank._F["sent_dist=1"]] == 1 and russia[rank._F["named_before_trigger"]] == 1
    assert not window[names["Russia"]]  # named before the trigger's sentence: no target of it


def test_mentions_of_one_state_are_one_entity(nlp):
    doc = nlp("Russian forces advanced near Bakhmut. Russia's army shelled a hospital in Kharkiv on Sunday.")
    _trig, cands, *_ = _block(doc)
    [russia] = [c for c in cands if c.actor.name == "Russia"]
    assert len(russia.mentions) >= 2


def test_decide_takes_the_best_attacker_over_its_threshold_and_targets_in_the_window(nlp):
    doc = nlp(EARLIER)
    _trig, cands, _x, junk, window = _block(doc)
    i_att = next(i for i, c in enumerate(cands) if c.actor.name == "Russia")
    i_tgt = next(i for i, c in enumerate(cands) if "hospital" in c.actor.name)
    p = np.full((len(cands), 2), 0.1)
    p[i_att], p[i_tgt] = (0.9, 0.9), (0.2, 0.8)
    assert rank.decide(cands, p, (0.5, 0.5), junk, window) == ([i_att], [i_tgt])  # Russia is outside the target window
    assert rank.decide(cands, p, (0.95, 0.5), junk, window) == ([], [i_tgt])
    assert rank.decide(cands, p, (0.5, 0.5), [True] * len(cands), window) == ([], [])


def _fill(nlp, text, who):
    doc = nlp(text)
    blocks = rank.rank_rows(doc)
    [(_trig, cands, _x, _junk, _window)] = blocks
    p = np.full((len(cands), 2), 0.1)
    p[next(i for i, c in enumerate(cands) if c.actor.name == who), 0] = 0.9
    rules = [
        s for s in doc.spans[Keys.ROLES] if s.label_ not in (FALLBACK_ATTACKER, FALLBACK_TARGET)
    ]  # the shipped ranker's own out
    doc.spans[Keys.ROLES] = rank.ranked_roles(doc, blocks, [p], (0.5, 0.5), "fill", rules)
    return doc


def test_fill_gives_the_ranker_attacker_to_an_event_the_rules_leave_without_one(nlp):
    doc = _fill(nlp, EARLIER, "Russia")
    guess = [s for s in doc.spans[Keys.ROLES] if s.label_ == FALLBACK_ATTACKER]
    assert [s._.sw_actor.name for s in guess] == ["Russia"]
    assert guess[0].sent == _block(doc)[0].sent  # written on the trigger's sentence, where the assembly reads roles
    [(ev, _group)] = events.assemble(doc, article_from_text(EARLIER))
    assert ev.attacker is not None and ev.attacker.name == "Russia"


def test_fill_never_overrides_the_rules_attacker(nlp):
    text = "Ukrainian forces advanced near Bakhmut. Russian forces shelled a hospital in Kharkiv on Sunday."
    doc = _fill(nlp, text, "Ukraine")
    assert any(s.label_ == FALLBACK_ATTACKER for s in doc.spans[Keys.ROLES])
    [(ev, _group)] = events.assemble(doc, article_from_text(text))
    assert ev.attacker.name == "Russia"


def test_strike_parties_rejects_an_unknown_decider(nlp):
    import pytest

    from pipeline.extraction.facts.parties.component import PartyChooser

    with pytest.raises(ValueError, match="decide"):
        PartyChooser(nlp, "strike_parties", "roles-1", "vote")


def test_the_shipped_ranker_fills_by_default(nlp):
    assert rank.MODEL_VERSION == "roles-2" and nlp.get_pipe("strike_parties").ranker is not None
    doc = nlp(EARLIER)
    assert any(s.label_ in (FALLBACK_ATTACKER, FALLBACK_TARGET) for s in doc.spans[Keys.ROLES])


def test_fill_leaves_every_named_actor_where_it_stands(nlp):
    """spaCy keys a span's ``_`` values by its characters: a ranker span written on a
    gazetteer name must not move that name's Actor to another of its mentions (the
    nearest-actor heuristic reads the position: the reference article's February strikes
    became the militias' when it did)."""
    text = (
        "Iran-backed militias fired rockets at a base in Erbil on Monday. The United States carried out "
        "airstrikes in Syria on Friday against buildings used by Iran-backed militias."
    )
    doc = nlp(text)
    blocks = rank.rank_rows(doc)
    probs = []
    for _trig, cands, _x, _junk, _window in blocks:
        p = np.full((len(cands), 2), 0.1)
        p[[i for i, c in enumerate(cands) if c.actor.name == "Iran-backed militias"], 0] = 0.9
        probs.append(p)
    rules = [s for s in doc.spans[Keys.ROLES] if s.label_ not in (FALLBACK_ATTACKER, FALLBACK_TARGET)]
    doc.spans[Keys.ROLES] = rank.ranked_roles(doc, blocks, probs, (0.5, 0.5), "fill", rules)
    late = [s for s in doc.spans[Keys.ROLES] if s.label_ == FALLBACK_ATTACKER and s.start_char > 100]
    assert late and late[0].text == "Iran-backed militias"  # written on the gazetteer's span of that name
    for s in doc.spans[Keys.ACTORS]:
        assert s._.sw_actor.mentions[0].start == s.start_char, (s.text, s._.sw_actor)
    strikes = [ev for ev, _g in events.assemble(doc, article_from_text(text)) if ev.event_type.value == "air_strike"]
    assert strikes and strikes[0].attacker.name == "United States"
