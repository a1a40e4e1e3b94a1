"""The quota guard: stop a run cleanly before it burns a CRM's daily API quota.

CRMs report usage on ordinary responses, each in its own headers (each connector's `quota.py` reads
them into a `Usage`). The adapters feed every response's usage to `observe()` and call `check()`
before each call; past the configured share, `CrmQuotaExhaustedError` stops the run, the cursor
already saved, and the next run (after the daily reset) resumes from it. Other integrations share
the same quota, which is why the default share is below 100 %.

"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from service.metrics import CRM_QUOTA_USED
from service.ports import CrmQuotaExhaustedError


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 0.0


class QuotaGuard:
    """Tracks the latest reported usage of one connection and enforces its share; the share
    used is exported as `cem_crm_quota_used_ratio{crm, connection}`."""

    def __init__(self, connection: str, share: float, crm: str = "crm") -> None:
        if not 0 < share <= 1:
            raise ValueError("quota share must be in (0, 1]")
        self.connection = connection
        self.crm = crm
        self.share = share
        self._usage: Usage | None = None
        self._lock = threading.Lock()

    @property
    def usage(self) -> Usage | None:
        return self._usage

    def observe(self, usage: Usage | None) -> None:
        if usage is not None:
            with self._lock:
                self._usage = usage
            CRM_QUOTA_USED.labels(self.crm, self.connection).set(usage.share)

    def check(self) -> None:
        """Raise `CrmQuotaExhaustedError` when usage has reached the allowed share."""
        usage = self._usage
        if usage is not None and usage.limit and usage.used >= self.share * usage.limit:
            raise CrmQuotaExhaustedError(
                f"{usage.used} of {usage.limit} daily API calls used; this connection may use "
                f"{self.share:.0%}. The run stops here and resumes from its cursor next time.",
                connection=self.connection,
            )
