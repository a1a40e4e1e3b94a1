"""The per-emulator bundle of sandbox controls shared by the middleware and the admin API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.core.clock import SandboxClock
from sandbox.core.faults import FaultInjector
from sandbox.core.requestlog import RequestLog

# Admin and view paths are the sandbox's own controls: never logged, never faulted.
ADMIN_PREFIX = "/__sandbox"


@dataclass
class SandboxState:
    """Clock, fault injector and request log of one emulator, plus its reset hooks."""

    crm: str
    clock: SandboxClock = field(default_factory=SandboxClock)
    faults: FaultInjector = field(default_factory=FaultInjector)
    log: RequestLog = field(default_factory=RequestLog)
    _reset_hooks: list[Callable[[], None]] = field(default_factory=list)
    _data_hooks: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Register emulator state to clear on every `POST /__sandbox/reset` (counters,
        cursors, sessions, ...)."""
        with self._lock:
            self._reset_hooks.append(hook)

    def on_clear_data(self, hook: Callable[[], None]) -> None:
        """Register how to empty the emulator's records; skipped by `reset(keep_data=True)`."""
        with self._lock:
            self._data_hooks.append(hook)

    def reset(self, keep_data: bool = False) -> None:
        """Real time, no faults, empty log, the emulator's reset hooks and, unless
        `keep_data`, its data hooks (an empty CRM)."""
        self.clock.reset()
        self.faults.set_profile(self.faults.profile.model_copy(update={"rules": []}))
        self.log.clear()
        self.log.set_capture(None)
        with self._lock:
            hooks = list(self._reset_hooks)
            if not keep_data:
                hooks += self._data_hooks
        for hook in hooks:
            hook()
