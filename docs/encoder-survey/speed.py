# ruff: noqa  (research scripts for docs/encoder-survey.md, not product code)
"""Speed and memory only: load CANDIDATE, embed the 600 short texts in batches of 32 and one by one.

Usage: python speed.py CANDIDATE   (prints one JSON line; run with OMP_NUM_THREADS=1 etc.)
Run several rounds interleaved across candidates and keep the best round: the 2 cores are shared
with other jobs, so the fastest round is the one least disturbed by them.
"""

import json
import os
import resource
import time

import embed


def main():
    import sys

    name = sys.argv[1]
    t0 = time.perf_counter()
    enc, _ = embed.load(name)
    enc(["warm up"])
    load_s = time.perf_counter() - t0
    rss_loaded = embed.rss_mb()
    texts = embed.speed_set()
    enc(texts[:32])
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, len(texts), 32):
        enc(texts[i : i + 32])
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    t1 = time.perf_counter()
    for t in texts[:150]:
        enc([t])
    one = time.perf_counter() - t1
    print(
        json.dumps(
            {
                "candidate": name,
                "load_s": round(load_s, 2),
                "rss_loaded_mb": round(rss_loaded, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "texts_per_s_batch32_wall": round(len(texts) / wall, 1),
                "texts_per_s_batch32_cpu": round(len(texts) / cpu, 1),
                "texts_per_s_one_by_one_wall": round(150 / one, 1),
                "loadavg": [round(x, 2) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
