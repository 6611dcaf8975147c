"""./scripts/stack: a complete .env with fresh secrets, and a clear word when Docker is missing."""

from collections.abc import Iterator
import json
import os
from pathlib import Path
import re
import shutil
import stat
import subprocess
import sys

import pytest

from tests.bridge.recorded_influxdb import RecordedInfluxDB, Response, error
from tests.stack.checks import ENV_LINE, REPO, is_secret
from tests.stack.test_influxdb_tokens import ADMIN_ONLY, BUCKETS, ORGS, created

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
    # InfluxDB issues the clients' tokens at `up`: `env` leaves them empty.
    issued = {"INFLUXDB_BRIDGE_TOKEN", "INFLUXDB_HOMEASSISTANT_TOKEN", "INFLUXDB_GRAFANA_TOKEN"}
    assert {name: written[name] for name in issued} == dict.fromkeys(issued, "")
    secrets = {
        name: value for name, value in written.items() if is_secret(name) and name not in issued
    }
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
    assert all(first[name] != second[name] for name in first if is_secret(name) and first[name])


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


# --- `up` and InfluxDB's tokens -------------------------------------------------------------
# No Docker Engine runs here: a stand-in `docker` records each call and, for the token step,
# runs the real compose/influxdb/issue_tokens.py as the container would, against a server
# answering as InfluxDB 2 (tests/stack/test_influxdb_tokens.py covers the script itself).

STAND_IN_DOCKER = """#!{python}
import json, os, subprocess, sys
arguments = sys.argv[1:]
with open({log!r}, "a") as log:
    log.write(json.dumps(arguments) + "\\n")
if arguments[:1] == ["compose"] and "run" in arguments:
    forwarded = [arguments[i + 1] for i, a in enumerate(arguments) if a == "--env"]
    mounted = next(a for a in arguments if a.endswith(":/energy-edge/issue_tokens.py:ro"))
    environment = {{name: os.environ[name] for name in forwarded}}
    environment |= {{"INFLUXDB_URL": {url!r}, "INFLUXDB_ORG": "energy-edge",
                     "INFLUXDB_BUCKET": "energy"}}
    sys.exit(subprocess.run([sys.executable, mounted.split(":")[0]], env=environment).returncode)
if arguments[:1] == ["compose"] and "--profile" in arguments and "up" in arguments:
    with open({env_log!r}, "a") as copy:
        copy.write(open({env_file!r}).read() + "---\\n")
"""


@pytest.fixture
def stand_in_docker(tmp_path: Path, project: Path) -> Iterator[tuple[str, RecordedInfluxDB]]:
    """A PATH whose `docker` is the stand-in, and the InfluxDB it reaches."""
    server = RecordedInfluxDB(default=Response(500))
    server.start()
    bin_dir = tmp_path / "docker-bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        STAND_IN_DOCKER.format(
            python=sys.executable,
            log=str(tmp_path / "docker.log"),
            url=server.url,
            env_log=str(tmp_path / "env-at-up.log"),
            env_file=str(project / "compose/.env"),
        )
    )
    docker.chmod(0o755)
    (project / "compose/influxdb").mkdir()
    shutil.copy(REPO / "compose/influxdb/issue_tokens.py", project / "compose/influxdb")
    try:
        yield f"{bin_dir}:{os.environ['PATH']}", server
    finally:
        server.stop()


def test_up_issues_each_client_its_influxdb_token_before_starting_them(
    project: Path, tmp_path: Path, stand_in_docker: tuple[str, RecordedInfluxDB]
) -> None:
    """InfluxDB first, then its tokens into .env, then the clients; no secret on a command line."""
    path, influxdb = stand_in_docker
    influxdb.answer(ORGS, BUCKETS, ADMIN_ONLY, created(1), created(2), created(3))
    env_file = project / "compose/.env"
    env_file.write_text("INFLUXDB_ADMIN_TOKEN=admin-token-from-dotenv\n")
    result = run(project, "up", path=path)
    assert result.returncode == 0, result.stderr
    calls = [json.loads(line) for line in (tmp_path / "docker.log").read_text().splitlines()]
    compose_calls = [call for call in calls if "--project-directory" in call]
    steps = [next(word for word in ("rm", "run", "up") if word in call) for call in compose_calls]
    assert steps == ["rm", "up", "run", "up"]
    assert compose_calls[1][-3:] == ["--detach", "--wait", "influxdb"]
    written = read_env(env_file)
    issued = {
        name: json.loads(created(number).body)["token"]
        for number, name in enumerate(
            ("INFLUXDB_BRIDGE_TOKEN", "INFLUXDB_HOMEASSISTANT_TOKEN", "INFLUXDB_GRAFANA_TOKEN"),
            start=1,
        )
    }
    assert {name: written[name] for name in issued} == issued
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    # The clients start with their tokens already in .env.
    assert all(
        f"{name}={token}" in (tmp_path / "env-at-up.log").read_text()
        for name, token in issued.items()
    )
    secrets = [value for name, value in written.items() if is_secret(name)]
    assert not any(secret in " ".join(call) for call in calls for secret in secrets)


def test_a_refused_token_step_stops_up_before_the_clients_start(
    project: Path, tmp_path: Path, stand_in_docker: tuple[str, RecordedInfluxDB]
) -> None:
    """A wrong admin token: `up` fails with InfluxDB's reason and starts nothing else."""
    path, influxdb = stand_in_docker
    influxdb.answer(error(401, "unauthorized", "unauthorized access"))
    result = run(project, "up", path=path)
    assert result.returncode != 0
    assert "HTTP 401: unauthorized access" in result.stderr
    assert not (tmp_path / "env-at-up.log").exists()
    assert read_env(project / "compose/.env")["INFLUXDB_BRIDGE_TOKEN"] == ""
