"""Bearer tokens: JWTs verified with PyJWT against the keys of a JWKS file.

What a token must be to name a principal (anything else is ``InvalidToken``,
whose message is for the server log only: callers get a bare UNAUTHENTICATED):

- signed with an asymmetric algorithm of ``ALGORITHMS`` (never ``none``, never
  HMAC: with a public JWKS an HMAC "signature" could be made by anyone holding
  the public key);
- by the key whose ``kid`` its header names, from the JWKS file (a key with
  its own ``alg`` only verifies that algorithm);
- ``iss`` equal to the configured issuer, ``aud`` containing the configured
  audience, ``exp`` in the future and ``nbf`` (when present) in the past, each
  with ``LEEWAY_SECONDS`` of clock skew;
- a non-empty string ``sub``: the principal.

The JWKS file is re-read when it changes (``watched.WatchedFile``): add the
new key before the issuer signs with it, remove the old one once its last
token expired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from jwt.exceptions import PyJWKError, PyJWKSetError, PyJWTError

from inventory_server.auth.watched import WatchedFile

ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
# Clock skew tolerated on exp, nbf and iat between the issuer and this server.
LEEWAY_SECONDS = 30
# Longer than any real JWT; bounds the work spent on garbage.
MAX_TOKEN_LENGTH = 16 * 1024


class InvalidToken(Exception):
    """The token does not verify; the message is for the log and never quotes the token."""


@dataclass(frozen=True)
class Key:
    """One public key; ``algorithm`` is the JWK's own ``alg`` (then the only one it verifies), or None."""

    jwk: jwt.PyJWK
    algorithm: str | None


@dataclass(frozen=True)
class KeySet:
    """The usable keys of a JWKS, by kid."""

    keys: dict[str, Key]


def parse_jwks(text: str) -> KeySet:
    """Parse a JWKS document; keys without a ``kid`` or for a symmetric algorithm are refused."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno})") from None
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('must be a JSON object with a "keys" list (RFC 7517 JWK Set)')
    keys: dict[str, Key] = {}
    for index, raw in enumerate(document["keys"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("kid"), str) or not raw["kid"]:
            raise ValueError(f"keys[{index}]: every key needs a kid")
        if raw.get("kty") == "oct" or raw.get("d") is not None or raw.get("k") is not None:
            raise ValueError(
                f"keys[{index}] ({raw['kid']}): only public keys of asymmetric algorithms belong here"
            )
        if "alg" in raw and raw["alg"] not in ALGORITHMS:
            raise ValueError(f"keys[{index}] ({raw['kid']}): algorithm {raw['alg']!r} is not allowed")
        try:
            keys[raw["kid"]] = Key(jwt.PyJWK(raw), raw.get("alg"))
        except (PyJWKError, PyJWKSetError, PyJWTError) as exc:
            raise ValueError(f"keys[{index}] ({raw['kid']}): unusable key ({exc})") from None
    return KeySet(keys)


class TokenVerifier:
    """Verifies bearer tokens against the keys of ``jwks_file`` (reloaded when it changes)."""

    def __init__(self, jwks_file: Path, issuer: str, audience: str, *, check_interval: float = 1.0) -> None:
        self.jwks = WatchedFile(jwks_file, parse_jwks, "JWKS", check_interval=check_interval)
        self.issuer = issuer
        self.audience = audience

    def load(self) -> None:
        """Read the JWKS now (start-up): raises ``watched.FileLoadError``."""
        self.jwks.load()

    def principal(self, token: str) -> str:
        """The verified token's ``sub``; raises ``InvalidToken``."""
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidToken("token too long")
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError as exc:
            raise InvalidToken(f"malformed token ({type(exc).__name__})") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise InvalidToken(f"algorithm {str(algorithm)[:20]!r} not allowed")
        kid = header.get("kid")
        key = self.jwks.current().keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("no key with the token's kid")
        if key.algorithm not in (None, algorithm):
            raise InvalidToken("the key is for another algorithm")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.jwk.key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except PyJWTError as exc:
            raise InvalidToken(f"rejected ({type(exc).__name__})") from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("no subject")
        return subject
