"""Login throttling keys (issue 10): what failed logins are counted against, and each key's limit.

An account is keyed by a SHA-256 of its lower-cased email, so unknown and
known emails are counted alike and an email field holding a mistyped
password is not stored readable; a caller by its principal. The anonymous
principal ("", only without a policy) has no key of its own.

>>> [k.key[:8] for k in throttle_keys("Ada@Example.com", "", account_limit=5, principal_limit=50)]
['account:']
>>> throttle_keys("a@b.c", "front", account_limit=5, principal_limit=50)[1]
ThrottleKey(key='principal:front', limit=50)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """Failed logins allowed per account and per calling principal within ``window_seconds``.

    Reaching a limit blocks the key for one window (RESOURCE_EXHAUSTED with RetryInfo).
    """

    per_account: int = 5
    per_principal: int = 100
    window_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    key: str
    limit: int


def account_key(email: str, limit: int) -> ThrottleKey:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return ThrottleKey(f"account:{digest}", limit)


def throttle_keys(
    email: str, principal: str, *, account_limit: int, principal_limit: int
) -> list[ThrottleKey]:
    """The keys a failed login by ``principal`` for ``email`` counts against."""
    keys = [account_key(email, account_limit)]
    if principal:
        keys.append(ThrottleKey(f"principal:{principal}", principal_limit))
    return keys
