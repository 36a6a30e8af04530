"""deploy/ against the Kubernetes API's own schemas, for every version we support.

kubernetes-validate ships the OpenAPI-derived JSON schemas of each Kubernetes
release. Every object `kubectl apply -k` would create, for the base and with each
component, must validate in strict mode (unknown fields are errors, so a typo
cannot be silently dropped by the API server) on the oldest supported version,
the newest the package knows, and versions between where fields changed.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from .render import DEPLOY, Doc, build, component_names

# 1.26: the oldest supported (gRPC probes beta and on by default, podFailurePolicy beta).
# 1.28: the last with onPodConditions required in every podFailurePolicy rule.
# 1.29/1.30: that requirement lifted; 1.31: podFailurePolicy GA.
SUPPORTED = ("1.26", "1.28", "1.30", "1.31")


def versions() -> list[str]:
    latest = str(kubernetes_validate.latest_version())
    return [*SUPPORTED, *([latest] if latest not in SUPPORTED else [])]


def renderings() -> dict[str, list[Doc]]:
    out = {"deploy": build(DEPLOY), "deploy/migrate": build(DEPLOY / "migrate")}
    for name in component_names():
        out[f"deploy + components/{name}"] = build(DEPLOY, components=(name,))
    return out


def validate(doc: Doc, version: str) -> None:
    validated: Any = kubernetes_validate.validate(doc, version, strict=True)
    assert validated  # the schema version it used; raises on any violation


@pytest.mark.parametrize("version", versions())
@pytest.mark.parametrize("rendering", sorted(renderings()))
def test_every_object_validates_strictly(rendering: str, version: str) -> None:
    objects = renderings()[rendering]
    assert objects
    for doc in objects:
        try:
            validate(doc, version)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path)
            pytest.fail(
                f"{rendering}: {doc['kind']} {doc['metadata']['name']} on {version}: {where}: {error.message}"
            )


def test_every_component_is_rendered() -> None:
    assert set(component_names()) == {"hpa", "migrate-init-container", "pgbouncer"}


def test_the_job_as_it_was_fails_on_1_26_so_this_check_has_teeth() -> None:
    # The FailJob rule without onPodConditions: what issue 12 found broken on 1.26-1.28.
    (job,) = build(DEPLOY / "migrate")
    broken = {
        **job,
        "spec": {
            **job["spec"],
            "podFailurePolicy": {
                "rules": [
                    {k: v for k, v in rule.items() if k != "onPodConditions" or v}
                    for rule in job["spec"]["podFailurePolicy"]["rules"]
                ]
            },
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError, match="onPodConditions"):
        validate(broken, "1.26")
    validate(broken, "1.30")


def test_strict_mode_rejects_an_unknown_field() -> None:
    (job,) = build(DEPLOY / "migrate")
    typo = {**job, "spec": {**job["spec"], "backofLimit": 3}}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(typo, SUPPORTED[0])
