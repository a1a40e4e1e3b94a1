"""Benchmark: an incremental pull through CRM search, as the HubSpot adapter will do it.

Loads N customers (owners, companies, contacts) into the emulator in its own process, then
pages ``contacts`` search with ``lastmodifieddate GTE <watermark>`` sorted ascending, 200 per
page, up to HubSpot's 10,000-result cap, through the real hubspot-api-client. The search rate
limit is off: this measures the emulator and client, not HubSpot's 5 requests/s.

Run: ``nice .venv/bin/python -m bench.sandbox.hubspot_search [--contacts N]``; writes
``bench/results/sandbox-hubspot-search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from hubspot import HubSpot
from hubspot.crm.contacts import PublicObjectSearchRequest

from bench.sandbox.hubspot_read import CONFIG, emulator_process, server_durations

CAP = 10_000
RESULT = Path(__file__).resolve().parents[1] / "results" / "sandbox-hubspot-search.json"


def run(contacts: int, seed: int) -> dict[str, object]:
    """Serve, page the search to the cap; the measurements as a dict."""
    token = CONFIG.access_token.get_secret_value()
    with emulator_process(contacts, seed, in_process=False) as (url, loaded):
        httpx.delete(f"{url}/__sandbox/requests", timeout=10)
        api = HubSpot(access_token=token, host=url).crm.contacts.search_api
        watermark = "0"
        seen: list[str] = []
        page_seconds: list[float] = []
        after: str | None = None
        started = time.perf_counter()
        while True:
            request = PublicObjectSearchRequest(
                filter_groups=[
                    {
                        "filters": [
                            {
                                "propertyName": "lastmodifieddate",
                                "operator": "GTE",
                                "value": watermark,
                            }
                        ]
                    }
                ],
                sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
                properties=["email", "lastmodifieddate"],
                limit=200,
                after=after,
            )
            t0 = time.perf_counter()
            page = api.do_search(request, _request_timeout=(5, 60))
            page_seconds.append(time.perf_counter() - t0)
            seen += [r.id for r in page.results]
            if page.paging is None or int(page.paging.next.after) >= CAP:
                break
            after = page.paging.next.after
        seconds = time.perf_counter() - started
        durations = server_durations(url)
    expected = min(contacts, CAP)
    if len(set(seen)) != expected:
        raise SystemExit(f"read {len(set(seen))} distinct contacts, expected {expected}")
    return {
        "benchmark": "sandbox-hubspot-search",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m bench.sandbox.hubspot_search --contacts {contacts} --seed {seed}",
        "client": "hubspot-api-client 12.0.0, contacts search_api.do_search(limit=200)",
        "contacts_in_portal": contacts,
        "records_read": len(seen),
        "pages": len(page_seconds),
        "read_seconds": round(seconds, 3),
        "records_per_second": round(len(seen) / seconds, 1),
        "first_page_seconds": round(page_seconds[0], 3),
        "later_pages_seconds_p50": round(statistics.median(page_seconds[1:]), 4),
        "server_ms_per_page": {
            "mean": round(statistics.fmean(durations), 3),
            "max": round(max(durations), 3),
        },
        "load": loaded,
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 2)},
    }


def main() -> None:
    """Parse arguments, run, print and write the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = run(args.contacts, args.seed)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
