"""The processes of a fault-suite run: a sandbox CRM (`cem sandbox serve`) and the service
(`cem serve`), each a real OS process, so the service can be SIGKILLed and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

from tests.contract.harness import SandboxAdmin

CEM = str(Path(sys.executable).with_name("cem"))
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    # Our own CEM_* variables only: none from the calling shell may change the run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEM_")}
    env.update(extra)
    return env


class SandboxProcess:
    """`cem sandbox serve --crm <crm> --json` in its own process; quacks like a SandboxServer
    (`base_url`, `session()`) so the contract suite's `SandboxAdmin` drives it."""

    def __init__(self, crm: str, customers: int, seed: int, workdir: Path) -> None:
        self.crm = crm
        self.log_path = workdir / f"sandbox-{crm}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                CEM,
                "sandbox",
                "serve",
                "--crm",
                crm,
                "--customers",
                str(customers),
                "--seed",
                str(seed),
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=_child_env({}),
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"sandbox {crm} did not start: {self.log_path.read_text()[-2000:]}")
        self.info: dict[str, Any] = json.loads(line)[crm]
        self.base_url: str = self.info["base_url"]
        self.ca_path: str | None = self.info.get("ca_cert")
        self.admin = SandboxAdmin(self)  # type: ignore[arg-type]

    def session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False
        if self.ca_path:
            session.verify = self.ca_path
        return session

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session().post(f"{self.base_url}/__sandbox/{path}", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json() if response.content else {}
        return result

    def put(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.session().put(f"{self.base_url}/__sandbox/{path}", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.session().get(f"{self.base_url}/__sandbox/{path}", params=params)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


@dataclass
class ServiceProcess:
    """`cem serve` with the given environment; `kill()` is SIGKILL, `start()` starts it again.
    Everything it prints (both streams, every life) is appended to one log file."""

    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    lives: int = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / "service.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        """Run `cem <args>` with the service's environment; its stdout (stderr kept in the log)."""
        with self.log_path.open("ab") as log:
            done = subprocess.run(
                [CEM, *args],
                env=_child_env(self.env),
                cwd=self.workdir,
                stdout=subprocess.PIPE,
                stderr=log,
                check=False,
                timeout=600,
            )
        if done.returncode != 0:
            raise RuntimeError(f"cem {args[0]} failed: {self.log_path.read_text()[-2000:]}")
        return done.stdout.decode()

    def start(self) -> None:
        self.lives += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [CEM, "serve", "--port", str(self.port)],
            env=_child_env(self.env),
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cem serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError("cem serve did not become healthy in 120 s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, the job is left `running` with a stale heartbeat."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def wait_dead(self, timeout: float) -> bool:
        assert self.process is not None
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
