"""./scripts/stack: a complete .env with fresh secrets, and a clear word when Docker is missing."""

import os
from pathlib import Path
import re
import shutil
import stat
import subprocess

import pytest

from tests.stack.checks import ENV_LINE, REPO, is_secret

SECRET = re.compile(r"^[A-Za-z0-9]{32}$")
# What the script needs from the system, without docker.
TOOLS = ("bash", "dirname", "sed", "head", "base64", "tr", "grep", "chmod", "cat", "id", "tail")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder holding the script and the stack's .env.example."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "compose").mkdir()
    shutil.copy(REPO / "scripts/stack", tmp_path / "scripts/stack")
    shutil.copy(REPO / "compose/.env.example", tmp_path / "compose/.env.example")
    return tmp_path


@pytest.fixture
def path_without_docker(tmp_path: Path) -> str:
    """A PATH with the script's tools and no docker command."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def run(
    project: Path, *arguments: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the project's copy of scripts/stack."""
    environment = {**os.environ, "PATH": path or os.environ["PATH"]}
    return subprocess.run(
        [str(project / "scripts/stack"), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def read_env(path: Path) -> dict[str, str]:
    """The variables of an .env file."""
    lines = path.read_text().splitlines()
    return {match[1]: match[2] for line in lines if (match := ENV_LINE.match(line))}


def test_env_is_complete_with_random_secrets_readable_by_its_owner_only(project: Path) -> None:
    """Every variable of .env.example, every secret filled, mode 600."""
    result = run(project, "env")
    assert result.returncode == 0, result.stderr
    env_file = project / "compose/.env"
    example = read_env(project / "compose/.env.example")
    written = read_env(env_file)
    assert list(written) == list(example)
    secrets = {name: value for name, value in written.items() if is_secret(name)}
    assert len(secrets) == 9
    assert all(SECRET.match(value) for value in secrets.values()), secrets
    assert len(set(secrets.values())) == len(secrets)
    assert {name: value for name, value in written.items() if not is_secret(name)} == {
        name: value for name, value in example.items() if not is_secret(name)
    }
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_each_installation_gets_its_own_secrets(project: Path) -> None:
    """Two installations never share a password."""
    run(project, "env")
    first = read_env(project / "compose/.env")
    (project / "compose/.env").unlink()
    run(project, "env")
    second = read_env(project / "compose/.env")
    assert all(first[name] != second[name] for name in first if is_secret(name))


def test_existing_values_are_kept_and_new_variables_added(project: Path) -> None:
    """An upgrade brings new variables without touching the user's settings or secrets."""
    env_file = project / "compose/.env"
    env_file.write_text("TZ=America/Montreal\nGRAFANA_ADMIN_PASSWORD=chosen-by-me\n")
    env_file.chmod(0o644)
    result = run(project, "env")
    assert result.returncode == 0, result.stderr
    written = read_env(env_file)
    assert written["TZ"] == "America/Montreal"
    assert written["GRAFANA_ADMIN_PASSWORD"] == "chosen-by-me"  # noqa: S105
    assert SECRET.match(written["BRIDGE_API_TOKEN"])
    assert set(written) == set(read_env(project / "compose/.env.example"))
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "GRAFANA_ADMIN_PASSWORD" not in result.stdout.split("set ", 1)[1]
    assert run(project, "env").stdout == ""


def test_a_default_secret_in_the_example_is_refused(project: Path) -> None:
    """A password shipped in .env.example would be the same on every installation."""
    example = project / "compose/.env.example"
    example.write_text(example.read_text().replace("BRIDGE_API_TOKEN=", "BRIDGE_API_TOKEN=abc"))
    result = run(project, "env")
    assert result.returncode == 1
    assert "BRIDGE_API_TOKEN must be empty" in result.stderr


def test_up_without_docker_says_so_and_points_to_the_native_stack(
    project: Path, path_without_docker: str
) -> None:
    """No Docker: a clear message, the native stack's command, and nothing written."""
    result = run(project, "up", path=path_without_docker)
    assert result.returncode == 1
    assert "Docker is not available: the docker command is not installed" in result.stderr
    assert "./scripts/dev-stack up" in result.stderr
    assert not (project / "compose/.env").exists()


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode
    == 0,
    reason="needs a docker client without the Compose plugin, as on the test machines",
)
def test_up_with_docker_but_no_compose_says_what_is_missing(project: Path) -> None:
    """A docker client alone is not enough: the message names Compose v2."""
    result = run(project, "up", "--hardware")
    assert result.returncode == 1
    assert "Docker Compose v2 (the 'docker compose' plugin) is not installed" in result.stderr
    assert "./scripts/dev-stack up" in result.stderr


@pytest.mark.parametrize(
    "arguments", [(), ("start",), ("up", "--both"), ("up", "--hardware", "--simulation")]
)
def test_wrong_usage_prints_the_commands(project: Path, arguments: tuple[str, ...]) -> None:
    """A mistyped command shows what the script does, and exits 2."""
    result = run(project, *arguments)
    assert result.returncode == 2
    assert "./scripts/stack up [--simulation|--hardware]" in result.stderr
    assert not result.stderr.startswith("#")


def test_status_before_first_up_explains(project: Path) -> None:
    """Nothing to show before the stack was ever configured."""
    if shutil.which("docker") is not None and (
        subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    ):
        pytest.skip("a running Docker Engine would answer first")
    result = run(project, "status")
    assert result.returncode == 1
    assert "Docker is not available" in result.stderr or "never started" in result.stderr
