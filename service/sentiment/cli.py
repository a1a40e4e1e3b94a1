"""`cem sentiment`: JSON lines in, JSON lines out.

Each input line is `{"id": ..., "text": ..., "lang"?: ...}`; each output line is
`{"id", "label", "score", "confidence", "language", "language_confidence", "aspects"}`, in input
order. A bad line gets a
one-line error on stderr naming its line number, the run goes on, and the exit code is 1 at the
end. The lead registers it with `app.command("sentiment")(sentiment_command)`.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from pydantic import ValidationError

from service.sentiment.handlers import score_items
from service.sentiment.pipeline import SentimentAnalyzer
from service.sentiment.schemas import ScoredText, SentimentItem


def _item(line: str) -> SentimentItem:
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if "text" not in data:
        raise ValueError("text: missing")
    return SentimentItem(
        id=None if data.get("id") is None else str(data["id"]),
        text=data.get("text"),
        language=data.get("lang"),
    )


def _problem(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not JSON ({error.msg})"
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        field = {"language": "lang"}.get(str(first["loc"][0]), str(first["loc"][0]))
        return f"{field}: {first['msg']}" if first["loc"] else first["msg"]
    return str(error)


def _line(result: ScoredText) -> str:
    out: dict[str, Any] = {
        "id": result.id,
        "label": result.label.value,
        "score": result.score,
        "confidence": result.confidence,
        "language": result.language,
        "language_confidence": result.language_confidence,
        "aspects": [
            {"aspect": a.aspect.value, "label": a.label.value, "score": a.score}
            for a in result.aspects
        ],
    }
    return json.dumps(out, ensure_ascii=False)


def run(
    source: TextIO, sink: TextIO, errors: TextIO, analyzer: SentimentAnalyzer, batch: int
) -> int:
    """Score every line of `source`; return the number of bad lines."""
    bad = 0
    pending: list[SentimentItem] = []

    def flush() -> None:
        for result in score_items(pending, analyzer):
            sink.write(_line(result) + "\n")
        sink.flush()
        pending.clear()

    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            pending.append(_item(line))
        except (ValueError, ValidationError) as error:
            bad += 1
            errors.write(f"line {number}: {_problem(error)}\n")
            continue
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return bad
