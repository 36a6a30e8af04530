"""Bearer token verification against a JWKS file (no server)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from inventory_server.auth.tokens import LEEWAY_SECONDS, InvalidToken, TokenVerifier, parse_jwks

ISSUER, AUDIENCE = "https://issuer.test", "inventory"


def _jwk(key: Any, kid: str, alg: str | None) -> dict[str, object]:
    public = key.public_key()
    algorithm: dict[type, Any] = {
        ec.EllipticCurvePublicKey: jwt.algorithms.ECAlgorithm,
        rsa.RSAPublicKey: jwt.algorithms.RSAAlgorithm,
        ed25519.Ed25519PublicKey: jwt.algorithms.OKPAlgorithm,
    }
    kind = next(v for k, v in algorithm.items() if isinstance(public, k))
    entry = {**json.loads(kind.to_jwk(public)), "kid": kid}
    if alg:
        entry["alg"] = alg
    return entry


@pytest.fixture
def keys() -> dict[str, Any]:
    return {
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ed": ed25519.Ed25519PrivateKey.generate(),
    }


@pytest.fixture
def verifier(tmp_path: Path, keys: dict[str, Any]) -> TokenVerifier:
    path = tmp_path / "jwks.json"
    path.write_text(
        json.dumps(
            {
                "keys": [
                    _jwk(keys["ec"], "ec", "ES256"),
                    _jwk(keys["rsa"], "rsa", None),
                    _jwk(keys["ed"], "ed", "EdDSA"),
                    _jwk(keys["rsa"], "rsa-rs256", "RS256"),
                ]
            }
        )
    )
    v = TokenVerifier(path, ISSUER, AUDIENCE, check_interval=0)
    v.load()
    return v


def _token(key: Any, kid: str, alg: str, **claims: object) -> str:
    now = int(time.time())
    body: dict[str, object] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc", "exp": now + 60}
    body.update(claims)
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, key, algorithm=alg, headers={"kid": kid}
    )


@pytest.mark.parametrize(
    ("kid", "alg"), [("ec", "ES256"), ("rsa", "RS256"), ("rsa", "PS256"), ("ed", "EdDSA")]
)
def test_each_asymmetric_algorithm_verifies(
    verifier: TokenVerifier, keys: dict[str, Any], kid: str, alg: str
) -> None:
    key = keys[{"ec": "ec", "rsa": "rsa", "ed": "ed"}[kid]]
    assert verifier.principal(_token(key, kid, alg)) == "svc"


def test_audience_may_be_a_list_containing_ours(verifier: TokenVerifier, keys: dict[str, Any]) -> None:
    assert verifier.principal(_token(keys["ec"], "ec", "ES256", aud=["billing", AUDIENCE])) == "svc"


def test_clock_skew_within_the_leeway_is_tolerated(verifier: TokenVerifier, keys: dict[str, Any]) -> None:
    now = int(time.time())
    token = _token(keys["ec"], "ec", "ES256", exp=now - LEEWAY_SECONDS + 5, nbf=now + LEEWAY_SECONDS - 5)
    assert verifier.principal(token) == "svc"


def test_a_key_with_its_own_alg_verifies_only_that_algorithm(
    verifier: TokenVerifier, keys: dict[str, Any]
) -> None:
    assert verifier.principal(_token(keys["rsa"], "rsa-rs256", "RS256")) == "svc"
    with pytest.raises(InvalidToken, match="another algorithm"):
        verifier.principal(_token(keys["rsa"], "rsa-rs256", "PS256"))


def test_hmac_and_none_are_never_accepted(verifier: TokenVerifier) -> None:
    for token in (
        jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc", "exp": int(time.time()) + 60},
            "a-secret-long-enough-for-sha-256-hmac",
            algorithm="HS256",
            headers={"kid": "ec"},
        ),
        jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "svc", "exp": int(time.time()) + 60},
            None,  # type: ignore[arg-type]  # "none" takes no key
            algorithm="none",
            headers={"kid": "ec"},
        ),
    ):
        with pytest.raises(InvalidToken, match="not allowed"):
            verifier.principal(token)


@pytest.mark.parametrize(
    "claims",
    [{"sub": None}, {"sub": ""}, {"exp": None}, {"iss": None}, {"aud": None}, {"sub": 42}],
)
def test_required_claims(verifier: TokenVerifier, keys: dict[str, Any], claims: dict[str, object]) -> None:
    with pytest.raises(InvalidToken):
        verifier.principal(_token(keys["ec"], "ec", "ES256", **claims))


def test_an_oversized_token_is_refused_before_parsing(verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidToken, match="too long"):
        verifier.principal("a" * 20_000)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{", "not valid JSON"),
        ('{"keys": {}}', "keys"),
        ('{"keys": [{"kty": "EC"}]}', "needs a kid"),
        ('{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}]}', "only public keys"),
        ('{"keys": [{"kty": "RSA", "kid": "r", "alg": "HS256", "n": "AQAB", "e": "AQAB"}]}', "not allowed"),
        ('{"keys": [{"kty": "EC", "kid": "e", "crv": "P-256", "x": "AA", "y": "AA"}]}', "unusable key"),
    ],
)
def test_a_jwks_that_cannot_be_used_is_refused(document: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_jwks(document)


def test_a_private_key_in_the_jwks_is_refused(keys: dict[str, Any]) -> None:
    private = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(keys["ec"]))
    with pytest.raises(ValueError, match="only public keys"):
        parse_jwks(json.dumps({"keys": [{**private, "kid": "p"}]}))
