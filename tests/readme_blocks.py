"""The README quickstart's code blocks, as the tests that keep them true read them
(tests/unit/deploy/test_readme_quickstart.py, tests/e2e/test_quickstart.py)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
DEFAULT_TARGET = "localhost:50051"


def block_after(marker: str, language: str) -> str:
    """The first fenced ``language`` block after the line containing ``marker``."""
    text = README.read_text()
    start = text.index(marker)
    match = re.compile(rf"```{language}\n(.*?)```", re.DOTALL).search(text, start)
    assert match, f"no {language} block after {marker!r}"
    return match.group(1)


def grpcurl_block() -> str:
    return block_after("**2. Move stock with", "sh")


def python_block() -> str:
    return block_after("**3. The same in Python**", "python")


def expected_python_output() -> str:
    return block_after("It prints:", "text")
