"""The parsers of client-supplied structure under coverage-guided fuzzing (atheris), bounded for CI.

Each harness of ``tests.fuzz.harnesses`` runs ``INVENTORY_ATHERIS_RUNS``
inputs (default 10000) from a fixed libFuzzer seed (``INVENTORY_ATHERIS_SEED``,
default 1) in a subprocess, since atheris ends its process when done; the run
must end without a crash. The inputs found by earlier reviews (issue 9) run
in-process on every harness as well. Longer runs: docs/testing.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.harnesses import HARNESSES

ROOT = Path(__file__).resolve().parents[3]
RUNS = int(os.environ.get("INVENTORY_ATHERIS_RUNS", "10000"))
SEED = int(os.environ.get("INVENTORY_ATHERIS_SEED", "1"))

# Inputs that once gave INTERNAL (issue 9 findings 4 and 5) or look like they might.
KNOWN_NASTY = [
    b"",
    b"\x00" * 8,
    b"\x01" + b"(" * 5000 + b"a = 1" + b")" * 5000,
    b"\x02" + b"NOT " * 3000 + b"a = 1",
    b"\x03" + b"[" * 100_000,
    b'W/"\xc2\xb2"',
    b'W/"' + b"9" * 4301 + b'"',
    b'W/"' + b"9" * 19 + b'"',
    b"\x00" + b'{"f":"x","k":["\\ud800"]}',
    b"\x01" + b'{"f":"x","k":[' * 50_000,
    b"\x04sku,name,,\xff\xfe,attributes.colour,*",
    b'\x00create_time > "2026-13-45T99:99:99Z"\x00create_time desc, desc',
    b"\x00unit_price_minor > 99999999999999999999999999\x00unit_price_minor",
    b"\x02attributes.x:*\x00sku asc asc",
]


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_known_nasty_inputs_are_accepted_or_refused_as_invalid_argument(name: str) -> None:
    for data in KNOWN_NASTY:
        HARNESSES[name](data)


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_a_bounded_atheris_run_finds_no_crash(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run", name, f"-runs={RUNS}", f"-seed={SEED}", "-max_len=4096"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, f"atheris {name} (seed {SEED}):\n{result.stderr[-6000:]}"
    assert f"Done {RUNS} runs" in result.stderr


def test_a_crash_in_a_harness_fails_the_run(tmp_path: Path) -> None:
    """The CI run above would notice: a harness that raises anything but InvalidArgument ends non-zero."""
    script = tmp_path / "crashing.py"
    script.write_text(
        "import sys, atheris\n"
        "def crash(data: bytes) -> None:\n"
        "    if data[:1] == b'x':\n"
        "        raise RecursionError('like a nested page token once did')\n"
        "atheris.Setup(sys.argv, crash)\n"
        "atheris.Fuzz()\n"
    )
    result = subprocess.run(
        [sys.executable, str(script), "-runs=200000", "-seed=1", f"-artifact_prefix={tmp_path}/"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "RecursionError" in result.stdout + result.stderr
