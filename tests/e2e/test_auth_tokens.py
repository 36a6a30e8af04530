"""Bearer tokens under a deny-by-default policy: every RPC x {no credentials, wrong principal, right one}.

One server for the module (plaintext on loopback with a policy and a JWKS);
the policy gives each method its own role, bound to its own principal, so a
principal with a permission is refused every other method.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from .auth_helpers import (
    AUDIENCE,
    ISSUER,
    Issuer,
    bearer,
    call,
    guarded_methods,
    one_method_policy,
    write_file,
)
from .conftest import ServerProcess, start_server

METHODS = guarded_methods()
PRINCIPAL = {method: f"holder-of-{i}" for i, method in enumerate(sorted(METHODS))}


@pytest.fixture(scope="module")
def setup(
    tmp_path_factory: pytest.TempPathFactory, database_factory: object, migrated_template: str
) -> Iterator[tuple[ServerProcess, Issuer, Path]]:
    folder = tmp_path_factory.mktemp("auth-tokens")
    dsn = database_factory(template=migrated_template)  # type: ignore[operator]
    issuer = Issuer(folder / "jwks.json")
    issuer.new_key("k1")
    issuer.publish("k1")
    policy = folder / "policy.yaml"
    write_file(policy, one_method_policy(PRINCIPAL))
    server = start_server(
        folder,
        {
            "DATABASE_URL": dsn,
            "INVENTORY_AUTH_POLICY_FILE": str(policy),
            "INVENTORY_JWT_JWKS_FILE": str(issuer.jwks_file),
            "INVENTORY_JWT_ISSUER": ISSUER,
            "INVENTORY_JWT_AUDIENCE": AUDIENCE,
            "INVENTORY_HEALTH_CHECK_INTERVAL": "0.5",
            "INVENTORY_GRACE_PERIOD": "2",
        },
    )
    yield server, issuer, policy
    assert server.stop() == 0, server.log()


@pytest.fixture(scope="module")
def channel(setup: tuple[ServerProcess, Issuer, Path]) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(setup[0].target) as ch:
        yield ch


@pytest.mark.parametrize("method", METHODS)
def test_each_method_needs_credentials_and_its_own_permission(
    method: str, setup: tuple[ServerProcess, Issuer, Path], channel: grpc.Channel
) -> None:
    _, issuer, _ = setup
    methods = sorted(METHODS)
    other = methods[(methods.index(method) + 1) % len(methods)]
    assert call(channel, method) == grpc.StatusCode.UNAUTHENTICATED
    assert call(channel, method, bearer(issuer.token(PRINCIPAL[other]))) == grpc.StatusCode.PERMISSION_DENIED
    allowed = call(channel, method, bearer(issuer.token(PRINCIPAL[method])))
    assert allowed not in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def test_permission_denied_names_the_method_and_nothing_else(
    setup: tuple[ServerProcess, Issuer, Path], channel: grpc.Channel
) -> None:
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    _, issuer, _ = setup
    method = "inventory.v1.UserService/ListUsers"
    stub = channel.unary_unary("/" + method, request_serializer=bytes, response_deserializer=bytes)
    for principal in ("nobody-bound", PRINCIPAL["inventory.v1.ProductService/GetProduct"]):
        with pytest.raises(grpc.RpcError) as raised:
            stub(b"", metadata=bearer(issuer.token(principal)), timeout=5)
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        status = rpc_status.from_call(raised.value)  # type: ignore[arg-type]
        assert status is not None
        info = error_details_pb2.ErrorInfo()
        assert status.details[0].Unpack(info)
        assert dict(info.metadata) == {"method": method}
        # the same answer whether or not the principal is bound to anything
        assert raised.value.details() == f"the caller may not call {method}"


def _bad_tokens(issuer: Issuer, folder: Path) -> dict[str, str]:
    sub = PRINCIPAL["inventory.v1.ProductService/ListProducts"]
    now = int(time.time())
    public_pem = (
        issuer.keys["k1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    good = issuer.token(sub)
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now + 300},
        None,  # type: ignore[arg-type]  # "none" takes no key
        algorithm="none",
    )
    from cryptography.hazmat.primitives.asymmetric import ec

    stranger = ec.generate_private_key(ec.SECP256R1())
    hmac_header = jwt.utils.base64url_encode(b'{"alg":"HS256","typ":"JWT","kid":"k1"}').decode()
    payload = good.split(".")[1]
    import hashlib
    import hmac

    signature = jwt.utils.base64url_encode(
        hmac.new(public_pem, f"{hmac_header}.{payload}".encode(), hashlib.sha256).digest()
    ).decode()
    return {
        "expired": issuer.token(sub, iat=now - 3600, exp=now - 600),
        "not yet valid": issuer.token(sub, nbf=now + 600),
        "wrong issuer": issuer.token(sub, iss="https://evil.test"),
        "wrong audience": issuer.token(sub, aud="somebody-else"),
        "no expiry": issuer.token(sub, exp=None),
        "unknown key id": jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now + 300},
            issuer.keys["k1"],
            algorithm="ES256",
            headers={"kid": "k-unknown"},
        ),
        "wrong key": jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": sub, "exp": now + 300},
            stranger,
            algorithm="ES256",
            headers={"kid": "k1"},
        ),
        "alg none": unsigned,
        "HS256 with the public key": f"{hmac_header}.{payload}.{signature}",
        "truncated": good[: len(good) // 2],
        "garbage": "not-a-token",
        "empty": "",
    }


def test_bad_tokens_are_unauthenticated_without_detail(
    setup: tuple[ServerProcess, Issuer, Path], channel: grpc.Channel, tmp_path: Path
) -> None:
    server, issuer, _ = setup
    method = "inventory.v1.ProductService/ListProducts"
    assert call(channel, method, bearer(issuer.token(PRINCIPAL[method]))) == grpc.StatusCode.OK
    stub = channel.unary_unary("/" + method, request_serializer=bytes, response_deserializer=bytes)
    bad = _bad_tokens(issuer, tmp_path)
    for case, token in bad.items():
        with pytest.raises(grpc.RpcError) as raised:
            stub(b"", metadata=bearer(token), timeout=5)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED, case
        assert raised.value.details() == "missing or invalid credentials", case
    with pytest.raises(grpc.RpcError) as raised:  # another scheme is no credential either
        stub(b"", metadata=(("authorization", "Basic dXNlcjpwYXNz"),), timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    log = server.log()
    for token in [t for t in bad.values() if len(t) > 20]:
        assert token not in log
        assert not [part for part in token.split(".") if len(part) > 8 and part in log]


def test_jwks_rotation_applies_without_restart(
    setup: tuple[ServerProcess, Issuer, Path], channel: grpc.Channel
) -> None:
    _, issuer, _ = setup
    method = "inventory.v1.WarehouseService/ListWarehouses"
    issuer.new_key("k2")
    new_token = issuer.token(PRINCIPAL[method], kid="k2")
    assert call(channel, method, bearer(new_token)) == grpc.StatusCode.UNAUTHENTICATED
    issuer.publish("k1", "k2")
    _eventually(lambda: call(channel, method, bearer(new_token)) == grpc.StatusCode.OK)
    issuer.publish("k2")
    old_token = issuer.token(PRINCIPAL[method], kid="k1")
    _eventually(lambda: call(channel, method, bearer(old_token)) == grpc.StatusCode.UNAUTHENTICATED)
    assert call(channel, method, bearer(new_token)) == grpc.StatusCode.OK
    issuer.publish("k1", "k2")  # as the other tests expect
    _eventually(lambda: call(channel, method, bearer(old_token)) == grpc.StatusCode.OK)


def test_policy_reload_applies_without_restart_and_a_broken_one_is_ignored(
    setup: tuple[ServerProcess, Issuer, Path], channel: grpc.Channel
) -> None:
    server, issuer, policy = setup
    method = "inventory.v1.StatsService/GetStats"
    token = bearer(issuer.token("late-comer"))
    assert call(channel, method, token) == grpc.StatusCode.PERMISSION_DENIED
    original = policy.read_text()
    extended = original.replace(
        "bindings:\n", f"bindings:\n- principal: late-comer\n  roles: [{_role_of(original, method)}]\n", 1
    )
    write_file(policy, extended)
    _eventually(lambda: call(channel, method, token) == grpc.StatusCode.OK)
    write_file(policy, extended + "\nroles: {broken: [inventory.v1.NoSuchService/Nothing]}\n")
    write_file(policy, "roles: {r: [inventory.v1.NoSuchService/Nothing]}\nbindings: []\n")
    time.sleep(1.5)
    assert call(channel, method, token) == grpc.StatusCode.OK  # the last good policy stays
    _eventually(lambda: "keeping the previous policy" in server.log())
    assert "inventory.v1.NoSuchService" in server.log()
    write_file(policy, original)
    _eventually(lambda: call(channel, method, token) == grpc.StatusCode.PERMISSION_DENIED)


def _role_of(policy_text: str, method: str) -> str:
    import yaml

    roles = yaml.safe_load(policy_text)["roles"]
    return str(next(name for name, permissions in roles.items() if permissions == [method]))


def _eventually(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def test_authentication_comes_before_the_request_is_parsed_and_refusals_are_counted(
    setup: tuple[ServerProcess, Issuer, Path], channel: grpc.Channel
) -> None:
    from inventory_client.v1 import stats_pb2

    _, issuer, _ = setup
    method = "inventory.v1.ProductService/GetProduct"
    raw = channel.unary_unary("/" + method, request_serializer=bytes, response_deserializer=bytes)
    garbage = b"\xff\xff\xff\xff"
    with pytest.raises(grpc.RpcError) as anonymous:
        raw(garbage, timeout=5)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as allowed:
        raw(garbage, metadata=bearer(issuer.token(PRINCIPAL[method])), timeout=5)
    assert allowed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    stats_method = "inventory.v1.StatsService/GetStats"
    stats = channel.unary_unary(
        "/" + stats_method,
        request_serializer=stats_pb2.GetStatsRequest.SerializeToString,
        response_deserializer=stats_pb2.GetStatsResponse.FromString,
    )(stats_pb2.GetStatsRequest(), metadata=bearer(issuer.token(PRINCIPAL[stats_method])), timeout=5)
    (figures,) = [m for m in stats.methods if m.method == "/" + method]
    assert figures.errors_by_code["UNAUTHENTICATED"] >= 1
    assert figures.errors_by_code["PERMISSION_DENIED"] >= 1
    assert figures.errors_by_code["INVALID_ARGUMENT"] >= 1
