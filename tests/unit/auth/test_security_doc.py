"""docs/security.md stays true: its permission table is what deploy/auth/policy.yaml grants."""

from __future__ import annotations

from pathlib import Path

from inventory_server.app import permission_names
from inventory_server.auth.policy import parse_policy
from inventory_server.auth.setup import PSEUDO_PERMISSIONS
from inventory_server.config import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[3]
USER_ROLES = ("viewer", "clerk", "manager", "admin")
SERVICE_ROLES = ("authenticator", "operator")


def _table() -> dict[str, list[str]]:
    rows = {}
    for line in (ROOT / "docs" / "security.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and "/" in cells[0]:
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_permission_table_lists_every_guarded_method_as_the_default_policy_grants_it() -> None:
    known = (*permission_names(), *PSEUDO_PERMISSIONS)
    policy = parse_policy((ROOT / "deploy" / "auth" / "policy.yaml").read_text(), known)
    rows = _table()
    # Pseudo-permissions (parts of a method) have their rows too.
    guarded = [m for m in known if not m.startswith("grpc.health.v1.")]
    assert sorted(rows) == sorted(guarded)
    for method, cells in rows.items():
        expected = ["✓" if policy.grants("u", [role]).allows(method) else "" for role in USER_ROLES]
        expected.append(", ".join(r for r in SERVICE_ROLES if policy.grants("s", [r]).allows(method)))
        assert cells == expected, method


def test_every_auth_setting_is_documented_in_the_readme_and_here() -> None:
    readme = (ROOT / "README.md").read_text()
    security = (ROOT / "docs" / "security.md").read_text()
    operations = (ROOT / "docs" / "operations.md").read_text()
    for name in (
        "auth_policy_file",
        "jwt_jwks_file",
        "jwt_issuer",
        "jwt_audience",
        "auth_user_cache_seconds",
        "allow_insecure_listen",
    ):
        variable = ENVIRONMENT[name]
        assert f"`{variable}`" in readme, variable
        assert variable in security, variable
        assert variable in operations, variable
