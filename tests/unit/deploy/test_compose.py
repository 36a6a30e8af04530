"""docker-compose.yml: valid under the Compose specification, and wired the way local
development depends on (database healthy -> migration completed -> server healthy).

The schema is the Compose specification's JSON schema as vendored by the
check-jsonschema package (its builtin "vendor.compose-spec", from
github.com/compose-spec/compose-spec, schema/compose-spec.json); jsonschema
validates against it. No Docker engine is needed.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import pytest
import yaml

from inventory_server.config import ENVIRONMENT, Settings
from inventory_server.migrate.cli import build_parser as migrate_parser

from .render import ROOT
from .test_container_image import PROBE_COMMAND, healthcheck, seconds

COMPOSE = ROOT / "docker-compose.yml"

Doc = dict[str, Any]


@cache
def compose_schema() -> Doc:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema: Doc = json.loads(vendored.read_text())
    assert schema["title"] == "Compose Specification"
    return schema


@cache
def compose() -> Doc:
    doc: Doc = yaml.safe_load(COMPOSE.read_text())
    return doc


def schema_errors(doc: Doc) -> list[str]:
    validator = jsonschema.Draft202012Validator(compose_schema())
    return [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(doc)]


def service(name: str) -> Doc:
    found: Doc = compose()["services"][name]
    return found


def test_compose_file_is_valid_under_the_compose_specification() -> None:
    jsonschema.Draft202012Validator.check_schema(compose_schema())
    assert schema_errors(compose()) == []


def test_the_schema_check_rejects_a_misspelt_key() -> None:
    broken = {
        **compose(),
        "services": {**compose()["services"], "server": {**service("server"), "healtcheck": {}}},
    }
    assert any("healtcheck" in error for error in schema_errors(broken))


def test_services_are_the_database_the_migration_and_the_server() -> None:
    assert set(compose()["services"]) == {"postgres", "migrate", "server"}


def test_migration_runs_to_completion_before_the_server_starts() -> None:
    assert service("migrate")["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert service("server")["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    # A migration that exits must not be restarted (it would never "complete").
    assert service("migrate")["restart"] == "no"


def test_migration_command_is_accepted_by_the_real_cli() -> None:
    migrate = service("migrate")
    assert migrate["entrypoint"] == ["inventory-migrate"]
    parsed = migrate_parser().parse_args(migrate["command"])
    assert parsed.command == "migrate"
    assert parsed.wait_for_db > 0


def test_migration_and_server_run_the_image_built_from_this_checkout() -> None:
    migrate, server = service("migrate"), service("server")
    assert migrate["image"] == server["image"]
    for entry in (migrate, server):
        assert entry["build"]["context"] == "."
        assert set(entry["build"]["args"]) == {"REVISION", "SOURCE"}  # the image's OCI label args


def test_server_healthcheck_is_the_images_and_asks_grpc_health() -> None:
    check = service("server")["healthcheck"]
    assert check["test"] == ["CMD", *PROBE_COMMAND]
    options, command = healthcheck()
    assert command == PROBE_COMMAND
    for key in ("interval", "timeout", "retries"):
        assert str(check[key]) == options[key], key
    assert check["start_period"] == options["start-period"]
    # The probe's port is the port the server listens on, published on loopback only.
    port = Settings().port
    assert PROBE_COMMAND[2] == f"-addr=127.0.0.1:{port}"
    assert service("server")["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_migration_container_does_not_inherit_the_servers_healthcheck() -> None:
    assert service("migrate")["healthcheck"] == {"disable": True}


def test_database_healthcheck_waits_for_the_real_server_over_tcp() -> None:
    test = service("postgres")["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    assert "--host=127.0.0.1" in test


@pytest.mark.parametrize("name", ["migrate", "server"])
def test_both_reach_the_compose_database_by_its_service_name(name: str) -> None:
    url = service(name)["environment"]["DATABASE_URL"]
    database = service("postgres")["environment"]["POSTGRES_DB"]
    assert url == f"postgresql://postgres@postgres:5432/{database}"


def test_server_environment_holds_only_real_settings() -> None:
    assert set(service("server")["environment"]) <= set(ENVIRONMENT.values())


def test_server_shutdown_fits_in_the_stop_grace_period() -> None:
    grace = float(service("server")["environment"]["INVENTORY_GRACE_PERIOD"])
    assert seconds(service("server")["stop_grace_period"]) >= grace + 5


def test_nothing_listens_beyond_loopback() -> None:
    for name, entry in compose()["services"].items():
        for port in entry.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), (name, port)
