"""The generated code carries no runtime version checks, which would narrow the runtimes it imports on.

Newer generators stamp their own version as the minimum (``ValidateProtobufRuntimeVersion`` in
``*_pb2.py``, ``GRPC_GENERATED_VERSION`` in ``*_pb2_grpc.py``); a generator bump in
scripts/codegen.py that brings them back fails here, long before the runtime-range e2e test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

GENERATED = Path(__file__).resolve().parents[3] / "client" / "inventory_client" / "v1"


@pytest.mark.parametrize("path", sorted(GENERATED.glob("*_pb2*.py")), ids=lambda p: p.name)
def test_generated_module_has_no_runtime_version_check(path: Path) -> None:
    text = path.read_text()
    assert "ValidateProtobufRuntimeVersion" not in text
    assert "GRPC_GENERATED_VERSION" not in text
    assert "_registered_method" not in text  # a keyword that older grpcio releases do not accept
