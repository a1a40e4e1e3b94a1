"""Verified API keys are kept in memory for a few seconds, so the hot path skips the database;
a revocation in this process takes effect at once, one by another process within that time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from service.store.keys import VERIFIED_KEY_SECONDS, ApiKeyRepository, Scope, _VerifiedKeys
from service.store.tables import ApiKey


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _revoke_elsewhere(engine: Engine, key_id: str) -> None:
    """What `cem keys revoke` in another process does: the row changes, this process's
    memory does not hear of it."""
    with Session(engine) as session:
        revoke = update(ApiKey).where(col(ApiKey.id) == key_id).values(revoked_at=datetime.now(UTC))
        session.execute(revoke)
        session.commit()


def test_a_verified_key_is_trusted_until_its_time_is_up(engine: Engine) -> None:
    clock = Clock()
    keys = ApiKeyRepository(engine, clock=clock)
    created = keys.create("zapier", [Scope.READ])
    assert keys.recently_verified(created.key) is None  # never checked yet
    info = keys.authenticate(created.key)
    assert info is not None
    assert keys.recently_verified(created.key) == info

    _revoke_elsewhere(engine, created.info.id)
    clock.now += VERIFIED_KEY_SECONDS - 0.1
    assert keys.recently_verified(created.key) == info  # the bounded window
    clock.now += 0.2
    assert keys.recently_verified(created.key) is None
    assert keys.authenticate(created.key) is None  # the database says revoked


def test_revoking_in_this_process_takes_effect_at_once(engine: Engine) -> None:
    keys = ApiKeyRepository(engine)
    other = ApiKeyRepository(engine)  # e.g. the CLI's repository beside the app's
    created = keys.create("zapier", [Scope.READ])
    assert keys.authenticate(created.key) is not None
    assert other.revoke(created.info.id) is not None
    assert keys.recently_verified(created.key) is None
    assert keys.authenticate(created.key) is None


def test_unknown_and_wrong_keys_are_never_remembered(engine: Engine) -> None:
    keys = ApiKeyRepository(engine)
    created = keys.create("zapier", [Scope.READ])
    forged = created.key[:-4] + "0000"
    assert keys.authenticate(forged) is None
    assert keys.recently_verified(forged) is None
    assert keys.authenticate("cem_nosuchkey_" + "0" * 64) is None
    assert keys.recently_verified("cem_nosuchkey_" + "0" * 64) is None


def test_no_memory_when_the_window_is_zero(engine: Engine) -> None:
    keys = ApiKeyRepository(engine, verified_seconds=0)
    created = keys.create("zapier", [Scope.READ])
    assert keys.authenticate(created.key) is not None
    assert keys.recently_verified(created.key) is None


def test_the_memory_is_bounded(engine: Engine) -> None:
    memory = _VerifiedKeys(limit=2)
    keys = ApiKeyRepository(engine)
    infos = [keys.create(f"k{n}", [Scope.READ]).info for n in range(3)]
    for n, info in enumerate(infos):
        memory.put(("db", f"hash{n}"), info, expires=2000.0)
    assert memory.get(("db", "hash0"), now=1000.0) is None  # the oldest went out
    assert memory.get(("db", "hash2"), now=1000.0) == infos[2]
    assert memory.get(("db", "hash2"), now=2000.0) is None  # expired
