"""The OpenAPI document as the app produces it, rendered stably for the committed copy."""

from __future__ import annotations

import json

from service.config import Settings
from service.main import create_app


def render_openapi() -> str:
    """The document for an app with default settings on an in-memory database."""
    app = create_app(Settings(database_url="sqlite:///:memory:", log_level="WARNING"))
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
