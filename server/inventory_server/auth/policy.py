"""The authorization policy: roles of permissions, and bindings of principals to roles.

    roles:
      stock-clerk:
        - inventory.v1.StockService/*
    bindings:
      - principal: "spiffe://shop.example/ns/orders/sa/orders"
        roles: [stock-clerk]
        act_for_users: true     # may name any user in performed_by (default false)

A permission is a full gRPC method name (``inventory.v1.StockService/ShipStock``),
``Service/*`` (every method of that service) or ``*`` (everything). Besides
methods, the server may register pseudo-permissions (``Service/Method#part``)
that guard part of a method; ``Service/*`` and ``*`` grant those too.

Everything that is not understood is an error at load time: unknown keys,
roles named in a binding but not defined, permissions naming a service or
method the server does not have, duplicate principals. A policy that grants
the wrong thing because of a typo would be worse than one that does not load.

The role names ``viewer``, ``clerk``, ``manager`` and ``admin`` are the roles of
end users (``users.role``): a user acting with their own token holds the policy
role of the same name, so the policy defines what each user role may do.

>>> policy = parse_policy(
...     "roles: {reader: [inventory.v1.ProductService/GetProduct]}\\n"
...     "bindings: [{principal: reporting, roles: [reader]}]\\n",
...     ["inventory.v1.ProductService/GetProduct", "inventory.v1.ProductService/ListProducts"],
... )
>>> grants = policy.grants("reporting")
>>> grants.allows("inventory.v1.ProductService/GetProduct")
True
>>> grants.allows("inventory.v1.ProductService/ListProducts")
False
>>> policy.grants("somebody-else").allows("inventory.v1.ProductService/GetProduct")
False
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

WILDCARD = "*"
POLICY_KEYS = frozenset({"roles", "bindings"})
BINDING_KEYS = frozenset({"principal", "roles", "act_for_users"})


class PolicyError(ValueError):
    """The policy cannot be used; the message says where (``bindings[2].roles``) and why."""


def permission_grants(permission: str, method: str) -> bool:
    """Does ``permission`` (a method name or wildcard) grant ``method`` (a method or pseudo-permission)?"""
    if permission in (WILDCARD, method):
        return True
    return permission.endswith("/*") and method.startswith(permission[:-1])


@dataclass(frozen=True)
class Grants:
    """The permissions of one caller: the union of their roles' permissions."""

    roles: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()

    def allows(self, permission: str) -> bool:
        return any(permission_grants(granted, permission) for granted in self.permissions)


@dataclass(frozen=True)
class Binding:
    principal: str
    roles: tuple[str, ...]
    act_for_users: bool = False


@dataclass(frozen=True)
class Policy:
    """A parsed, validated policy; immutable, so a reload swaps it whole."""

    roles: Mapping[str, frozenset[str]]
    bindings: Mapping[str, Binding] = field(default_factory=dict)

    def grants(self, principal: str, extra_roles: Iterable[str] = ()) -> Grants:
        """What ``principal`` may do, plus ``extra_roles`` (a user's own role) if the policy defines them."""
        names = set(extra_roles) & self.roles.keys()
        binding = self.bindings.get(principal)
        if binding is not None:
            names.update(binding.roles)
        permissions = frozenset(p for name in names for p in self.roles[name])
        return Grants(frozenset(names), permissions)

    def may_act_for_users(self, principal: str) -> bool:
        binding = self.bindings.get(principal)
        return binding is not None and binding.act_for_users


def _permission_problem(
    permission: object, methods: Collection[str], services: Collection[str]
) -> str | None:
    if not isinstance(permission, str) or not permission:
        return "must be a non-empty string"
    if permission == WILDCARD or permission in methods:
        return None
    if permission.endswith("/*"):
        return None if permission[:-2] in services else f"unknown service {permission[:-2]!r}"
    return f"unknown method {permission!r} (a full name such as inventory.v1.ProductService/GetProduct)"


def _check_keys(where: str, value: Mapping[Any, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        raise PolicyError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def _roles(raw: object, methods: Collection[str], services: Collection[str]) -> dict[str, frozenset[str]]:
    if not isinstance(raw, Mapping):
        raise PolicyError("roles: must be a mapping of role name -> list of permissions")
    roles: dict[str, frozenset[str]] = {}
    for name, permissions in raw.items():
        if not isinstance(name, str) or not name:
            raise PolicyError(f"roles: role name {name!r} must be a non-empty string")
        if not isinstance(permissions, list):
            raise PolicyError(f"roles.{name}: must be a list of permissions")
        for index, permission in enumerate(permissions):
            problem = _permission_problem(permission, methods, services)
            if problem:
                raise PolicyError(f"roles.{name}[{index}]: {problem}")
        roles[name] = frozenset(permissions)
    return roles


def _binding(where: str, raw: object, roles: Mapping[str, object]) -> Binding:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: must be a mapping with principal and roles")
    _check_keys(where, raw, BINDING_KEYS)
    principal = raw.get("principal")
    if not isinstance(principal, str) or not principal:
        raise PolicyError(f"{where}.principal: must be a non-empty string")
    names = raw.get("roles")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise PolicyError(f"{where}.roles: must be a list of role names")
    unknown = [n for n in names if n not in roles]
    if unknown:
        raise PolicyError(f"{where}.roles: undefined role(s) {', '.join(unknown)}")
    act = raw.get("act_for_users", False)
    if not isinstance(act, bool):
        raise PolicyError(f"{where}.act_for_users: must be true or false")
    return Binding(principal, tuple(names), act)


def parse_policy(text: str, methods: Collection[str]) -> Policy:
    """Parse and validate YAML ``text``; ``methods`` are every permission the server knows."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(f"not valid YAML{where}") from None
    if not isinstance(raw, Mapping):
        raise PolicyError("must be a mapping with the keys roles and bindings")
    _check_keys("policy", raw, POLICY_KEYS)
    services = {m.split("/", 1)[0] for m in methods}
    roles = _roles(raw.get("roles") or {}, methods, services)
    bindings_raw = raw.get("bindings") or []
    if not isinstance(bindings_raw, list):
        raise PolicyError("bindings: must be a list")
    bindings: dict[str, Binding] = {}
    for index, item in enumerate(bindings_raw):
        binding = _binding(f"bindings[{index}]", item, roles)
        if binding.principal in bindings:
            raise PolicyError(f"bindings[{index}].principal: {binding.principal!r} is bound twice")
        bindings[binding.principal] = binding
    return Policy(roles, bindings)
