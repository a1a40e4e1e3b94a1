"""`python -m bench.scoring`: score 10k / 100k / 1M customers, record time and peak memory.

Each size runs in its own process so its peak RSS is its own. Results go to
bench/results/scoring.json. Goal: 1M customers in <= 60 s and <= 2 GB on 2 cores, linear cost.
Options: --sizes N [N ...], --chunk N; `--one N` is the per-size worker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parents[1] / "results"


def run_one(n: int, chunk: int) -> dict[str, float]:
    """Generate and score `n` customers in chunks; return timings and peak memory."""
    from bench.scoring.population import EVENTS_PER_CUSTOMER, generate_chunk
    from service.scoring.batch import score_chunk
    from service.scoring.churn.bgnbd import fit_bgnbd
    from service.scoring.churn.summary import purchase_summary
    from service.scoring.weights import default_weights

    weights = default_weights()
    starts = list(range(0, n, chunk))
    # Pass 1, the scheduled job: summarise every customer's purchases and fit BG/NBD once.
    t0 = time.perf_counter()
    parts = []
    for k, start in enumerate(starts):
        _, cols = generate_chunk(min(chunk, n - start), seed=k)
        parts.append(purchase_summary(cols.purchases, cols.n, cols.as_of_day))
    t1 = time.perf_counter()
    model = fit_bgnbd(
        np.concatenate([p.x for p in parts]),
        np.concatenate([p.t_x for p in parts]),
        np.concatenate([p.age for p in parts]),
    )
    fit_s = time.perf_counter() - t1
    gen_s = t1 - t0
    del parts
    # Pass 2, the scoring run: stream chunks through the batch scorer.
    score_s = 0.0
    flagged = 0
    checksum = 0.0
    for k, start in enumerate(starts):
        t0 = time.perf_counter()
        ids, cols = generate_chunk(min(chunk, n - start), seed=k)
        t1 = time.perf_counter()
        table = score_chunk(
            ids, cols, weights=weights, churn_model=model, horizon_days=90, threshold=0.5
        )
        t2 = time.perf_counter()
        gen_s += t1 - t0
        score_s += t2 - t1
        flagged += int(table.flagged.sum())
        checksum += float(np.nansum(table.experience))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    return {
        "customers": n,
        "events": n * EVENTS_PER_CUSTOMER,
        "chunk": chunk,
        "score_seconds": round(score_s, 3),
        "generate_and_summarise_seconds": round(gen_s, 3),
        "bgnbd_fit_seconds_all_customers": round(fit_s, 3),
        "microseconds_per_customer": round(1e6 * score_s / n, 2),
        "peak_rss_mb": round(peak_mb, 1),
        "flagged_share": round(flagged / n, 4),
        "mean_experience": round(checksum / n, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS / "scoring.json")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.chunk)))
        return
    runs = []
    for n in args.sizes:
        done = subprocess.run(
            [sys.executable, "-m", "bench.scoring", "--one", str(n), "--chunk", str(args.chunk)],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(result))
        runs.append(result)
    per = [r["microseconds_per_customer"] for r in runs]
    report = {
        "benchmark": "score population (experience + BG/NBD churn + segments), 10 events each",
        "command": "python -m bench.scoring",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "goal": "1,000,000 customers in <= 60 s and <= 2048 MB, linear cost",
        "runs": runs,
        "linearity_max_over_min_per_customer": round(max(per) / min(per), 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
