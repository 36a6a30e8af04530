"""docs/client.md's examples that talk to localhost:50051 run as written against a real server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import ServerProcess

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"
TARGET = "localhost:50051"


def test_the_client_guides_examples_run(server: ServerProcess, tmp_path: Path) -> None:
    blocks = [b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL) if TARGET in b]
    assert len(blocks) >= 6
    for number, block in enumerate(blocks):
        script = tmp_path / f"example_{number}.py"
        script.write_text(block.replace(TARGET, server.target))
        done = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            check=False,
        )
        assert done.returncode == 0, f"example {number}:\n{block}\n{done.stdout}{done.stderr}"
