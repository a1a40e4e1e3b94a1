"""A disk cache of e5 embeddings for the bench, so training and evaluation embed each text once."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.sentiment.datasets import TMP
from service.sentiment.embedding_backend import load_e5

CACHE = TMP / "e5_cache.npz"


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def embed_cached(texts: Sequence[str], cache_path: Path = CACHE) -> NDArray[np.float32]:
    """e5 `query:` embeddings of `texts`, reusing and extending the on-disk cache."""
    stored: dict[str, NDArray[np.float32]] = {}
    if cache_path.exists():
        with np.load(cache_path) as data:
            stored = {k: data[k] for k in data.files}
    missing = [t for t in dict.fromkeys(texts) if _key(t) not in stored]
    if missing:
        model = load_e5(1)
        for i in range(0, len(missing), 32):
            chunk = missing[i : i + 32]
            vectors = np.asarray(model.query(chunk), dtype=np.float32).reshape(len(chunk), -1)
            for text, vector in zip(chunk, vectors, strict=True):
                stored[_key(text)] = vector
            if i % 640 == 0:
                print(f"  embedded {i + len(chunk)}/{len(missing)}", flush=True)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache_path, **stored)  # type: ignore[arg-type]  # numpy stub quirk with **kwargs
    return np.vstack([stored[_key(t)] for t in texts])
