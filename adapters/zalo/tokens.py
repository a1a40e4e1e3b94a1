"""The OA's tokens, shared by every worker of a connection and kept across restarts.

Zalo refresh tokens are single-use and rotate: each refresh returns a new refresh token and the
one it was made with stops working (docs/zalo.md "OAuth"). A worker that refreshed and kept
the new token in memory would, on a restart, go back to the configured REFRESH_TOKEN, already
burnt; two workers refreshing at once would burn it for each other. So the tokens live in one
small JSON file (`TOKEN_STORE`) and a refresh happens under an exclusive lock on it (`flock` on
a lock file beside it): whoever takes the lock second re-reads the file and finds the tokens the
first one got, instead of spending a refresh token that is no longer valid.

Why a file: every worker of a connection runs on the host (or the volume) that holds the
service's other state, it needs no new service, and `flock` is released by the kernel if the
holder dies. Workers on several hosts need a shared volume, or a store with the same two
operations (read, replace under a lock) on the database or Redis (docs/zalo.md).

The file holds the tokens and a fingerprint (SHA-256) of the configured REFRESH_TOKEN they
descend from: when an operator reconnects the OA and sets a new REFRESH_TOKEN, the stored
chain is left for the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

# Refresh this long before the stated expiry (a call in flight must not carry a dying token).
EXPIRY_MARGIN_SECONDS = 300.0


@dataclass(frozen=True)
class Tokens:
    """One generation of the OA's tokens."""

    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds
    seed: str  # fingerprint of the configured REFRESH_TOKEN this chain started from

    def __repr__(self) -> str:  # never the tokens themselves
        return f"Tokens(expires_at={self.expires_at!r})"


def fingerprint(token: str) -> str:
    """A one-way name of a refresh token (safe to store beside the chain it seeded)."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The tokens in a JSON file (mode 0600), replaced atomically, locked with `flock`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._threads = threading.Lock()  # flock is per open file: threads queue here first

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"

    def read(self) -> Tokens | None:
        """The stored tokens, or None when there are none (or the file is unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return Tokens(
                str(data["access_token"]),
                str(data["refresh_token"]),
                float(data["expires_at"]),
                str(data["seed"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self, tokens: Tokens) -> None:
        """Replace the stored tokens (a reader sees the old file or the new one, never half)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(asdict(tokens), out)
                out.flush()
                os.fsync(out.fileno())
            Path(temporary).chmod(0o600)
            Path(temporary).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(temporary).unlink()
            raise

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock (across threads and processes)."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        with self._threads, self._lock_path.open("a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


# refresh token -> (access token, new refresh token, seconds the access token lives)
Exchange = Callable[[str], tuple[str, str, float]]


class TokenKeeper:
    """The access token to call with: from memory, from the store, or from a refresh."""

    def __init__(
        self,
        store: TokenStore,
        refresh_token: str,
        exchange: Exchange,
        *,
        access_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._seed_token = refresh_token
        self._seed = fingerprint(refresh_token)
        self._exchange = exchange
        self._clock = clock
        self._tokens: Tokens | None = None
        self._configured = access_token
        self.refreshes = 0  # refreshes this keeper made (tests count them)

    def __repr__(self) -> str:
        return f"TokenKeeper(store={self.store!r})"

    def _usable(self, tokens: Tokens | None) -> bool:
        return (
            tokens is not None
            and tokens.seed == self._seed
            and tokens.expires_at - EXPIRY_MARGIN_SECONDS > self._clock()
        )

    def current(self) -> str:
        """A valid access token: the one held, the stored one, else a fresh one."""
        if self._usable(self._tokens):
            assert self._tokens is not None
            return self._tokens.access_token
        stored = self.store.read()
        if self._usable(stored):
            assert stored is not None
            self._tokens = stored
            return stored.access_token
        if self._configured is not None and (stored is None or stored.seed != self._seed):
            # The configured access token, until Zalo says it is invalid (-216).
            return self._configured
        return self.renew(stale=None)

    def renew(self, stale: str | None) -> str:
        """A new access token after `stale` was refused; refreshes at most once per stale
        token across every worker sharing the store."""
        if stale is not None and stale == self._configured:
            self._configured = None
        with self.store.locked():
            stored = self.store.read()
            if (
                self._usable(stored)
                and stored is not None
                and stored.access_token != stale
                and (self._tokens is None or stored.access_token != self._tokens.access_token)
            ):
                # Another worker refreshed while we waited: its tokens are ours too.
                self._tokens = stored
                return stored.access_token
            chain = stored is not None and stored.seed == self._seed
            refresh = stored.refresh_token if chain and stored is not None else self._seed_token
            access, rotated, lifetime = self._exchange(refresh)
            self.refreshes += 1
            tokens = Tokens(access, rotated, self._clock() + lifetime, self._seed)
            self.store.write(tokens)
            self._tokens = tokens
            return access
