"""The deployment docs describe the manifests that exist, with the values they have."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .render import DEPLOY, ROOT, build, component_names
from .test_kubernetes_schemas import SUPPORTED

DOCS = ROOT / "docs"


def yaml_block_after(path_text: str, marker: str) -> Any:
    start = path_text.index(marker)
    match = re.compile(r"```yaml\n(.*?)```", re.DOTALL).search(path_text, start)
    assert match, f"no yaml block after {marker!r}"
    return yaml.safe_load(match.group(1))


def missing_from(snippet: Any, manifest: Any, where: str = "") -> list[str]:
    """Where ``snippet`` says something ``manifest`` does not: maps are compared key by key
    (the snippet may leave keys out), lists item by item, scalars by value."""
    if isinstance(snippet, dict):
        if not isinstance(manifest, dict):
            return [f"{where}: a map in the docs, {manifest!r} in the manifest"]
        problems = []
        for key, value in snippet.items():
            if key not in manifest:
                problems.append(f"{where}.{key}: not in the manifest")
            else:
                problems += missing_from(value, manifest[key], f"{where}.{key}")
        return problems
    if isinstance(snippet, list):
        if not isinstance(manifest, list) or len(snippet) != len(manifest):
            return [f"{where}: {snippet!r} in the docs, {manifest!r} in the manifest"]
        return [
            p
            for n, (a, b) in enumerate(zip(snippet, manifest, strict=True))
            for p in missing_from(a, b, f"{where}[{n}]")
        ]
    return [] if snippet == manifest else [f"{where}: {snippet!r} in the docs, {manifest!r} in the manifest"]


def test_migrations_doc_job_snippet_is_the_manifest() -> None:
    text = (DOCS / "migrations.md").read_text()
    snippet = yaml_block_after(text, "**Job** (before rolling out a new version)")
    (job,) = build(DEPLOY / "migrate")
    assert missing_from(snippet, job) == []
    # The parts that make the Job behave are all in the snippet, not only some keys.
    spec = snippet["spec"]
    assert {"backoffLimit", "activeDeadlineSeconds", "podFailurePolicy", "template"} <= set(spec)
    assert spec["podFailurePolicy"] == job["spec"]["podFailurePolicy"]
    (container,) = spec["template"]["spec"]["containers"]
    assert {"command", "args", "env"} <= set(container)


def test_the_comparison_notices_a_drifted_value() -> None:
    (job,) = build(DEPLOY / "migrate")
    limit = job["spec"]["backoffLimit"]
    drifted = {"spec": {"backoffLimit": limit + 1}}
    expected = f".spec.backoffLimit: {limit + 1} in the docs, {limit} in the manifest"
    assert missing_from(drifted, job) == [expected]


def test_deployment_doc_names_every_manifest_and_component() -> None:
    text = (DOCS / "deployment.md").read_text()
    for name in component_names():
        assert f"deploy/components/{name}" in text, name
    for path in [*DEPLOY.glob("*.yaml"), *DEPLOY.glob("*.env")]:
        if path.name != "kustomization.yaml":
            assert f"deploy/{path.name}" in text, path.name
    kustomization_text = (DEPLOY / "kustomization.yaml").read_text()
    for name in component_names():
        assert f"components/{name}" in kustomization_text, name


def test_deployment_doc_lists_the_validated_kubernetes_versions() -> None:
    text = (DOCS / "deployment.md").read_text()
    assert f"Kubernetes {SUPPORTED[0]} and later" in text
    for version in SUPPORTED:
        assert version in text
