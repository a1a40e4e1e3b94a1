"""Benchmark: generate a sandbox dataset to files; record time and peak memory per size.

    nice python -m bench.sandbox.generate                      # 1,000,000 customers
    nice python -m bench.sandbox.generate --sizes 100000 200000

Each size runs in a fresh child process so its peak resident memory (``ru_maxrss``) is its own,
not the maximum of everything run before. The dataset goes to a temporary folder that is
deleted afterwards (``--keep DIR`` to keep it). Results: ``bench/results/sandbox-generate.json``.
The goal (issue 3): peak memory under 500 MB at 1,000,000 customers, i.e. flat in size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULT = Path(__file__).resolve().parents[1] / "results" / "sandbox-generate.json"
GOAL_PEAK_MB = 500


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the worker processes)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _child(
    folder: str, seed: int, customers: int, workers: int = 1, compress: bool = False
) -> dict[str, Any]:
    """Generate one dataset in this process (and ``workers`` helpers) and measure it."""
    from sandbox.data.files import write_dataset

    started = time.perf_counter()
    cpu_started = _cpu_seconds()
    manifest = write_dataset(
        folder, seed=seed, customers=customers, workers=workers, compress=compress
    )
    seconds = time.perf_counter() - started
    cpu_seconds = _cpu_seconds() - cpu_started
    # KiB on Linux; with workers, the largest of this process and any one worker process.
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    truth_name = manifest["files"]["Truth"]
    records = sum(n for name, n in manifest["counts"].items() if name != truth_name)
    size = sum(p.stat().st_size for p in Path(folder).iterdir())
    return {
        "customers": customers,
        "workers": workers,
        "compressed": compress,
        "records": records,
        "counts": manifest["counts"],
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "customers_per_second": round(customers / seconds),
        "records_per_second": round(records / seconds),
        "microseconds_per_customer_cpu": round(cpu_seconds / customers * 1e6, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "dataset_mb": round(size / 1e6, 1),
    }


def _run(size: int, seed: int, keep: Path | None, workers: int, compress: bool) -> dict[str, Any]:
    folder = keep / str(size) if keep else Path(tempfile.mkdtemp(prefix="cem-sandbox-bench-"))
    try:
        code = (
            "import json, sys; from bench.sandbox.generate import _child; "
            f"print(json.dumps(_child({str(folder)!r}, {seed}, {size}, {workers}, {compress})))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return result
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def _extrapolate(run: dict[str, Any]) -> dict[str, float]:
    """What a million customers would cost at the rates of ``run`` (generation is linear)."""
    factor = 1_000_000 / run["customers"]
    return {
        "cpu_minutes": round(run["cpu_seconds"] * factor / 60, 1),
        "wall_minutes_at_measured_rate": round(run["seconds"] * factor / 60, 1),
        "dataset_gb": round(run["dataset_mb"] * factor / 1000, 2),
        "records": round(run["records"] * factor),
    }


def _write(out: Path, runs: list[dict[str, Any]], seed: int, note: str, version: str) -> None:
    peaks = [r["peak_rss_mb"] for r in runs]
    per_customer = [r["microseconds_per_customer_cpu"] for r in runs]
    result = {
        "benchmark": "sandbox data generator: write_dataset to JSON-lines files",
        "command": "nice python -m bench.sandbox.generate " + " ".join(sys.argv[1:]),
        "generator_version": version,
        "seed": seed,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "runs": runs,
        "summary": {
            "goal_peak_rss_mb": GOAL_PEAK_MB,
            "max_peak_rss_mb": max(peaks),
            "peak_within_goal": max(peaks) < GOAL_PEAK_MB,
            # Linear scaling means constant CPU time per customer across sizes.
            "cpu_us_per_customer_min_max": [min(per_customer), max(per_customer)],
            "extrapolated_to_1m_customers": _extrapolate(runs[-1]),
        },
        "note": note,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="keep the datasets in DIR")
    parser.add_argument("--out", type=Path, default=RESULT)
    parser.add_argument("--note", default="", help="free text stored with the results")
    parser.add_argument("--workers", type=int, default=1, help="processes per dataset")
    parser.add_argument("--compress", action="store_true", help="write .jsonl.gz files")
    parser.add_argument(
        "--append", action="store_true", help="add to the runs already in --out (same version)"
    )
    args = parser.parse_args(argv)

    from sandbox.data.generate import GENERATOR_VERSION

    runs: list[dict[str, Any]] = []
    if args.append and args.out.exists():
        previous = json.loads(args.out.read_text(encoding="utf-8"))
        if previous.get("generator_version") != GENERATOR_VERSION:
            parser.error("--append: the results in --out are from another generator version")
        runs = previous["runs"]
        args.note = args.note or previous.get("note", "")
    for size in args.sizes:
        print(f"generating {size:,} customers…", flush=True)
        run = _run(size, args.seed, args.keep, args.workers, args.compress)
        print(
            f"  {run['seconds']} s, {run['customers_per_second']:,} customers/s, "
            f"{run['records']:,} records, peak {run['peak_rss_mb']} MB",
            flush=True,
        )
        runs.append(run)
        # Written after every size, so a long run that is stopped still leaves its results.
        _write(args.out, runs, args.seed, args.note, GENERATOR_VERSION)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
