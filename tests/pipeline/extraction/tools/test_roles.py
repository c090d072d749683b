"""tools/roles.py: the role model's fit and its per-trigger scoring, on rows made here."""

import numpy as np

from pipeline.extraction.tools import roles


def test_fit_separates_a_learnable_signal():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    y = np.stack([(x[:, 0] > 0.5).astype(np.float32), (x[:, 1] > 0.5).astype(np.float32)], 1)
    m = roles.fit_model([x], [y], [1.0])
    p = m.predict(x)
    assert ((p[:, 0] > 0.5) == (y[:, 0] == 1)).mean() > 0.9 and ((p[:, 1] > 0.5) == (y[:, 1] == 1)).mean() > 0.9


def test_attacker_f1_scores_the_choice_per_trigger():
    # two triggers of three candidates: the first chooses its gold attacker, the second a wrong one
    y = np.array([[1, 0], [0, 0], [0, 1], [0, 0], [1, 0], [0, 0]], np.float32)
    p = np.array([[0.9, 0], [0.2, 0], [0.1, 0], [0.8, 0], [0.6, 0], [0.1, 0]])
    junk = np.zeros(6, bool)
    assert roles.attacker_f1(y, p, junk, [3, 3], 0.5) == 2 * 1 / (2 * 1 + 1 + 1)
    junk[3] = True  # the wrong one is junk: the gold one is chosen
    assert roles.attacker_f1(y, p, junk, [3, 3], 0.5) == 1.0
