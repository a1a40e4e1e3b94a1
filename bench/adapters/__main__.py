"""`python -m bench.adapters`: API calls spent by pull and push, against the limits of issue 4.

For each CRM: a full pull of N contacts (goal ≤ 1.05 x ⌈N / page size⌉ calls), a push of N
changed records (goal ≤ 1.05 x ⌈N / batch size⌉: 200 on Salesforce, 100 on HubSpot), and, in
the same run, a naive push that writes one record per call, as the peer. Calls are counted from
the sandbox's request log (logins excluded). Writes `bench/results/adapters-calls.json`.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.ports import FieldUpdate
from tests.contract.harness import HubSpotHarness, SalesforceHarness, SandboxAdmin

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
RESULTS = Path(__file__).resolve().parents[1] / "results" / "adapters-calls.json"


def _calls(admin: SandboxAdmin) -> int:
    return len([r for r in admin.requests() if "oauth" not in str(r["path"])])


def measure(harness: SalesforceHarness | HubSpotHarness) -> dict[str, Any]:
    admin = SandboxAdmin(harness.server)
    admin.reset()
    harness.writer().provision(dry_run=False)
    ids = harness.customer_ids()
    admin.clear_requests()
    started = time.perf_counter()
    pulled = sum(len(b.records) for b in harness.reader().pull(harness.customer_stream(), None))
    pull_seconds = time.perf_counter() - started
    pull_calls = _calls(admin)

    now = datetime.now(UTC)
    updates = [
        FieldUpdate(
            crm_object=harness.customer_object,
            crm_id=i,
            external_id=f"cem-{i}",
            fields={"experience_score": float(k % 100), "scored_at": now},
        )
        for k, i in enumerate(ids)
    ]
    admin.clear_requests()
    started = time.perf_counter()
    report = harness.writer().upsert_fields(updates)
    push_seconds = time.perf_counter() - started
    push_calls = _calls(admin)

    # The peer: one call per record, as naive integrations do (measured on a sample, scaled).
    sample = ids[:200]
    admin.clear_requests()
    started = time.perf_counter()
    naive_one_by_one(harness, sample)
    naive_seconds = (time.perf_counter() - started) * len(ids) / len(sample)
    naive_calls = _calls(admin) * len(ids) // len(sample)

    pull_limit = 1.05 * math.ceil(len(ids) / harness.page_size)
    push_limit = 1.05 * math.ceil(len(ids) / harness.batch_size)
    return {
        "records": len(ids),
        "pull": {
            "records": pulled,
            "calls": pull_calls,
            "limit": pull_limit,
            "ratio_to_limit": round(pull_calls / pull_limit, 3),
            "seconds": round(pull_seconds, 2),
        },
        "push": {
            "written": len(report.written),
            "rejected": len(report.rejected),
            "calls": push_calls,
            "limit": push_limit,
            "ratio_to_limit": round(push_calls / push_limit, 3),
            "seconds": round(push_seconds, 2),
        },
        "naive_push": {
            "calls": naive_calls,
            "seconds": round(naive_seconds, 2),
            "calls_saved_factor": round(naive_calls / max(push_calls, 1), 1),
        },
        "met": pull_calls <= pull_limit and push_calls <= push_limit,
    }


def naive_one_by_one(harness: SalesforceHarness | HubSpotHarness, ids: list[str]) -> None:
    if isinstance(harness, SalesforceHarness):
        sdk = harness._sdk()
        for crm_id in ids:
            sdk.Contact.update(crm_id, {"CEM_Experience_Score__c": 1.0})
    else:
        api = harness._sdk().crm.objects.basic_api
        for crm_id in ids:
            api.update("contacts", crm_id, {"properties": {"cem_experience_score": "1"}})


def main() -> int:
    results: dict[str, Any] = {
        "benchmark": "adapters-calls",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {platform.system()} python {platform.python_version()}",
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip(),
        "customers": N,
    }
    with SalesforceHarness(N, 2000) as sf:
        results["salesforce"] = measure(sf)
    with HubSpotHarness(N) as hs:
        results["hubspot"] = measure(hs)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0 if results["salesforce"]["met"] and results["hubspot"]["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
