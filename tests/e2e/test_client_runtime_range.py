"""The client installs and works on the oldest and the newest grpcio/protobuf its metadata allows.

Each case makes a fresh venv (outside the repository's .venv), installs ./client
with the pinned minimum versions or with the latest releases, and runs
client_runtime_smoke.py there against a real server. pip's cache keeps a warm
run to about half a minute per case.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import google.protobuf
import grpc
import pytest

from .conftest import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).with_name("client_runtime_smoke.py")
# The floors of client/pyproject.toml, installed exactly (a test below keeps the two in step).
MINIMUM = {
    "grpcio": "1.62.0",
    "grpcio-status": "1.62.0",
    "googleapis-common-protos": "1.63.1",
    "protobuf": "5.26.0",
}
INSTALLS = {
    "minimum": [f"{name}=={version}" for name, version in MINIMUM.items()],
    "latest": ["--upgrade", *MINIMUM],
}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_the_minimum_pins_are_the_floors_of_the_client_metadata() -> None:
    project = tomllib.loads((ROOT / "client" / "pyproject.toml").read_text())["project"]
    floors = {}
    for spec in project["dependencies"]:
        name, floor = spec.split(">=")
        floors[name] = floor
    assert floors == MINIMUM


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("runtime", INSTALLS)
def test_client_works_on_the_runtime_range(runtime: str, server: ServerProcess, tmp_path: Path) -> None:
    venv = tmp_path / f"venv-{runtime}"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    # Build from a copy: pip builds in the source folder and would leave client/build behind.
    source = shutil.copytree(
        ROOT / "client",
        tmp_path / "client",
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", *INSTALLS[runtime], str(source)],
        check=True,
        timeout=600,
        env=env,
    )
    # Run from tmp_path so that the checkout's client/ is not importable: only the installed copy is.
    done = subprocess.run(
        [python, "-W", "error::DeprecationWarning", str(SMOKE), server.target],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["skus"] == ["RT-0", "RT-1", "RT-2"]
    assert report["not_found_reason"] == "NOT_FOUND"
    assert "quantity" in report["violations"]
    assert report["async_skus"] == ["RT-ASYNC"]
    if runtime == "minimum":
        assert (report["grpcio"], report["protobuf"]) == (MINIMUM["grpcio"], MINIMUM["protobuf"])
    else:  # at least what the server's own venv resolved, i.e. not an old release
        assert _version(report["grpcio"]) >= _version(grpc.__version__)
        assert _version(report["protobuf"]) >= _version(google.protobuf.__version__)
