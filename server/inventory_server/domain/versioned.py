"""What every versioned, soft-deleted entity shares: an etag from its row version, and ``deleted``.

Products, warehouses and users each keep a ``version`` that every change bumps
and a ``delete_time`` set by a soft delete. The etag clients see is made from
the version here, and only here, so that any etag the service hands out can
be read back by ``version_from_etag`` whatever entity it came from.
"""

from __future__ import annotations

import re
from datetime import datetime


def etag_for(version: int) -> str:
    """The etag clients see for a row version."""
    return f'W/"{version}"'


# Versions are PostgreSQL bigints; ASCII digits only (str.isdigit() also says yes to "²" and "٣").
_ETAG_PATTERN = re.compile(r'W/"([0-9]{1,19})"')
MAX_VERSION = 2**63 - 1


def version_from_etag(etag: str) -> int | None:
    """The row version an etag stands for, or None when the etag is not one of ours.

    Anything else a client may send (non-ASCII digits, thousands of digits, a
    number beyond the bigint column) is "not ours" too, never an exception.

    >>> from inventory_server.domain.versioned import version_from_etag
    >>> version_from_etag('W/"7"'), version_from_etag('W/"²"'), version_from_etag('W/"' + "9" * 19 + '"')
    (7, None, None)
    """
    match = _ETAG_PATTERN.fullmatch(etag)
    if match is None:
        return None
    version = int(match.group(1))
    return version if version <= MAX_VERSION else None


class Versioned:
    """Base of the entity dataclasses that carry ``version`` and ``delete_time``.

    Empty ``__slots__`` so that the slotted dataclasses built on it stay slotted.
    """

    __slots__ = ()

    version: int
    delete_time: datetime | None

    @property
    def etag(self) -> str:
        return etag_for(self.version)

    @property
    def deleted(self) -> bool:
        return self.delete_time is not None
