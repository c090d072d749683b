"""facts/parties/model.py: the learned choice among candidate phrases, alone: candidates and
features of a parsed sentence, the decision rule, and the model file's round trip."""

import numpy as np

from pipeline.extraction.components.base import Keys
from pipeline.extraction.facts.parties import model as role_model
from pipeline.extraction.facts.parties.component import role_rows


def test_every_trigger_has_candidates_with_one_feature_row_each(nlp):
    doc = nlp("Russian forces shelled a hospital in Kharkiv on Sunday, local officials said.")
    [(_trig, cands, x, junk)] = role_rows(doc)
    names = [c.actor.name for c in cands]
    assert "Russia" in names and any("hospital" in n for n in names)
    assert x.shape == (len(cands), len(role_model.ROLE_FEATURES) + 2 * role_model.VECTOR_DIM)
    rule = {c.actor.name: c.rule for c in cands}
    assert rule["Russia"] == "attacker"  # the dependency rules' verdict is a feature
    assert not any(j for c, j in zip(cands, junk) if c.actor.name == "Russia")


def test_decide_takes_the_best_attacker_and_every_target_but_never_junk(nlp):
    doc = nlp("Russian forces shelled a hospital in Kharkiv on Sunday, local officials said.")
    [(_trig, cands, _x, junk)] = role_rows(doc)
    i_att = next(i for i, c in enumerate(cands) if c.actor.name == "Russia")
    i_tgt = next(i for i, c in enumerate(cands) if "hospital" in c.actor.name)
    p = np.full((len(cands), 2), 0.1)
    p[i_att] = (0.9, 0.2)
    p[i_tgt] = (0.3, 0.8)
    att, tgt = role_model.decide(cands, p, (0.5, 0.5), junk)
    assert att == [i_att] and tgt == [i_tgt]
    junk = [True] * len(cands)
    assert role_model.decide(cands, p, (0.5, 0.5), junk) == ([], [])


def test_model_file_round_trip(tmp_path):
    dim = len(role_model.ROLE_FEATURES) + 2 * role_model.VECTOR_DIM
    rng = np.random.default_rng(1)
    m = role_model.RoleModel(
        "roles-test",
        rng.normal(size=(2, dim)).astype(np.float32),
        np.zeros(2, np.float32),
        np.zeros(dim, np.float32),
        np.ones(dim, np.float32),
        (0.5, 0.5),
        {"folds": 5},
    )
    path = tmp_path / "roles-test.npz"
    m.save(path)
    back = role_model.RoleModel.load(path)
    x = rng.normal(size=(4, dim)).astype(np.float32)
    assert (
        np.allclose(m.predict(x), back.predict(x), atol=1e-5)
        and back.card == {"folds": 5}
        and back.thresholds == (0.5, 0.5)
    )


def test_the_shipped_model_decides_roles_when_asked():
    import spacy

    from pipeline.extraction import load_nlp

    assert role_model.load_model() is not None, (
        "facts/parties/models/roles-1.npz ships with the package (strikewatch train)"
    )
    nlp = load_nlp()
    nlp.replace_pipe("strike_parties", "strike_parties", config={"decide": "model"})
    doc = nlp("Israeli warplanes struck a school in Gaza City on Monday, killing five people.")
    assert doc.user_data["sw_roles_learned"]
    assert any(s.label_ == "attacker" and s._.sw_actor.name == "Israel" for s in doc.spans[Keys.ROLES])
    assert any(s.label_ == "target" and s._.sw_actor.target_type == "education" for s in doc.spans[Keys.ROLES])
    assert spacy is not None
