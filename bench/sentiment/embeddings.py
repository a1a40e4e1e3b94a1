"""A disk cache of e5 embeddings for the bench, so training and evaluation embed each text once.

The cache is a set of shards, `bench/results/tmp/e5*.npz` (one per job that filled it, so long
embedding runs can go on in parallel); every shard is read, new vectors go to one shard. Shards
are read once per process and kept in memory.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.sentiment.packages import TMP
from service.sentiment.embedding_backend import load_e5

CACHE = TMP / "e5_cache.npz"
_LOADED: dict[Path, float] = {}
_VECTORS: dict[str, NDArray[np.float32]] = {}


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _refresh() -> None:
    """Read every shard that is new or changed since it was last read."""
    for path in sorted(TMP.glob("e5*.npz")):
        mtime = path.stat().st_mtime
        if _LOADED.get(path) == mtime:
            continue
        try:
            with np.load(path) as data:
                _VECTORS.update({k: data[k] for k in data.files})
            _LOADED[path] = mtime
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            continue  # a shard being written right now: read it next time


def embed_cached(texts: Sequence[str], cache_path: Path = CACHE) -> NDArray[np.float32]:
    """e5 `query:` embeddings of `texts`, reusing and extending the on-disk cache."""
    _refresh()
    missing = [t for t in dict.fromkeys(texts) if _key(t) not in _VECTORS]
    if missing:
        model = load_e5(1)
        mine: dict[str, NDArray[np.float32]] = {}
        if cache_path.exists():
            with np.load(cache_path) as data:
                mine = {k: data[k] for k in data.files}
        for i in range(0, len(missing), 32):
            chunk = missing[i : i + 32]
            vectors = np.asarray(model.query(chunk), dtype=np.float32).reshape(len(chunk), -1)
            for text, vector in zip(chunk, vectors, strict=True):
                mine[_key(text)] = _VECTORS[_key(text)] = vector
            if i % 640 == 0:
                print(f"  embedded {i + len(chunk)}/{len(missing)}", flush=True)
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache_path, **mine)  # type: ignore[arg-type]  # numpy stub quirk with **kwargs
        _LOADED[cache_path] = cache_path.stat().st_mtime
    return np.vstack([_VECTORS[_key(t)] for t in texts])


def cached(texts: Sequence[str]) -> list[bool]:
    """Whether each text is in the cache already (no embedding)."""
    _refresh()
    return [_key(t) in _VECTORS for t in texts]
