"""The authorizer the settings describe; files are read now, so a bad one fails at start-up."""

from __future__ import annotations

from collections.abc import Collection

from inventory_server.auth.authorizer import Authorizer, UserRoles
from inventory_server.auth.policy import Policy, parse_policy
from inventory_server.auth.tokens import TokenVerifier
from inventory_server.auth.watched import WatchedFile
from inventory_server.config import Settings

# Seconds between checks of the policy and JWKS files for changes (on use): a replaced file
# applies to calls starting at most this long after the change.
RELOAD_CHECK_SECONDS = 1.0

# Permissions guarding part of a method, besides the full method names (``Service/Method#part``).
# Extend this tuple when a servicer checks one (``context.permissions.get().allows(name)``),
# so that policies may grant it; docs/security.md lists them.
PSEUDO_PERMISSIONS: tuple[str, ...] = (
    # Set any user's password without their current one (else only your own, with it).
    "inventory.v1.UserService/UpdateUser#password",
    # Change a user's role.
    "inventory.v1.UserService/UpdateUser#role",
)


def build_authorizer(settings: Settings, permissions: Collection[str], users: UserRoles | None) -> Authorizer:
    """Policy and token verifier from the settings (each optional); raises ``watched.FileLoadError``."""
    known = frozenset((*permissions, *PSEUDO_PERMISSIONS))
    policy: WatchedFile[Policy] | None = None
    if settings.auth_policy_file is not None:
        policy = WatchedFile(
            settings.auth_policy_file,
            lambda text: parse_policy(text, known),
            "policy",
            check_interval=RELOAD_CHECK_SECONDS,
        )
        policy.load()
    tokens: TokenVerifier | None = None
    if settings.jwt_jwks_file is not None and settings.jwt_issuer and settings.jwt_audience:
        tokens = TokenVerifier(
            settings.jwt_jwks_file,
            settings.jwt_issuer,
            settings.jwt_audience,
            check_interval=RELOAD_CHECK_SECONDS,
        )
        tokens.load()
    return Authorizer(policy=policy, tokens=tokens, users=users)
