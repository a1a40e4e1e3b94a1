"""Values cached per configuration object follow the object, never a stale copy."""

from __future__ import annotations

from service.scoring.caching import MAX_OBJECTS, per_object
from service.scoring.weights import default_weights


def test_cached_per_object_identity() -> None:
    calls: list[object] = []

    @per_object
    def derive(obj: list[int]) -> int:
        calls.append(obj)
        return sum(obj)

    a, b = [1, 2], [1, 2]
    assert derive(a) == 3
    assert derive(a) == 3
    assert derive(b) == 3  # equal but another object: worked out again
    assert calls == [a, b]
    for k in range(MAX_OBJECTS + 1):
        derive([k])
    assert derive(a) == 3  # after the cache was cleared, still right


def test_weight_vector_follows_model_copy() -> None:
    w = default_weights()
    before = w.weight_vector()
    factors = w.factors.model_copy(
        update={"surveys": w.factors.surveys.model_copy(update={"weight": 0.0})}
    )
    changed = w.model_copy(update={"factors": factors})
    assert changed.weight_vector() == (0.0, *before[1:])
    assert w.weight_vector() == before
