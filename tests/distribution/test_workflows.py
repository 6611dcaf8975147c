"""The release machinery passes its linters, and each linter fails on a broken copy: workflows
against GitHub's schema, Dockerfiles with hadolint, YAML with yamllint, the development
override against the Compose specification."""

from pathlib import Path
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.helpers.repository import repository_files

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
DEV_OVERRIDE = ROOT / "compose" / "docker-compose.dev.yml"
STACK_SERVICES = {
    "bridge", "simulator", "homeassistant", "mosquitto", "influxdb", "grafana", "zigbee2mqtt",
}  # fmt: skip
YAMLLINT_CONFIG = (
    "{extends: default, rules: {line-length: {max: 120}, document-start: disable,"
    " truthy: {check-keys: false}}}"
)
# owner/repo[/path]@<commit> # <ref>, or @<exact version>; never a branch or a moving major.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(?:[0-9a-f]{40}\s+# \S+|v?\d+\.\d+\.\d+)$")


def run(tool: str, *arguments: object) -> subprocess.CompletedProcess[str]:
    """Run one of the linters installed in the virtual environment."""
    return subprocess.run(
        [str(TOOLS / tool), *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def broken_copy(source: Path, directory: Path, change: Any) -> Path:
    """A YAML file's copy with one change made to its parsed content."""
    content = yaml.safe_load(source.read_text())
    change(content)
    copy = directory / source.name
    copy.write_text(yaml.safe_dump(content, sort_keys=False))
    return copy


def jobs(workflow: str) -> dict[str, Any]:
    """A workflow's jobs, parsed."""
    content = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text())
    found: dict[str, Any] = content["jobs"]
    return found


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    """The job's steps that use an action, whatever its pinned ref."""
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def runs(job: dict[str, Any]) -> str:
    """All the shell the job's steps run."""
    return "\n".join(step.get("run", "") for step in job["steps"])


@pytest.mark.parametrize(
    "schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"]
)
def test_workflows_pass_githubs_schema_with_timeouts(schema: str) -> None:
    """check-jsonschema's built-in GitHub workflow schema, and every job bounded in time."""
    assert len(WORKFLOWS) >= 4
    result = run("check-jsonschema", "--builtin-schema", schema, *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("schema", "change"),
    [
        ("vendor.github-workflows", lambda w: w["jobs"]["test"].pop("runs-on")),
        ("vendor.github-workflows", lambda w: w["jobs"]["test"].update(steps="./scripts/test")),
        (
            "custom.github-workflows-require-timeout",
            lambda w: w["jobs"]["test"].pop("timeout-minutes"),
        ),
    ],
    ids=["job without runner", "steps not a list", "job without timeout"],
)
def test_a_broken_workflow_fails_the_schema(tmp_path: Path, schema: str, change: Any) -> None:
    """The same check rejects a copy of tests.yml with one mistake."""
    copy = broken_copy(ROOT / ".github" / "workflows" / "tests.yml", tmp_path, change)
    result = run("check-jsonschema", "--builtin-schema", schema, copy)
    assert result.returncode != 0
    assert "tests.yml" in result.stdout + result.stderr


def test_dependabot_keeps_actions_and_base_images_current(tmp_path: Path) -> None:
    """dependabot.yml passes its schema (and a copy with an unknown interval does not)."""
    config = ROOT / ".github" / "dependabot.yml"
    assert run("check-jsonschema", "--builtin-schema", "vendor.dependabot", config).returncode == 0
    ecosystems = {
        update["package-ecosystem"] for update in yaml.safe_load(config.read_text())["updates"]
    }
    assert ecosystems == {"github-actions", "docker"}
    copy = broken_copy(
        config, tmp_path, lambda c: c["updates"][0]["schedule"].update(interval="hourly")
    )
    assert run("check-jsonschema", "--builtin-schema", "vendor.dependabot", copy).returncode != 0


def unpinned_actions(workflow_text: str) -> list[str]:
    """Every `uses:` that is neither a commit with its ref in a comment nor an exact version."""
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(.+?)\s*$", workflow_text, re.MULTILINE)
    return [use for use in uses if not use.startswith("./") and not PINNED.match(use)]


def test_every_action_is_pinned() -> None:
    """A moved tag or branch can change no workflow; a floating ref is caught."""
    for workflow in WORKFLOWS:
        assert unpinned_actions(workflow.read_text()) == [], workflow.name
    floating = "    - uses: actions/checkout@v4\n      uses: hacs/action@main\n"
    assert unpinned_actions(floating) == ["actions/checkout@v4", "hacs/action@main"]
    assert unpinned_actions(f"  uses: a/b@{'0' * 40}\n") == [f"a/b@{'0' * 40}"]


def test_tests_run_the_readme_s_two_commands() -> None:
    """CI sets up and tests exactly as a developer does."""
    commands = runs(jobs("tests.yml")["test"])
    assert "./scripts/setup" in commands
    assert "./scripts/test" in commands


def test_hassfest_and_hacs_validate_with_no_check_ignored() -> None:
    """hassfest, and HACS's validation of an integration with nothing ignored."""
    validate = jobs("validate.yml")
    assert steps_using(validate["hassfest"], "home-assistant/actions/hassfest")
    (hacs,) = steps_using(validate["hacs"], "hacs/action")
    assert hacs["with"]["category"] == "integration"
    assert "ignore" not in hacs["with"]


@pytest.mark.parametrize("image", ["bridge", "simulator"])
def test_the_images_are_built_for_amd64_and_arm64(image: str) -> None:
    """QEMU and Buildx build bridge/Dockerfile, and simulator/Dockerfile, from the repository
    root for both platforms, and push only outside pull requests."""
    job = jobs("images.yml")[image]
    assert steps_using(job, "docker/setup-qemu-action")
    assert steps_using(job, "docker/setup-buildx-action")
    (build,) = steps_using(job, "docker/build-push-action")
    assert build["with"]["file"] == f"{image}/Dockerfile"
    assert build["with"]["context"] == "."
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["push"] == "${{ github.event_name != 'pull_request' }}"


def needed(jobs_: dict[str, Any], name: str) -> set[str]:
    """Every job that must succeed before this one starts, directly or through another."""
    direct = jobs_[name].get("needs", [])
    direct = [direct] if isinstance(direct, str) else direct
    return set(direct).union(*(needed(jobs_, job) for job in direct))


def test_a_tag_releases_after_checking_the_version() -> None:
    """A tag vX.Y.Z checks every file's version and the changelog, publishes the library to PyPI,
    then the release with the add-on's requirements, then the add-on's image for both
    platforms."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    assert workflow[True]["push"]["tags"] == ["v*"]  # PyYAML reads the key `on` as True
    release_jobs = workflow["jobs"]
    assert "scripts/bump-version --check" in runs(release_jobs["check"])
    assert "CHANGELOG.md" in runs(release_jobs["check"])
    commands = runs(release_jobs["release"])
    assert "gh release create" in commands
    assert "scripts/build-bridge-release" in commands
    (build,) = steps_using(release_jobs["addon"], "docker/build-push-action")
    assert build["with"]["context"] == "addon/energy_edge_bridge"
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert "energy-edge-bridge-addon" in build["with"]["tags"]
    assert needed(release_jobs, "library") == {"check"}
    assert {"check", "library"} <= needed(release_jobs, "release")
    assert {"check", "library", "release"} <= needed(release_jobs, "addon")


def test_the_library_reaches_pypi_before_anything_requires_it() -> None:
    """One job builds zigbee2mqtt-protocol's sdist and wheel and publishes them by trusted
    publishing (an OIDC token in the `pypi` environment, no stored secret); only that job may ask
    for a token, and every job that publishes what requires the library (the integration's
    release, which HACS offers, and the add-on) waits for it."""
    release_jobs = jobs("release.yml")
    library = release_jobs["library"]
    assert re.search(r"^uv build --package zigbee2mqtt-protocol\b", runs(library), re.MULTILINE)
    assert "--wheel" not in runs(library)
    assert "--sdist" not in runs(library)
    (publish,) = steps_using(library, "pypa/gh-action-pypi-publish")
    assert not {"password", "user"} & set(publish.get("with", {}))
    assert library["environment"]["name"] == "pypi"
    assert library["permissions"] == {"contents": "read", "id-token": "write"}
    asking = {
        name for name, job in release_jobs.items() if "id-token" in job.get("permissions", {})
    }
    assert asking == {"library"}
    for name in set(release_jobs) - {"check", "library"}:
        assert "library" in needed(release_jobs, name), name
    broken = {**release_jobs, "release": {**release_jobs["release"], "needs": ["check"]}}
    assert "library" not in needed(broken, "release")


def dockerfiles() -> list[Path]:
    """Every Dockerfile in the repository."""
    listed = repository_files("*Dockerfile*")
    return [ROOT / name for name in listed if not name.endswith(".dockerignore")]


def test_dockerfiles_pass_hadolint() -> None:
    """The bridge's, the simulator's and the add-on's Dockerfiles, and any other, pass
    hadolint."""
    found = dockerfiles()
    assert {
        ROOT / "bridge" / "Dockerfile",
        ROOT / "simulator" / "Dockerfile",
        ROOT / "addon" / "energy_edge_bridge" / "Dockerfile",
    } <= set(found)
    result = run("hadolint", *found)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("dockerfile", "mistake", "rule"),
    [
        ("addon/energy_edge_bridge/Dockerfile", "RUN apk add --no-cache curl\n", "DL3018"),
        ("bridge/Dockerfile", "RUN pip install requests\n", "DL3013"),
    ],
)
def test_a_broken_dockerfile_fails_hadolint(
    tmp_path: Path, dockerfile: str, mistake: str, rule: str
) -> None:
    """An unpinned package added to a copy is reported."""
    copy = tmp_path / "Dockerfile"
    copy.write_text((ROOT / dockerfile).read_text() + mistake)
    result = run("hadolint", copy)
    assert result.returncode != 0
    assert rule in result.stdout


def own_yaml_files() -> list[Path]:
    """The YAML files of the release machinery and the add-on."""
    return [
        *WORKFLOWS,
        ROOT / ".github" / "dependabot.yml",
        ROOT / "repository.yaml",
        DEV_OVERRIDE,
        *sorted((ROOT / "addon").rglob("*.yaml")),
    ]


def test_yaml_files_pass_yamllint(tmp_path: Path) -> None:
    """yamllint finds nothing, and catches a duplicated key (which YAML parsers silently drop)."""
    result = run("yamllint", "--strict", "-d", YAMLLINT_CONFIG, *own_yaml_files())
    assert result.returncode == 0, result.stdout
    config = (ROOT / "addon" / "energy_edge_bridge" / "config.yaml").read_text()
    copy = tmp_path / "config.yaml"
    copy.write_text(config.replace("boot: auto\n", "boot: auto\nstartup: application\n"))
    result = run("yamllint", "--strict", "-d", YAMLLINT_CONFIG, copy)
    assert result.returncode != 0
    assert "duplication of key" in result.stdout


def test_the_development_override_is_valid_compose(tmp_path: Path) -> None:
    """The override passes the Compose specification's schema; a broken copy does not."""
    result = run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", DEV_OVERRIDE)
    assert result.returncode == 0, result.stdout
    copy = broken_copy(
        DEV_OVERRIDE, tmp_path, lambda c: c["services"]["bridge"].update(volumes="../bridge")
    )
    assert run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", copy).returncode != 0


def test_the_development_override_reloads_the_mounted_source() -> None:
    """Only the stack's services; the bridge runs uvicorn --reload on the mounted source,
    which Python finds before the installed copy, as the simulator does its own; Home Assistant
    gets the integration."""
    services = yaml.safe_load(DEV_OVERRIDE.read_text())["services"]
    assert set(services) <= STACK_SERVICES
    mounts = {
        name: dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in service.get("volumes", []))
        for name, service in services.items()
    }
    for service_mounts in mounts.values():
        for source in service_mounts:
            assert (DEV_OVERRIDE.parent / source).resolve().is_dir(), source
    bridge = services["bridge"]
    assert bridge["entrypoint"] == ["uvicorn"]
    assert "--reload" in bridge["command"]
    reload_dir = next(
        arg.split("=", 1)[1] for arg in bridge["command"] if arg.startswith("--reload-dir=")
    )
    assert mounts["bridge"]["../bridge/energy_edge_bridge"] == reload_dir
    assert reload_dir == f"{bridge['environment']['PYTHONPATH']}/energy_edge_bridge"
    assert mounts["homeassistant"]["../custom_components/energy_edge"] == (
        "/config/custom_components/energy_edge"
    )
    simulator_path = services["simulator"]["environment"]["PYTHONPATH"]
    assert (
        mounts["simulator"]["../simulator/energy_edge_sim"] == f"{simulator_path}/energy_edge_sim"
    )
