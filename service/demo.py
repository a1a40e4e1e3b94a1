"""`cem demo` / `make demo`: the service on a local SQLite file with a fresh admin key.

Later milestones extend this into the whole loop against the sandbox CRMs; today it starts the
API so an integration engineer can try it within a minute, with no credentials to find.
"""

from __future__ import annotations

from pathlib import Path

import typer

from service.config import load_settings
from service.main import create_app
from service.store.keys import ApiKeyRepository, Scope

DEMO_DIR = Path(".cem")


def run_demo(port: int) -> None:
    """Create a key on `.cem/demo.db`, print how to use it, and serve until Ctrl-C."""
    import uvicorn

    DEMO_DIR.mkdir(exist_ok=True)
    settings = load_settings(
        database_url=f"sqlite:///{(DEMO_DIR / 'demo.db').resolve()}", port=port, log_format="text"
    )
    app = create_app(settings)
    created = ApiKeyRepository(app.state.engine).create("demo", [Scope.ADMIN])
    base = f"http://{settings.host}:{port}"
    typer.echo(
        "\n".join(
            [
                "cem-bridge demo",
                f"  API docs:  {base}/docs",
                f"  health:    {base}/healthz   readiness: {base}/readyz   metrics: {base}/metrics",
                f"  admin key: {created.key}",
                f'  try:       curl -H "Authorization: Bearer {created.key}" {base}/v1/keys',
                "  Ctrl-C to stop.",
            ]
        )
    )
    uvicorn.run(app, host=settings.host, port=port, log_config=None, server_header=False)
