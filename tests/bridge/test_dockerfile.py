"""The container image's recipe passes hadolint, keeps the contract with the stack, and installs
the bridge with the Zigbee2MQTT protocol library it requires."""

import os
from pathlib import Path, PurePosixPath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib

from tests.helpers.repository import repository_files

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "bridge" / "Dockerfile"


def test_the_dockerfile_passes_hadolint() -> None:
    """hadolint (from the dev dependencies) finds nothing."""
    hadolint = shutil.which("hadolint") or str(DOCKERFILE.parents[1] / ".venv" / "bin" / "hadolint")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_unprivileged_with_a_health_check() -> None:
    """A numeric non-root user, /health checked, the console script as entry point."""
    text = DOCKERFILE.read_text()
    assert "\nUSER 10001\n" in text
    assert "HEALTHCHECK" in text
    assert "/health" in text
    assert 'ENTRYPOINT ["energy-edge-bridge"]' in text
    assert "FROM python:3.14-slim" in text


def build_stage() -> list[tuple[str, str]]:
    """The first stage's instructions, (keyword, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    instructions = [tuple(line.split(maxsplit=1)) for line in lines if line and line[0] != "#"]
    end = next(i for i, (keyword, _) in enumerate(instructions) if i and keyword == "FROM")
    return [(keyword.upper(), arguments) for keyword, arguments in instructions[1:end]]


def build_context(directory: Path) -> None:
    """Copy what Docker sends for `docker build -f bridge/Dockerfile .`: the repository's files
    that the root .dockerignore lets through (its last matching rule wins; a rule naming a
    directory covers what is under it)."""
    rules = [
        (line.startswith("!"), line.removeprefix("!").rstrip("/"))
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    files = repository_files()
    for name in files:
        path = PurePosixPath(name)
        sent = True
        for included, pattern in rules:
            if any(part.full_match(pattern) for part in (path, *path.parents[:-1])):
                sent = included
        if sent and (ROOT / name).is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, directory / name)


def test_the_image_installs_the_bridge_with_the_protocol_library(tmp_path: Path) -> None:
    """The build stage's COPY and RUN, replayed without Docker on the context Docker would send
    (uv is already here; /opt/venv is a temporary directory; the cache is used): the virtual
    environment holds the bridge and the Zigbee2MQTT protocol library it requires at the pinned
    version, installed from this source, and every requirement is met."""
    context, source, venv = tmp_path / "context", tmp_path / "src", tmp_path / "venv"
    context.mkdir()
    source.mkdir()
    build_context(context)
    # Nothing in this shell's environment may point uv at another Python (the tests' virtual
    # environment above all): the interpreter behind the tests' comes first on PATH, as the
    # image's does, and none is downloaded. The rest (the index's certificates) is kept.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"VIRTUAL_ENV", "UV_PYTHON", "UV_SYSTEM_PYTHON", "PYTHONPATH"}
    }
    environment["PATH"] = f"{Path(sys._base_executable).parent}:{os.environ['PATH']}"
    environment["UV_PYTHON_DOWNLOADS"] = "never"
    for keyword, arguments in build_stage():
        if keyword == "COPY":  # into a directory: a file goes in it, a directory's content too
            *names, target = arguments.split()
            (source / target).mkdir(parents=True, exist_ok=True)
            for name in names:
                if (context / name).is_dir():
                    shutil.copytree(context / name, source / target, dirs_exist_ok=True)
                else:
                    shutil.copy(context / name, source / target)
        elif keyword == "ENV":
            environment |= dict(pair.split("=", 1) for pair in shlex.split(arguments))
        elif keyword == "RUN" and not arguments.startswith("pip install"):
            command = arguments.replace("/opt/venv", str(venv)).replace("--no-cache ", "")
            run = subprocess.run(
                ["bash", "-c", command], cwd=source, env=environment, capture_output=True,
                text=True, timeout=240, check=False,
            )  # fmt: skip
            assert run.returncode == 0, run.stderr
    python = str(venv / "bin" / "python")
    check = subprocess.run(
        ["uv", "pip", "check", "--python", python], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    library = tomllib.loads((ROOT / "protocol" / "pyproject.toml").read_text())["project"]
    probe = subprocess.run(
        [python, "-c", PROBE, library["name"]],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    version, location = probe.stdout.split()
    assert version == library["version"]
    assert Path(location).is_relative_to(venv)
    assert (venv / "bin" / "energy-edge-bridge").exists()


# The installed library's version and where Python imports it from.
PROBE = """
import importlib.metadata, sys, zigbee2mqtt_protocol
print(importlib.metadata.version(sys.argv[1]), zigbee2mqtt_protocol.__file__)
"""
