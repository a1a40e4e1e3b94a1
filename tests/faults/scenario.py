"""One run of the whole loop (pull → score → push incl. tasks) through the real service process
against a sandbox CRM process: clean, under the fault mix, with SIGKILLs, or until the quota
runs out. The fault, crash and quota tests and `python -m bench.faults` are built on it."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from adapters.registry import connection_settings
from service.config import Settings
from service.main import build_connection
from service.store.database import make_engine, upgrade
from service.store.keys import ApiKeyRepository, Scope
from tests.faults import databases
from tests.faults.crm_state import WRITE_PATHS, CrmState, WriteCounts, snapshot, write_counts
from tests.faults.processes import SandboxProcess, ServiceProcess

SEED = 5
# Scoring instant of every run (CEM_TESTING_AS_OF): runs minutes apart compute the same values.
AS_OF = "2026-11-01T12:00:00+00:00"
CONNECTION = "org"
ROUTES = {"salesforce": "* /services/data/*", "hubspot": "* /crm/*"}
READ_TIMEOUT = 2.0
MAX_QUOTA_DAYS = 3


def fault_mix(crm: str) -> dict[str, Any]:
    """Issue #8's mix on every data API call: 5xx 10 %, 429 5 %, timeouts, slow answers,
    connection resets and UNABLE_TO_LOCK_ROW (Salesforce's lock error; HubSpot's rendering)."""
    return {
        "route": ROUTES[crm],
        "error_5xx": 0.10,
        "rate_limited": 0.05,
        "timeout": 0.01,
        "timeout_seconds": READ_TIMEOUT + 1.0,  # past the service's read timeout
        "slow": 0.05,
        "slow_seconds": 0.3,
        "reset": 0.01,
        "unable_to_lock_row": 0.03,
        "retry_after_seconds": 0,
    }


@dataclass
class Kill:
    """One planned death: `at` is "pull" (job progress `pulled` >= `threshold`), "push" (this
    many more write requests reached the CRM), or a crash point of service/testing_hooks.py
    ("after_crm_write" / "after_task_write", `threshold` = which occurrence)."""

    at: str
    threshold: int
    happened: bool = False  # killed (a crash point: armed, and the process died by itself)
    armed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "threshold": self.threshold, "happened": self.happened}


@dataclass
class RunResult:
    crm: str
    mode: str
    customers: int
    job: dict[str, Any]
    state: CrmState
    writes: WriteCounts
    requests: int
    faulted_requests: int
    write_requests: int
    seconds: float
    lives: int
    kills: list[Kill] = field(default_factory=list)
    paused: dict[str, Any] | None = None
    secrets: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)  # files the service wrote (for the scan)
    api_bodies: list[str] = field(default_factory=list)  # job API answers and OpenAPI document
    days: int = 1  # sandbox days the run took (the quota run)


def credentials(sandbox: SandboxProcess, quota: bool) -> tuple[dict[str, str], list[str]]:
    """Connection settings from the sandbox's credentials; and every secret among them."""
    prefix = f"CEM_CONNECTIONS__{CONNECTION}__"
    env = {f"{prefix}KIND": sandbox.crm, f"{prefix}BASE_URL": sandbox.base_url}
    oauth = sandbox.info["oauth"]
    if sandbox.crm == "salesforce":
        minted = sandbox.post("salesforce/sessions", {"with_refresh_token": True})
        env |= {
            f"{prefix}CA_BUNDLE": str(sandbox.ca_path),
            f"{prefix}CLIENT_ID": oauth["client_id"],
            f"{prefix}CLIENT_SECRET": oauth["client_secret"],
            f"{prefix}REFRESH_TOKEN": minted["refresh_token"],
            f"{prefix}USERNAME": oauth["username"],
            f"{prefix}PASSWORD": oauth["password"],
        }
        secrets = [oauth["client_secret"], minted["refresh_token"], oauth["password"]]
    elif quota:
        # A private-app token: only static tokens get the daily-usage headers the guard reads.
        env[f"{prefix}ACCESS_TOKEN"] = sandbox.info["access_token"]
        secrets = [sandbox.info["access_token"]]
    else:
        minted = sandbox.post("hubspot/oauth/refresh-token", {})
        env |= {
            f"{prefix}CLIENT_ID": minted["client_id"],
            f"{prefix}CLIENT_SECRET": oauth["client_secret"],
            f"{prefix}REFRESH_TOKEN": minted["refresh_token"],
        }
        secrets = [oauth["client_secret"], minted["refresh_token"]]
    env[f"{prefix}READ_TIMEOUT"] = str(READ_TIMEOUT)
    return env, secrets


def service_env(database_url: str) -> dict[str, str]:
    return {
        "CEM_DATABASE_URL": database_url,
        "CEM_LOG_LEVEL": "DEBUG",
        "CEM_LOG_FORMAT": "json",
        # The lexicon keeps 10,000 customers' histories affordable on a busy machine; the
        # embedding model is measured by its own benchmark.
        "CEM_SENTIMENT__BACKENDS": '{"*": ["lexicon"]}',
        "CEM_JOBS__POLL_SECONDS": "0.2",
        "CEM_JOBS__HEARTBEAT_SECONDS": "0.5",
        # A killed runner's job is taken back this long after its last heartbeat. Not much less:
        # a job taken for dead while it runs would run twice at once (on SQLite a heartbeat
        # waits for the job's own write of a page of records: much more there).
        "CEM_JOBS__STALE_AFTER_SECONDS": str(databases.STALE_SECONDS[databases.kind(database_url)]),
        "CEM_JOBS__MAX_ATTEMPTS": "50",
        "CEM_WEBHOOKS__ENABLED": "false",
        "CEM_TESTING_AS_OF": AS_OF,
    }


def prepare(env: dict[str, str]) -> str:
    """What an operator does before the first sync, done in this process to spare two process
    starts (`cem setup` and `cem keys create` do the same): create the database, provision our
    fields in the CRM, make an API key; returns the key."""
    prefix = f"CEM_CONNECTIONS__{CONNECTION}__"
    fields = {k.removeprefix(prefix).lower(): v for k, v in env.items() if k.startswith(prefix)}
    connection = connection_settings(**fields)  # type: ignore[arg-type]
    settings = Settings(connections={CONNECTION: connection})
    build_connection(settings, CONNECTION).writer.provision(dry_run=False)
    engine = make_engine(env["CEM_DATABASE_URL"])
    try:
        with _MIGRATING:
            upgrade(engine)
        return ApiKeyRepository(engine).create("faults", [Scope.ADMIN]).key
    finally:
        engine.dispose()


_MIGRATING = threading.Lock()  # Alembic keeps global state: one migration at a time per process


class Run:
    """Drives one run; `result()` after `finish()`."""

    def __init__(
        self,
        crm: str,
        customers: int,
        workdir: Path,
        *,
        mode: str = "clean",
    ) -> None:
        self.crm, self.customers, self.mode = crm, customers, mode
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self.sandbox = SandboxProcess(crm, customers, SEED, workdir)
        if crm == "hubspot":
            # The sandbox's own HubSpot limiter is off: the injected 429s stand for it, and the
            # quota run turns the daily budget on by itself.
            self.sandbox.put("hubspot/settings", {"rate_limits": {"enabled": False}})
        try:
            conn_env, self.secrets = credentials(self.sandbox, quota=mode == "quota")
            self.database_url = databases.create(workdir)
            self.service = ServiceProcess(service_env(self.database_url) | conn_env, workdir)
            self.key = prepare(self.service.env)
        except BaseException:
            self.sandbox.stop()  # no process left behind when the run cannot start
            raise
        self.secrets.append(self.key)
        self.api_bodies: list[str] = []
        self.kills: list[Kill] = []
        self.sandbox.admin.clear_requests()
        self.sandbox.put("requests/capture", {"path_glob": WRITE_PATHS[crm]})

    # -- the service's API ---------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = requests.request(
            method,
            f"{self.service.url}{path}",
            headers={"X-API-Key": self.key},
            timeout=30,
            **kwargs,
        )
        self.api_bodies.append(response.text)
        return response

    def submit(self) -> str:
        response = self.api("POST", "/v1/syncs", json={"connection": CONNECTION})
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def job(self, job_id: str) -> dict[str, Any] | None:
        """The job as the API shows it; None when the service died (at a crash point)."""
        for _ in range(20):
            try:
                body: dict[str, Any] = self.api("GET", f"/v1/jobs/{job_id}").json()
                return body
            except requests.RequestException:
                if not self.service.alive():
                    return None
                time.sleep(0.5)
        raise RuntimeError("the service stopped answering")

    # -- driving -------------------------------------------------------------------------

    def faults(self, on: bool, seed: int = 42) -> None:
        self.sandbox.admin.faults([fault_mix(self.crm)] if on else [], seed=seed)

    def write_requests(self) -> int:
        return int(self.sandbox.get("requests", path_glob=WRITE_PATHS[self.crm], limit=0)["count"])

    def until_done(
        self, job_id: str, plan: list[Kill] | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Poll the job to a final (or paused) state, carrying out the kills of `plan` in order;
        a killed service is started again (without any crash point)."""
        if timeout is None:
            # A guard against a hung job, not a speed target: a crash run at 10,000 customers
            # sharing two cores with seven other runs needs more than an hour.
            timeout = 3600 + 0.6 * self.customers
        plan = list(plan or [])
        self.kills.extend(plan)
        deadline = time.monotonic() + timeout
        base_writes = self.write_requests()
        while time.monotonic() < deadline:
            if not self.service.alive():
                armed = next((k for k in plan if k.armed and not k.happened), None)
                if armed is not None:
                    armed.happened = True  # it died by its own hand, at the crash point
                self.service.env.pop("CEM_TESTING_CRASH_AT", None)
                self.service.start()
                base_writes = self.write_requests()
                continue
            job = self.job(job_id)
            if job is None:
                continue
            if job["state"] in ("succeeded", "failed", "cancelled", "paused"):
                return job
            pending = next((k for k in plan if not k.happened), None)
            if pending is not None and pending.armed:
                pass  # waiting for the service to reach the crash point
            elif pending is not None and self._due(pending, job, base_writes):
                if pending.at in ("pull", "push"):
                    pending.happened = True
                    self.service.kill()
                else:  # kill now and arm the crash point for the service's next life
                    pending.armed = True
                    self.service.kill()
                    self.service.env["CEM_TESTING_CRASH_AT"] = f"{pending.at}:{pending.threshold}"
                    self.service.start()
                    base_writes = self.write_requests()
                continue
            time.sleep(0.25)
        raise AssertionError(f"job {job_id} not done in {timeout:.0f} s: {self.job(job_id)}")

    def _due(self, kill: Kill, job: dict[str, Any], base_writes: int) -> bool:
        if job["state"] != "running":
            return False
        if kill.at == "pull":
            return int(job["progress"].get("pulled", 0)) >= kill.threshold
        if kill.at == "push":
            return self.write_requests() - base_writes >= kill.threshold
        # A crash point (the service kills itself there): kill now, arm it for the next life.
        return True

    def finish(self, job: dict[str, Any], paused: dict[str, Any] | None = None) -> RunResult:
        self.faults(False)
        entries = self.sandbox.admin.requests()
        self.api("GET", "/openapi.json")
        self.service.stop()
        state = snapshot(self.sandbox)
        # Calls that drew an injected fault (a slow one still answered) or were refused.
        faulted = sum(1 for e in entries if e.get("fault") or not 200 <= int(e["status"]) < 300)
        writes = [e for e in entries if "body" in e]
        result = RunResult(
            crm=self.crm,
            mode=self.mode,
            customers=self.customers,
            job=job,
            state=state,
            writes=write_counts(self.crm, entries),
            requests=len(entries),
            faulted_requests=faulted,
            write_requests=len(writes),
            seconds=round(time.monotonic() - self.started, 1),
            lives=self.service.lives,
            kills=self.kills,
            paused=paused,
            secrets=list(self.secrets),
            written=[
                self.service.log_path,
                databases.dump(self.database_url, self.workdir / "database-dump.txt"),
            ],
            api_bodies=self.api_bodies,
        )
        self.sandbox.stop()
        return result

    def close(self) -> None:
        self.service.stop()
        self.sandbox.stop()
        databases.drop(self.database_url)


def clean_run(crm: str, customers: int, workdir: Path, *, faults: bool = False) -> RunResult:
    """The loop once, to completion, with or without the fault mix."""
    run = Run(crm, customers, workdir, mode="faults" if faults else "clean")
    try:
        run.faults(faults)
        run.service.start()
        job = run.until_done(run.submit())
        return run.finish(job)
    finally:
        run.close()


def crash_plan(clean: RunResult, seed: int) -> list[Kill]:
    """Random points of death, chosen from the clean run's progress: twice mid-pull, right after
    the CRM confirmed a field write (before our ledger knew), mid-push, and right after the CRM
    created tasks (before our task ledger knew)."""
    rng = random.Random(seed)
    pulled = int(clean.job["progress"]["pulled"])
    chunks = max(1, -(-int(clean.job["progress"].get("pushed", 1)) // 1000))
    return [
        Kill("pull", int(pulled * rng.uniform(0.15, 0.45))),
        Kill("pull", int(pulled * rng.uniform(0.55, 0.9))),
        Kill("after_crm_write", rng.randint(1, chunks)),
        Kill("push", rng.randint(1, max(1, clean.write_requests // 3))),
        Kill("after_task_write", 1),
    ]


def crash_run(
    crm: str, customers: int, workdir: Path, plan: list[Kill], *, faults: bool = True
) -> RunResult:
    """The loop under the fault mix with the service SIGKILLed at each point of `plan`."""
    run = Run(crm, customers, workdir, mode="crash")
    try:
        run.faults(faults)
        run.service.start()
        job = run.until_done(run.submit(), plan)
        return run.finish(job)
    finally:
        run.close()


def quota_run(crm: str, customers: int, workdir: Path, clean: RunResult) -> RunResult:
    """The daily quota runs out mid-sync: the job pauses with a clear status; a day later on the
    sandbox clock it is resumed and finishes from its cursor."""
    run = Run(crm, customers, workdir, mode="quota")
    try:
        # A day's budget the whole run fits in, most of it already spent today: the guard stops
        # the run at 80 % of the budget (the default QUOTA_SHARE), about half-way through.
        budget = 2 * clean.requests + 40
        spent = int(budget * 0.8) - max(3, clean.requests // 2)
        if crm == "salesforce":
            run.sandbox.put("salesforce/limits", {"daily_max": budget, "used": spent})
        else:
            limits = {"enabled": True, "burst": 10**6, "search_per_second": 10**6, "daily": budget}
            run.sandbox.put("hubspot/settings", {"rate_limits": limits})
            run.sandbox.post("hubspot/quota", {"spend": spent})
        run.service.start()
        job_id = run.submit()
        paused = job = run.until_done(job_id)
        days = 1
        while job["state"] == "paused" and days < MAX_QUOTA_DAYS:
            # The next day on the sandbox clock; the job is woken now instead of at its
            # `run_after` (an hour of real time away) through the API's resume call.
            run.sandbox.admin.advance_clock(86_400)
            days += 1
            resumed = run.api("POST", f"/v1/jobs/{job_id}/resume")
            assert resumed.status_code in (200, 202), resumed.text
            job = run.until_done(job_id)
        result = run.finish(job, paused=paused)
        result.days = days
        return result
    finally:
        run.close()


def lost(clean: CrmState, other: CrmState) -> list[str]:
    """Records whose fields differ from the clean run's (missing, extra or other values)."""
    ids = clean.fields.keys() | other.fields.keys()
    return sorted(i for i in ids if clean.fields.get(i) != other.fields.get(i))


def report(clean: RunResult, other: RunResult) -> dict[str, Any]:
    """The numbers issue #8 asks for, of `other` against the clean run."""
    return {
        "crm": other.crm,
        "mode": other.mode,
        "customers": other.customers,
        "job_state": other.job["state"],
        "records_with_fields": len(other.state.fields),
        "records_lost": len(lost(clean.state, other.state)),
        "tasks": sum(other.state.tasks.values()),
        "duplicate_tasks": sum(n - 1 for n in other.state.tasks.values() if n > 1),
        "missing_tasks": len(clean.state.tasks.keys() - other.state.tasks.keys()),
        "duplicate_field_writes": other.writes.duplicate_field_writes,
        "duplicate_task_writes": other.writes.duplicate_task_writes,
        "api_calls": other.requests,
        "api_calls_clean": clean.requests,
        "extra_api_calls": other.requests - clean.requests,
        "faulted_api_calls": other.faulted_requests,
        "service_lives": other.lives,
        "kills": [k.to_json() for k in other.kills],
        "seconds": other.seconds,
        "seconds_clean": clean.seconds,
        **({"paused": _paused_view(other.paused), "days": other.days} if other.paused else {}),
    }


def _paused_view(job: dict[str, Any]) -> dict[str, Any]:
    return {k: job.get(k) for k in ("state", "error", "run_after", "progress")}
