"""AuthInterceptor with a fake call context.

Refusals abort, are counted and observed; an allowed call runs with its identity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pytest

from inventory_server import context
from inventory_server.api.auth import AuthInterceptor
from inventory_server.api.metrics import MethodStats
from inventory_server.app import permission_names
from inventory_server.auth.authorizer import Authorizer, Refusal
from inventory_server.auth.policy import parse_policy
from inventory_server.auth.watched import WatchedFile

POLICY = (
    "roles: {reader: [inventory.v1.ProductService/GetProduct]}\n"
    "bindings: [{principal: reporting, roles: [reader]}]\n"
)


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self, principal_cn: str | None) -> None:
        self.principal_cn = principal_cn
        self.status: grpc.Status | None = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return ()

    def auth_context(self) -> dict[str, list[bytes]]:
        if self.principal_cn is None:
            return {}
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.principal_cn)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        return {"x509_pem_cert": [cert.public_bytes(serialization.Encoding.PEM)]}

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.status = status
        raise Aborted


class Details:
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


async def _handler(tmp_path: Path, method: str, seen: list[Refusal], stats: MethodStats) -> Any:
    (tmp_path / "policy.yaml").write_text(POLICY)
    names = permission_names()
    policy = WatchedFile(tmp_path / "policy.yaml", lambda t: parse_policy(t, names), "policy")
    policy.load()

    async def observe(refusal: Refusal) -> None:
        seen.append(refusal)

    async def behaviour(request: Any, ctx: Any) -> str:
        return f"ran as {context.principal.get()}"

    async def continuation(details: Any) -> Any:
        return grpc.unary_unary_rpc_method_handler(behaviour)

    interceptor = AuthInterceptor(Authorizer(policy=policy), stats, on_refused=observe)
    return await interceptor.intercept_service(continuation, Details(method))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("cn", "method", "code"),
    [
        (None, "inventory.v1.ProductService/GetProduct", "UNAUTHENTICATED"),
        ("reporting", "inventory.v1.ProductService/ListProducts", "PERMISSION_DENIED"),
    ],
)
async def test_a_refusal_aborts_is_counted_and_observed(
    tmp_path: Path, cn: str | None, method: str, code: str
) -> None:
    seen: list[Refusal] = []
    stats = MethodStats()
    handler = await _handler(tmp_path, "/" + method, seen, stats)
    ctx = FakeContext(cn)
    with pytest.raises(Aborted):
        await handler.unary_unary(None, ctx)
    assert ctx.status is not None
    assert ctx.status.code.name == code
    assert seen == [Refusal(method, cn or "", code)]
    assert stats.methods["/" + method].errors_by_code[code] == 1


async def test_an_allowed_call_runs_with_the_identity_and_resets_it(tmp_path: Path) -> None:
    handler = await _handler(tmp_path, "/inventory.v1.ProductService/GetProduct", [], MethodStats())
    assert await handler.unary_unary(None, FakeContext("reporting")) == "ran as reporting"
    assert context.principal.get() == ""


async def test_health_is_never_wrapped(tmp_path: Path) -> None:
    handler = await _handler(tmp_path, "/grpc.health.v1.Health/Check", [], MethodStats())
    assert await handler.unary_unary(None, FakeContext(None)) == "ran as "
