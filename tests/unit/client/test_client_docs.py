"""docs/client.md: every Python block compiles; every public name and keyword is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import inventory_client
from inventory_client.client import STUBS, AsyncInventoryClient, InventoryClient, _Client

DOC = Path(__file__).resolve().parents[3] / "docs" / "client.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)


def test_every_python_block_compiles() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 8
    for block in blocks:
        compile(block, str(DOC), "exec")


def test_every_public_name_keyword_iterator_and_stub_is_documented() -> None:
    text = DOC.read_text()
    keywords = [p for p in inspect.signature(_Client.__init__).parameters if p not in ("self", "target")]
    iterators = [name for name in dir(InventoryClient) if name.startswith("iter_")]
    assert iterators == [name for name in dir(AsyncInventoryClient) if name.startswith("iter_")]
    stubs = [f"client.{name}" for name, _ in STUBS]
    names = [name for name in inventory_client.__all__ if name != "__version__"]
    missing = [n for n in [*keywords, *iterators, *stubs, *names] if f"`{n}" not in text and n not in text]
    assert missing == []
