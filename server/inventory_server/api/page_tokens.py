"""Page tokens sealed with an HMAC, so a client can only hand back tokens a replica issued.

``db.listing`` writes the cursor (base64url JSON, see ``db.listing.tokens``);
here it leaves as ``<cursor>.<mac>`` with ``mac`` the base64url HMAC-SHA256 of
the cursor under the newest key, and comes back only if one of the keys
verifies it. Why: a token is the one piece of client input the service parses
as structure it wrote itself; without a seal, every forged token reaches the
JSON decoder and the SQL parameters (finding 4 of issue 9). The decoder stays
defensive anyway, since the development key is public.

Keys come from ``INVENTORY_PAGE_TOKEN_KEYS`` (or ``..._FILE``): a comma-separated
list, newest first. Every replica behind one Service must share the list (a
token from one replica is followed on another); to rotate, prepend a new key,
roll out, and drop the old key once tokens older than a client's listing
session no longer matter. Without the setting the server uses the public
``DEVELOPMENT_KEY`` and warns at start-up: tokens then still work across
replicas, but anyone can forge them.

>>> tokens = PageTokens(["k" * MIN_KEY_LENGTH])
>>> sealed = tokens.seal("eyJmIjoiYSJ9")
>>> sealed.startswith("eyJmIjoiYSJ9."), tokens.open(sealed)
(True, 'eyJmIjoiYSJ9')
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from inventory_server.domain.errors import InvalidArgument

MIN_KEY_LENGTH = 32
# Public by design: only for development, where the start-up log says so.
DEVELOPMENT_KEY = "inventory-development-page-token-key-not-a-secret"
# Longer than any cursor db.listing writes (its own limit is 4096) plus the seal.
MAX_SEALED_LENGTH = 4096 + 1 + 43
_NOT_OURS = "is not a page token this service issued"


def parse_keys(value: str) -> list[str]:
    """The keys of an INVENTORY_PAGE_TOKEN_KEYS value, newest first; ValueError says what is wrong."""
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        raise ValueError("holds no key")
    if any(len(key) < MIN_KEY_LENGTH for key in keys):
        raise ValueError(f"needs keys of at least {MIN_KEY_LENGTH} characters each")
    return keys


class PageTokens:
    """Seals outgoing page tokens with the newest key; opens incoming ones with any key."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("PageTokens needs at least one key")
        self._keys = [key.encode() for key in keys]

    def seal(self, cursor: str) -> str:
        """The token a client sees for ``cursor`` ("" stays "": the last page)."""
        if not cursor:
            return ""
        return f"{cursor}.{_mac(self._keys[0], cursor)}"

    def open(self, token: str, field: str = "page_token") -> str:
        """The cursor inside ``token``; InvalidArgument naming ``field`` unless a key verifies it."""
        if not token:
            return ""
        if len(token) > MAX_SEALED_LENGTH or not token.isascii():
            raise InvalidArgument.field(field, _NOT_OURS)
        cursor, _, mac = token.rpartition(".")
        if cursor and any(hmac.compare_digest(_mac(key, cursor), mac) for key in self._keys):
            return cursor
        raise InvalidArgument.field(field, _NOT_OURS)


def _mac(key: bytes, cursor: str) -> str:
    digest = hmac.new(key, cursor.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
