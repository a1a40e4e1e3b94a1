"""`make bench`: run every benchmark module that exists and collect their result files.

Each benchmark is a module runnable as `python -m bench.<name>` that writes its own JSON into
`bench/results/`; this runner only sequences them so one slow benchmark never hides another, and
ends with `bench.report`, which gathers every goal into `bench/results/latest.{json,md}` (also
after a failure, so the report shows what was and was not measured).
"""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec

BENCHMARKS = [
    "bench.scoring",
    "bench.scoring.churn_eval",
    "bench.scoring.sandbox_truth",
    "bench.sentiment",
    "bench.sentiment.langid",
    "bench.sandbox.generate",
    "bench.sandbox.salesforce_read",
    "bench.sandbox.salesforce_load",
    "bench.sandbox.hubspot_read",
    "bench.sandbox.hubspot_search",
    "bench.adapters",
    "bench.sync",
    "bench.api",
    "bench.read_api",
    "bench.realtime",
    "bench.realtime.sources",
    "bench.complaints",
    "bench.faults",
    "bench.workers",
]


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        if find_spec(name.rsplit(".", 1)[0]) is None or find_spec(name) is None:
            print(f"skip {name}: not present in this checkout", flush=True)
            continue
        print(f"run  {name}", flush=True)
        if subprocess.run([sys.executable, "-m", name], check=False).returncode != 0:
            failed.append(name)
    subprocess.run([sys.executable, "-m", "bench.report"], check=False)
    for name in failed:
        print(f"FAILED {name}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
