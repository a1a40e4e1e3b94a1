"""`cem worker` processes for the scale runs, beside tests/faults/processes.py's sandbox and
service processes (same environment rules: only our CEM_* variables reach them)."""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.faults.processes import CEM, _child_env


@dataclass
class WorkerProcess:
    """`cem worker` with the given environment; `kill()` is SIGKILL."""

    env: dict[str, str]
    workdir: Path
    number: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"worker-{self.number}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        # INFO: at DEBUG the queue library and its AMQP client log every frame.
        env = self.env | {"CEM_LOG_LEVEL": "INFO"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [CEM, "worker"], env=_child_env(env), cwd=self.workdir, stdout=log, stderr=log
            )

    def wait_ready(self, timeout: float = 120) -> None:
        """Until it says it consumes (its imports and model loading done)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"cem worker exited: {self.log_path.read_text()[-2000:]}")
            if self.log_path.exists() and "consuming" in self.log_path.read_text():
                return
            time.sleep(0.2)
        raise RuntimeError("cem worker did not start consuming")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: its unacknowledged messages go back to the queue."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
