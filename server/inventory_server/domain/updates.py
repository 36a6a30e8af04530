"""What an Update RPC may change on an entity: one ``UpdateRules`` per entity, used by every layer.

The servicer reads the update mask with ``mask_paths``, the service checks
the change set with ``check`` before it opens a transaction, and the
repository allows exactly the ``columns`` the rules name. An immutable
(``sku``, ``code``) or output-only (``id``, ``etag``, times) field is
refused as INVALID_ARGUMENT on ``update_mask`` wherever it shows up first.

>>> from inventory_server.domain.updates import UpdateRules
>>> def no_checks(changes, errors, prefix):
...     pass
>>> rules = UpdateRules("thing", frozenset({"name", "secret"}), no_checks, stored_as={"secret": "hash"})
>>> rules.mask_paths([])
['name', 'secret']
>>> sorted(rules.columns)
['hash', 'name']
>>> rules.check({"code": "X"})
Traceback (most recent call last):
...
inventory_server.domain.errors.InvalidArgument: update_mask: cannot update code
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from inventory_server.domain.errors import ErrorDetails, InvalidArgument

# Adds a violation to ``errors`` for each bad value among ``changes``; field names get ``prefix``.
Validator = Callable[[Mapping[str, object], ErrorDetails, str], None]

MASK_FIELD = "update_mask"


@dataclass(frozen=True, slots=True)
class UpdateRules:
    """The updatable fields of one entity and how their new values are checked.

    ``default`` is what an empty update mask stands for (every updatable
    field when None); ``stored_as`` names the column of a field whose value
    the service turns into something else first (a user's password becomes
    ``password_hash``).
    """

    resource: str
    updatable: frozenset[str]
    validate: Validator
    default: frozenset[str] | None = None
    stored_as: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        strays = (set(self.default or ()) | set(self.stored_as)) - self.updatable
        if strays:
            raise ValueError(f"{self.resource}: not updatable: {sorted(strays)}")

    @property
    def columns(self) -> frozenset[str]:
        """The columns an update may write (what the repository allows)."""
        return frozenset(self.stored_as.get(name, name) for name in self.updatable)

    def mask_paths(self, paths: Collection[str]) -> list[str]:
        """The paths of an update mask; empty -> the default fields; others -> InvalidArgument."""
        chosen = list(paths) or sorted(self.updatable if self.default is None else self.default)
        bad = sorted({p for p in chosen if p not in self.updatable})
        if bad:
            raise InvalidArgument.field(
                MASK_FIELD,
                f"cannot update: {', '.join(bad)}; updatable: {', '.join(sorted(self.updatable))}",
            )
        return chosen

    def check(self, changes: Mapping[str, object], prefix: str | None = None) -> None:
        """Refuse fields that are not updatable, then every bad value (all named at once)."""
        refuse_unknown(set(changes) - self.updatable)
        errors = ErrorDetails()
        self.validate(changes, errors, self.resource if prefix is None else prefix)
        errors.raise_if_any()


def refuse_unknown(names: Iterable[str]) -> None:
    """InvalidArgument on update_mask naming ``names``, if there are any."""
    unknown = sorted(names)
    if unknown:
        raise InvalidArgument.field(MASK_FIELD, f"cannot update {', '.join(unknown)}")
