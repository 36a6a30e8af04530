"""What `kustomize build` makes of deploy/, for the parts of kustomize deploy/ uses.

No kustomize binary is needed on the machine: resources are read as YAML, the
configMapGenerator's env files and files become ConfigMaps (named without the content hash,
which kustomize appends and writes into every reference), and components'
strategic merge patches are applied with the merge keys of the fields they
touch. Anything else in a kustomization fails loudly rather than being ignored,
so these tests cannot silently check less than kustomize would apply.

Cross-checked by hand against `kubectl kustomize` (kustomize v5.8.1) for the base,
deploy/migrate and the base with each component: the same objects and values,
except that kustomize puts items a patch adds to a list before the existing ones
and appends the content hash to the ConfigMap's name (and to its references).
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"

Doc = dict[str, Any]

# Strategic merge keys (from the Kubernetes API's patchMergeKey) of the lists our patches touch.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}
KNOWN_KEYS = {"apiVersion", "kind", "resources", "configMapGenerator", "patches", "components", "images"}


@cache
def documents(path: Path) -> tuple[Doc, ...]:
    with path.open() as stream:
        return tuple(doc for doc in yaml.safe_load_all(stream) if doc)


def read_env_file(path: Path) -> dict[str, str]:
    """kustomize's `envs` format: KEY=value lines taken literally, blank lines and # comments skipped."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, (
            f"{path.name}:{number}: not KEY=value (kustomize would read {key} from its own environment)"
        )
        assert key not in values, f"{path.name}:{number}: {key} set twice"
        assert not (value[:1] in "\"'" and value[:1] and value.endswith(value[:1])), (
            f"{path.name}:{number}: kustomize keeps quotes as part of the value"
        )
        values[key] = value
    return values


def kustomization(folder: Path) -> Doc:
    doc = documents(folder / "kustomization.yaml")[0]
    unknown = set(doc) - KNOWN_KEYS
    assert not unknown, f"{folder}: render.py does not implement {unknown}"
    return doc


def generated_config_maps(folder: Path) -> list[Doc]:
    maps = []
    for generator in kustomization(folder).get("configMapGenerator", []):
        assert set(generator) <= {"name", "envs", "files", "options"}, generator
        assert set(generator.get("options", {})) <= {"labels", "disableNameSuffixHash"}, generator
        data: dict[str, str] = {}
        for name in generator.get("envs", []):
            data.update(read_env_file(folder / name))
        for entry in generator.get("files", []):  # "key=path" or "path" (key = the file's name)
            key, _, path = entry.rpartition("=")
            data[key or Path(path).name] = (folder / path).read_text()
        metadata: Doc = {"name": generator["name"]}
        labels = generator.get("options", {}).get("labels")
        if labels:
            metadata["labels"] = dict(labels)
        maps.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
    return maps


def strategic_merge(base: Any, patch: Any, key: str | None = None) -> Any:
    """The strategic merge patch rules for what our patches use: maps merge, null deletes,
    lists of objects with a merge key merge item by item, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for name, value in patch.items():
            if value is None:
                merged.pop(name, None)
            elif name in merged:
                merged[name] = strategic_merge(merged[name], value, name)
            else:
                merged[name] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and key in MERGE_KEYS:
        merge_key = MERGE_KEYS[key]
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            matches = [n for n, old in enumerate(merged_list) if old[merge_key] == item[merge_key]]
            if matches:
                merged_list[matches[0]] = strategic_merge(merged_list[matches[0]], item)
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def build(folder: Path, components: tuple[str, ...] = ()) -> list[Doc]:
    """The objects `kustomize build` of ``folder`` with the named deploy/components would output."""
    doc = kustomization(folder)
    objects = [copy.deepcopy(d) for name in doc.get("resources", []) for d in documents(folder / name)]
    objects += generated_config_maps(folder)
    for component in components:
        objects = apply_component(objects, DEPLOY / "components" / component)
    for image in doc.get("images", []):
        set_image(objects, image)
    return objects


def set_image(objects: list[Doc], override: Doc) -> None:
    """`images:` (what `kustomize edit set image` writes): new name, tag or digest for an image name."""
    assert set(override) <= {"name", "newName", "newTag", "digest"}, override
    for obj in objects:
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            name, _, tag = container["image"].partition(":")
            if name != override["name"]:
                continue
            image = override.get("newName", name)
            if "digest" in override:
                container["image"] = f"{image}@{override['digest']}"
            else:
                container["image"] = f"{image}:{override.get('newTag', tag)}"


def apply_component(objects: list[Doc], folder: Path) -> list[Doc]:
    doc = kustomization(folder)
    assert doc["kind"] == "Component"
    objects = objects + [
        copy.deepcopy(d) for name in doc.get("resources", []) for d in documents(folder / name)
    ]
    for entry in doc.get("patches", []):
        assert set(entry) == {"path"}, entry
        for patch in documents(folder / entry["path"]):
            targets = [
                n
                for n, obj in enumerate(objects)
                if obj["kind"] == patch["kind"] and obj["metadata"]["name"] == patch["metadata"]["name"]
            ]
            assert len(targets) == 1, f"{folder.name}: patch for a missing {patch['kind']}"
            objects[targets[0]] = strategic_merge(objects[targets[0]], patch)
    return objects


def component_names() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in (DEPLOY / "components").iterdir() if p.is_dir()))
