"""Start the sandbox emulators with generated data, for `cem sandbox serve` and `make demo`.

Each connector's sandbox serves itself: `sandbox/<kind>/serve.py` has `serve(options, records,
port) -> Served` (load the records, start listening), `connection_values(info)` (the settings of
a cem-bridge connection to it) and `describe(info)` (lines for `cem sandbox serve`). This module
finds them by kind, so a new connector's emulator is served the day its sandbox is written.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from adapters.registry import kinds as registered_kinds
from sandbox.core.faults import resolve_profile
from sandbox.core.server import SandboxServer
from sandbox.data.churnstatus import ChurnStatus, churn_statuses
from sandbox.data.generate import BLOCK, blocks, generate, truths
from sandbox.data.model import Record

# `--crm all` (and the earlier `both`): every registered connector that has a sandbox.
ALL = "all"
ALIASES = {"both": ALL}


@dataclass(frozen=True)
class ServeOptions:
    """What `cem sandbox serve` was asked for."""

    # Which emulators, by connector kind (empty: the first registered one).
    kinds: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 0
    customers: int = 100
    seed: int = 1
    faults: str = "none"
    dataset: Path | None = None
    tls: bool = True
    page_size: int = 2000
    # The optional churn status on contacts, from the generator's truth (sandbox.data.churnstatus).
    churn_status: bool = False
    # The number of the first generated person, another history and CRM's way of writing
    # contact details, company mailboxes and switchboards: two emulators sharing some persons
    # (sandbox.data.generate).
    first_customer: int = 0
    variant: int = 0
    shared_contacts: bool = False


@dataclass(frozen=True)
class Served:
    """One started emulator and what it tells its users (URLs, credentials, counts)."""

    server: SandboxServer
    info: dict[str, Any]


@dataclass
class RunningSandbox:
    """The started servers and what to tell the user about them."""

    servers: list[SandboxServer] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop every server (and remove the generated TLS material)."""
        for server in self.servers:
            server.stop()


class SandboxUnavailableError(RuntimeError):
    """A requested emulator is not part of this build."""


def _module(kind: str) -> ModuleType:
    try:
        return importlib.import_module(f"sandbox.{kind}.serve")
    except ModuleNotFoundError as exc:
        if exc.name is not None and not exc.name.startswith(f"sandbox.{kind}"):
            raise  # the sandbox exists but something it imports does not: a real error
        raise SandboxUnavailableError(f"no {kind} emulator in this build") from None


def served_kinds() -> tuple[str, ...]:
    """The registered kinds whose sandbox can be served, in registry order."""
    found = []
    for kind in registered_kinds():
        try:
            _module(kind)
        except SandboxUnavailableError:
            continue
        found.append(kind)
    return tuple(found)


def resolve_kinds(names: Iterable[str]) -> tuple[str, ...]:
    """The kinds asked for (`all` or `both`: every servable one); ValueError on an unknown one."""
    wanted: list[str] = []
    for name in names:
        name = ALIASES.get(name, name)
        expanded = served_kinds() if name == ALL else (name,)
        for kind in expanded:
            if kind not in registered_kinds():
                known = ", ".join((*served_kinds(), ALL))
                raise ValueError(f"no emulator of kind {kind!r} (known: {known})")
            if kind not in wanted:
                wanted.append(kind)
    return tuple(wanted)


def connection_values(info: dict[str, Any], kind: str) -> dict[str, Any]:
    """The settings of a cem-bridge connection to the running emulator `kind`, from the `info`
    a sandbox reports (`RunningSandbox.info`, `cem sandbox serve --json`): its URL, credentials,
    CA certificate and the secret its webhooks are signed with."""
    values: dict[str, Any] = _module(kind).connection_values(info[kind])
    return values


def describe(info: dict[str, Any]) -> list[str]:
    """What `cem sandbox serve` prints about each served emulator."""
    lines: list[str] = []
    for kind in registered_kinds():
        if kind in info:
            lines += ["", *_module(kind).describe(info[kind])]
    return lines


def _records(options: ServeOptions) -> Callable[[], Iterator[Record]]:
    def stream() -> Iterator[Record]:
        if options.dataset is not None:
            from sandbox.data.files import read_dataset

            return iter(read_dataset(options.dataset))
        return generate(
            options.seed,
            options.customers,
            first=options.first_customer,
            variant=options.variant,
            shared_contacts=options.shared_contacts,
        )

    return stream


def churn_of(options: ServeOptions, now: datetime) -> dict[str, ChurnStatus] | None:
    """The churn status to give contacts (`--churn-status`), from the generator's truth."""
    if not options.churn_status:
        return None
    if options.dataset is not None:
        from sandbox.data.files import read_truths

        return churn_statuses(read_truths(options.dataset), now)
    end = options.first_customer + options.customers
    part = range(options.first_customer // BLOCK, blocks(end))
    return churn_statuses(truths(options.seed, end, part=part), now)


def listen(app: Any, options: ServeOptions, port: int, *, tls: bool) -> SandboxServer:
    """Serve `app` on `port` of the asked host (OSError with the reason when it cannot)."""
    server = SandboxServer(app, host=options.host, port=port, tls=tls)
    try:
        return server.start()
    except OSError as exc:
        raise OSError(f"cannot listen on port {port}: {exc.strerror or exc}") from None


def start_sandbox(options: ServeOptions) -> RunningSandbox:
    """Load data into the requested emulators and start serving them.

    With several, the n-th listens on `port + n` (each on a free port when `port` is 0).
    """
    resolve_profile(options.faults)  # fail fast on an unknown profile
    chosen = resolve_kinds(options.kinds or served_kinds()[:1])
    running = RunningSandbox()
    running.info = {
        "seed": options.seed,
        "customers": options.customers if options.dataset is None else None,
        "dataset": str(options.dataset) if options.dataset else None,
        "faults": options.faults,
    }
    stream = _records(options)
    try:
        for offset, kind in enumerate(chosen):
            port = options.port + offset if options.port else 0
            served: Served = _module(kind).serve(options, stream(), port)
            running.servers.append(served.server)
            running.info[kind] = served.info
    except BaseException:
        running.stop()
        raise
    return running
