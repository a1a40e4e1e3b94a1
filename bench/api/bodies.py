"""Request bodies for the load test: realistic, multilingual, and varied so the sentiment cache
does not answer every text (each body has its own customer and its own mix of messages)."""

from __future__ import annotations

import copy
import random
from typing import Any

from service.api.schemas.score import EXAMPLE_REQUEST

PHRASES = [
    ("Giao hàng trễ ba ngày, tôi rất thất vọng.", "vi"),
    ("Nhân viên hỗ trợ rất nhiệt tình, cảm ơn nhiều!", "vi"),
    ("Giá hơi cao nhưng chất lượng sản phẩm tốt.", "vi"),
    ("The delivery was late again and nobody answered my emails.", "en"),
    ("Great product, the new dashboard saves me an hour a day.", "en"),
    ("I was charged twice this month, please fix the invoice.", "en"),
    ("Support fixed it quickly, thanks a lot.", "en"),
    ("快递太慢了，客服也不回复。", "zh"),  # noqa: RUF001  (Chinese punctuation)
    ("产品质量很好，价格也合理。", "zh"),  # noqa: RUF001
    ("Tarne hilines ja hind on liiga kõrge.", "et"),
    ("Väga hea teenindus, aitäh!", "et"),
]


def make_bodies(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` distinct requests: 2-6 interactions, 0-2 surveys, 1-8 orders each."""
    rng = random.Random(seed)
    bodies = []
    for n in range(count):
        body = copy.deepcopy(EXAMPLE_REQUEST)
        body["customer"]["id"] = f"c-{n}"
        body["interactions"] = [
            {
                "channel": rng.choice(["chat", "email", "call", "review"]),
                "occurred_at": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T10:00:00Z",
                "text": f"{text} #{n}-{i}",
                "language": language if rng.random() < 0.5 else None,
            }
            for i, (text, language) in enumerate(rng.sample(PHRASES, rng.randint(2, 6)))
        ]
        body["surveys"] = [
            {"kind": "nps", "value": rng.randint(0, 10), "occurred_at": "2026-11-20T08:15:00Z"}
        ][: rng.randint(0, 1)] + [
            {"kind": "csat", "value": rng.randint(1, 5), "occurred_at": "2026-10-20T08:15:00Z"}
        ][: rng.randint(0, 1)]
        body["transactions"] = [
            {
                "amount": round(rng.uniform(20, 900), 2),
                "currency": "EUR",
                "occurred_at": f"2026-{month:02d}-03T10:00:00Z",
            }
            for month in sorted(rng.sample(range(1, 12), rng.randint(1, 8)))
        ]
        bodies.append(body)
    return bodies
