"""The baseline: a bare FastAPI endpoint served exactly as `cem serve` serves the real app.

Same uvicorn call (`log_config=None`, `server_header=False`, one process, access log on) and the
same JSON logging set-up, so the comparison isolates what cem-bridge adds: auth, middleware,
validation, sentiment and scoring. The endpoint parses the JSON body (as any real endpoint must)
and answers a constant.

Run: `python -m bench.api.bare --port 8101`.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI, Request

from service.logs import configure_logging

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/score")
async def bare(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"ok": True, "customer_id": body.get("customer", {}).get("id")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    configure_logging("INFO", "json", [])
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, server_header=False)


if __name__ == "__main__":
    main()
