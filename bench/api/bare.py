"""The baseline: a bare FastAPI endpoint served exactly as `cem serve` serves the real app.

Same uvicorn call (`log_config=None`, `server_header=False`, the same number of worker processes)
and the same JSON logging set-up with one access-log line per request (uvicorn's here; `cem serve`
turns uvicorn's off and writes its own from RequestContextMiddleware), so the comparison isolates
what cem-bridge adds: auth, middleware, validation, sentiment and scoring. The endpoint parses the
JSON body (as any real endpoint must) and answers a constant.

Run: `python -m bench.api.bare --port 8101 [--workers N]`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from service.logs import configure_logging
from service.serving import run

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/score")
async def bare(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"ok": True, "customer_id": body.get("customer", {}).get("id")}


def serve_from_command_line(
    description: str, app: Callable[[], FastAPI], factory: str, *, access_log: bool
) -> None:
    """`--host --port --workers`, then serve as `cem serve` does (`service.serving.run`):
    `app()` in this process for one worker, `factory` in each worker process otherwise."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    run(
        app() if args.workers == 1 else None,
        factory,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=access_log,
    )


def main() -> None:
    # uvicorn's access line: the bare endpoint's one line a request (cem writes its own).
    serve_from_command_line(__doc__ or "", create_app, "bench.api.bare:create_app", access_log=True)


def create_app() -> FastAPI:
    """The factory each worker process calls (it sets up the same logging first)."""
    configure_logging("INFO", "json", [])
    return app


if __name__ == "__main__":
    main()
