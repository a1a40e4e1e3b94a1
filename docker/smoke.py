"""Smoke test of an installed cem-bridge, run by `make test-image` with the clean venv's python in
an empty directory (`python -I`: no source tree, no PYTHON* variables on the path).

What it proves, in the order it checks: every module and every data file (mappings, migrations,
sentiment and scoring data, sandbox data) resolves from site-packages; nothing beyond the runtime
lock is installed; then, per database (SQLite, plus PostgreSQL when a URL is given): `cem db
upgrade`, `cem setup` and `cem keys create` work, `cem serve` answers `/readyz` 200, `POST
/v1/score` scores a customer (the embedding model loads from its wheel), a `POST /v1/syncs` job
against `cem sandbox serve` (HubSpot emulator, token from a secret file) succeeds, the SQLite file
is 0600, and no secret appears in the service's output.

Standard library only, plus psycopg from the installed set to create a throwaway database.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

CEM = str(Path(sys.executable).with_name("cem"))
CONNECTION = "sandbox"
SCORE_REQUEST = {
    "as_of": "2026-11-22T12:00:00Z",
    "customer": {"id": "c-1", "language": "vi", "created_at": "2024-03-02T09:00:00Z"},
    "surveys": [{"kind": "nps", "value": 4, "occurred_at": "2026-11-20T08:15:00Z"}],
    "interactions": [
        {
            "channel": "chat",
            "occurred_at": "2026-11-21T10:02:00Z",
            "text": "Giao hàng trễ ba ngày, tôi rất thất vọng.",
        },
        {
            "channel": "email",
            "language": "en",
            "occurred_at": "2026-10-02T16:40:00Z",
            "text": "Thanks, the new plan works great!",
        },
    ],
}
# Modules and the data each one reads at run time, checked from a fresh interpreter.
PACKAGE_CHECK = r"""
import json
from importlib import resources
import adapters, sandbox, service
from adapters.mapping.loader import DEFAULT_DIR, load_mappings
from service.store.database import MIGRATIONS_DIR
mappings = load_mappings()
found = {
    "service": service.__file__, "adapters": adapters.__file__, "sandbox": sandbox.__file__,
    "mappings": str(DEFAULT_DIR), "migrations": str(MIGRATIONS_DIR),
    "sentiment data": str(resources.files("service.sentiment").joinpath("data", "e5_head.json")),
    "scoring data": str(resources.files("service.scoring").joinpath("data/playbooks.yaml")),
    "sandbox data": str(resources.files("sandbox.data").joinpath("catalog.yaml")),
}
print(json.dumps({"paths": found, "mappings": len(mappings.mappings)}))
"""


def step(message: str) -> None:
    print(f"  {message}", flush=True)


def fail(message: str) -> None:
    raise SystemExit(f"test-image: FAILED: {message}")


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without any CEM_ or PYTHON variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CEM_", "PYTHON"))}
    return env | extra


def check_package(lock: Path, workdir: Path) -> None:
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    done = subprocess.run(
        [sys.executable, "-I", "-c", PACKAGE_CHECK],
        cwd=workdir,
        env=child_env({}),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        fail(f"the installed package does not load: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout)
    for what, path in report["paths"].items():
        resolved = Path(path).resolve()
        if site not in resolved.parents or not resolved.exists():
            fail(f"{what} resolves to {path}, not to a file under {site}")
    step(f"package data from {site}: {', '.join(report['paths'])}; {report['mappings']} mappings")

    pins = {
        norm(line.split("==")[0])
        for line in lock.read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    }
    installed = {norm(d.metadata["Name"]) for d in metadata.distributions()}
    # The venv's own installer, and the package itself.
    extra = installed - pins - {"cem-bridge", "pip", "setuptools", "wheel"}
    if extra:
        fail(f"installed beyond the runtime lock: {sorted(extra)}")
    missing = pins - installed
    if missing:
        fail(f"runtime pins not installed: {sorted(missing)}")
    step(f"installed: cem-bridge + the {len(pins)} runtime pins, nothing else (no dev tools)")


def http(
    method: str, url: str, body: Any = None, key: str | None = None
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("X-API-Key", key)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            payload = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        payload, status = error.read(), error.code
    try:
        parsed = json.loads(payload) if payload else {}
    except ValueError:
        parsed = {"raw": payload[:500].decode(errors="replace")}
    return status, parsed


class Sandbox:
    """`cem sandbox serve --crm hubspot --json`: a HubSpot emulator with generated customers."""

    def __init__(self, workdir: Path, customers: int) -> None:
        self.log = (workdir / "sandbox.log").open("wb")
        self.process = subprocess.Popen(
            [CEM, "sandbox", "serve", "--crm", "hubspot", "--customers", str(customers), "--json"],
            cwd=workdir,
            env=child_env({}),
            stdout=subprocess.PIPE,
            stderr=self.log,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            log = (workdir / "sandbox.log").read_text()
            fail(f"cem sandbox serve did not start: {log[-2000:]}")
        self.info: dict[str, Any] = json.loads(line)["hubspot"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def run_service(
    name: str, database_url: str, sandbox: Sandbox, workdir: Path, sqlite_file: Path | None
) -> None:
    print(f"test-image: {name}", flush=True)
    started = time.monotonic()
    secrets_dir = workdir / f"secrets-{name}"
    secrets_dir.mkdir(mode=0o700)
    token = sandbox.info["access_token"]
    # The connection's token comes from a secret file (issue 16), the rest from the environment.
    token_file = secrets_dir / f"CEM_CONNECTIONS__{CONNECTION}__ACCESS_TOKEN"
    token_file.write_text(token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    env = child_env(
        {
            "CEM_DATABASE_URL": database_url,
            "CEM_SECRETS_DIR": str(secrets_dir),
            f"CEM_CONNECTIONS__{CONNECTION}__KIND": "hubspot",
            f"CEM_CONNECTIONS__{CONNECTION}__BASE_URL": sandbox.info["base_url"],
            "CEM_LOG_FORMAT": "json",
            "CEM_JOBS__POLL_SECONDS": "0.2",
        }
    )
    log_path = workdir / f"service-{name}.log"

    def cem(*args: str) -> str:
        with log_path.open("ab") as log:
            done = subprocess.run(
                [CEM, *args], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=log, check=False
            )
        if done.returncode != 0:
            fail(f"cem {' '.join(args)} exited {done.returncode}: {log_path.read_text()[-2000:]}")
        return done.stdout.decode()

    step(cem("db", "upgrade").strip())
    fields = cem("setup", CONNECTION).strip().splitlines()
    step(f"cem setup: {len(fields)} fields in the sandbox CRM")
    key = json.loads(cem("keys", "create", "--name", "smoke", "--scope", "admin", "--json"))["key"]
    step("API key created")

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [CEM, "serve", "--port", str(port)], cwd=workdir, env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                fail(f"cem serve exited {server.returncode}: {log_path.read_text()[-2000:]}")
            try:
                status, _ = http("GET", f"{url}/readyz")
            except OSError:
                status = 0
            if status == 200:
                break
            if time.monotonic() > deadline:
                fail(f"/readyz not 200 within 120 s (last {status})")
            time.sleep(0.3)
        step(f"cem serve: /readyz 200 after {time.monotonic() - started:.1f} s")

        status, scored = http("POST", f"{url}/v1/score", SCORE_REQUEST, key)
        if status != 200 or scored.get("nps_class") != "detractor" or "experience" not in scored:
            fail(f"POST /v1/score answered {status}: {json.dumps(scored)[:1000]}")
        labels = [s.get("label") for s in scored.get("sentiment") or [] if isinstance(s, dict)]
        step(f"POST /v1/score 200: nps_class detractor, sentiment {labels or scored['sentiment']}")

        status, queued = http("POST", f"{url}/v1/syncs", {"connection": CONNECTION}, key)
        if status != 202:
            fail(f"POST /v1/syncs answered {status}: {queued}")
        deadline = time.monotonic() + 300
        while True:
            status, job = http("GET", f"{url}/v1/jobs/{queued['id']}", key=key)
            if job.get("state") in ("succeeded", "failed", "cancelled", "paused"):
                break
            if time.monotonic() > deadline:
                fail(f"the sync job did not finish within 300 s: {job}")
            time.sleep(0.5)
        if job["state"] != "succeeded":
            fail(f"the sync job ended {job['state']}: {job.get('error')}")
        step(f"sync job against the sandbox succeeded: {json.dumps(job.get('progress'))[:300]}")
        if sqlite_file is not None:
            modes = {
                p.name: oct(stat.S_IMODE(p.stat().st_mode))
                for p in (sqlite_file, Path(f"{sqlite_file}-wal"), Path(f"{sqlite_file}-shm"))
                if p.exists()
            }
            if set(modes.values()) != {"0o600"}:
                fail(f"database files not owner-only: {modes}")
            step(f"database files owner-only while serving: {modes}")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    output = log_path.read_text(errors="replace")
    leaked = [name for name, value in (("token", token), ("API key", key)) if value in output]
    if leaked:
        fail(f"secrets in the service's output: {leaked}")
    lines = len(output.splitlines())
    step(f"no secret in {lines} lines of output; {time.monotonic() - started:.1f} s")


def postgres_database(url: str, name: str, create: bool) -> str:
    import psycopg  # from the installed runtime set

    admin = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lock", type=Path, required=True)
    parser.add_argument("--postgres", help="an admin URL; a throwaway database is made on it")
    parser.add_argument("--customers", type=int, default=20)
    args = parser.parse_args()
    workdir = Path.cwd()
    if any(workdir.iterdir()):
        fail(f"{workdir} is not empty")
    os.umask(0o022)  # the usual default: the database file must come out 0600 anyway

    check_package(args.lock, workdir)
    sandbox = Sandbox(workdir, args.customers)
    try:
        sqlite_file = workdir / "data" / "cem.db"
        run_service("sqlite", f"sqlite:///{sqlite_file}", sandbox, workdir, sqlite_file)
        if args.postgres:
            name = f"cem_image_{os.getpid()}"
            url = postgres_database(args.postgres, name, create=True)
            try:
                run_service("postgresql", url, sandbox, workdir, None)
            finally:
                postgres_database(args.postgres, name, create=False)
    finally:
        sandbox.stop()
    print("test-image: passed", flush=True)


if __name__ == "__main__":
    main()
