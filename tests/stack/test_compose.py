"""docker-compose.yml: valid, complete, pinned, healthy, and fit for a Raspberry Pi.

Each check passes on the repository's stack and fails on a copy broken in the way it guards.
"""

from typing import Any

import pytest

from tests.stack import checks
from tests.stack.checks import Stack
from tests.stack.conftest import StackCopy


def service(name: str) -> Any:
    """A change to one service of docker-compose.yml."""

    def pick(data: dict[str, Any]) -> Any:
        return data["services"][name]

    return pick


@pytest.mark.parametrize(
    "check",
    [
        checks.compose_schema_problems,
        checks.yaml_lint_problems,
        checks.interpolation_problems,
        checks.secret_problems,
        checks.profile_problems,
        checks.healthcheck_problems,
        checks.image_problems,
        checks.dependency_problems,
        checks.resource_problems,
        checks.volume_problems,
        checks.settings_problems,
    ],
    ids=lambda check: check.__name__,
)
def test_the_stack_passes(stack: Stack, check: Any) -> None:
    """The repository's stack passes every check of its Compose file."""
    assert check(stack) == []


def test_compose_file_breaking_the_compose_specification_is_caught(copy: StackCopy) -> None:
    """A condition Compose does not know is rejected by the specification's schema."""
    copy.edit_compose(
        lambda data: data["services"]["bridge"]["depends_on"]["mosquitto"].update(
            condition="healthy"
        )
    )
    (problem,) = checks.compose_schema_problems(copy.stack)
    assert "docker-compose.yml" in problem
    assert "healthy" in problem


def test_an_override_file_is_checked_against_the_specification_too(copy: StackCopy) -> None:
    """Every docker-compose*.yml of the folder is validated, not only the main one."""
    (copy.root / "docker-compose.dev.yml").write_text("services:\n  bridge:\n    restart: 3\n")
    (problem,) = checks.compose_schema_problems(copy.stack)
    assert problem.startswith("docker-compose.dev.yml")


def test_yaml_lint_catches_what_compose_would_misread(copy: StackCopy) -> None:
    """A duplicated key is silently overwritten by YAML parsers: yamllint names it."""
    copy.replace(
        "docker-compose.yml",
        "    restart: unless-stopped\n",
        "    restart: unless-stopped\n    restart: always\n",
    )
    problems = checks.yaml_lint_problems(copy.stack)
    assert problems
    assert all(problem.startswith("docker-compose.yml:") for problem in problems)
    assert all("key-duplicates" in problem for problem in problems)


def test_variable_missing_from_env_example_is_caught(copy: StackCopy) -> None:
    """A ${VAR} that .env.example does not define would be empty at run time."""
    copy.replace("docker-compose.yml", "LOG_LEVEL: ${LOG_LEVEL}", "LOG_LEVEL: ${BRIDGE_LOG}")
    assert "${BRIDGE_LOG} is used in a Compose file but missing from .env.example" in (
        checks.interpolation_problems(copy.stack)
    )


def test_unused_env_example_entry_is_caught(copy: StackCopy) -> None:
    """An entry of .env.example that nothing reads misleads whoever edits .env."""
    copy.replace(".env.example", "SIMULATOR_SPEED=1\n", "SIMULATOR_SPEED=1\nSIMULATOR_SEED=7\n")
    assert checks.interpolation_problems(copy.stack) == [
        "SIMULATOR_SEED is in .env.example but no Compose file uses it"
    ]


def test_escaped_dollars_are_not_variables(copy: StackCopy) -> None:
    """`$$SYS` in a healthcheck is a literal dollar, not a variable to define."""
    assert "SYS" not in checks.interpolated_variables(copy.stack)
    assert "ZIGBEE_ADAPTER" in checks.interpolated_variables(copy.stack)


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            ".env.example",
            "GRAFANA_ADMIN_PASSWORD=\n",
            "GRAFANA_ADMIN_PASSWORD=admin\n",
            ".env.example gives GRAFANA_ADMIN_PASSWORD a default value",
        ),
        (
            "docker-compose.yml",
            "${BRIDGE_API_TOKEN}",
            "${BRIDGE_API_TOKEN:-changeme}",
            "${BRIDGE_API_TOKEN} has a default or fallback",
        ),
        (
            "docker-compose.yml",
            "GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD}",
            "GF_SECURITY_ADMIN_PASSWORD: admin",
            "grafana: GF_SECURITY_ADMIN_PASSWORD is written in the Compose file",
        ),
    ],
    ids=["default-in-env-example", "fallback-in-compose", "literal-in-compose"],
)
def test_default_passwords_are_caught(
    copy: StackCopy, file: str, old: str, new: str, expected: str
) -> None:
    """No password or token has a default anywhere: each comes from the generated .env."""
    copy.replace(file, old, new)
    (problem,) = checks.secret_problems(copy.stack)
    assert problem.startswith(expected)


def test_simulator_outside_its_profile_is_caught(copy: StackCopy) -> None:
    """Without its profile the simulator would run beside Zigbee2MQTT in hardware mode."""
    copy.edit_compose(lambda data: service("simulator")(data).pop("profiles"))
    (problem,) = checks.profile_problems(copy.stack)
    assert problem.startswith("profile hardware starts")
    assert "simulator" in problem


def test_zigbee2mqtt_in_the_simulation_profile_is_caught(copy: StackCopy) -> None:
    """Zigbee2MQTT needs an adapter: the simulation profile must not start it."""
    copy.edit_compose(lambda data: service("zigbee2mqtt")(data).update(profiles=["simulation"]))
    problems = checks.profile_problems(copy.stack)
    assert len(problems) == 2  # in simulation where it must not be, missing from hardware


def test_service_without_healthcheck_is_caught(copy: StackCopy) -> None:
    """A service without healthcheck cannot be waited for."""
    copy.edit_compose(lambda data: service("grafana")(data).pop("healthcheck"))
    assert checks.healthcheck_problems(copy.stack) == ["grafana has no healthcheck"]


def test_disabled_healthcheck_is_caught(copy: StackCopy) -> None:
    """`test: [NONE]` turns the image's healthcheck off: as bad as none."""
    copy.edit_compose(lambda data: service("bridge")(data)["healthcheck"].update(test=["NONE"]))
    assert checks.healthcheck_problems(copy.stack) == ["bridge has no healthcheck"]


def test_service_without_restart_policy_is_caught(copy: StackCopy) -> None:
    """A service that does not come back after a reboot or a crash is caught."""
    copy.edit_compose(lambda data: service("mosquitto")(data).update(restart="no"))
    assert checks.healthcheck_problems(copy.stack) == [
        "mosquitto does not have restart: unless-stopped"
    ]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("eclipse-mosquitto:latest", "not pinned"),
        ("eclipse-mosquitto", "not pinned"),
        ("eclipse-mosquitto:2", "not pinned"),
        ("registry.local:5000/eclipse-mosquitto", "not pinned"),
    ],
)
def test_unpinned_image_is_caught(copy: StackCopy, image: str, expected: str) -> None:
    """`latest`, no tag or a bare major version all change under the user's feet."""
    copy.edit_compose(lambda data: service("mosquitto")(data).update(image=image))
    (problem,) = checks.image_problems(copy.stack)
    assert expected in problem


def test_home_assistant_older_than_2026_10_is_caught(copy: StackCopy) -> None:
    """The integration needs Home Assistant 2026.10 or newer."""
    copy.edit_compose(
        lambda data: service("homeassistant")(data).update(
            image="ghcr.io/home-assistant/home-assistant:2026.9.2"
        )
    )
    assert checks.image_problems(copy.stack) == [
        "homeassistant: Home Assistant 2026.9.2 is older than 2026.10"
    ]


def test_built_image_with_another_version_is_caught(copy: StackCopy) -> None:
    """The bridge's image carries the project's version, so upgrades rebuild it."""
    copy.edit_compose(lambda data: service("bridge")(data).update(image="energy-edge-bridge:9.9.9"))
    (problem,) = checks.image_problems(copy.stack)
    assert "not tagged" in problem


def test_dependency_merely_started_is_caught(copy: StackCopy) -> None:
    """The bridge must wait for the broker to be healthy, not just started."""
    copy.edit_compose(
        lambda data: service("bridge")(data)["depends_on"]["mosquitto"].update(
            condition="service_started"
        )
    )
    assert checks.dependency_problems(copy.stack) == [
        "bridge does not wait for mosquitto to be healthy"
    ]


def test_dependency_in_a_profile_is_caught(copy: StackCopy) -> None:
    """A core service cannot depend on one that only one profile starts."""
    copy.edit_compose(
        lambda data: service("grafana")(data)["depends_on"].update(
            simulator={"condition": "service_healthy"}
        )
    )
    assert checks.dependency_problems(copy.stack) == [
        "grafana depends on simulator, which only runs in a profile"
    ]


def test_short_depends_on_is_caught(copy: StackCopy) -> None:
    """The list form of depends_on cannot wait for health."""
    copy.edit_compose(lambda data: service("grafana")(data).update(depends_on=["influxdb"]))
    assert checks.dependency_problems(copy.stack) == [
        "grafana: depends_on must wait with condition: service_healthy"
    ]


def test_missing_memory_limit_and_log_rotation_are_caught(copy: StackCopy) -> None:
    """An unbounded service or log can fill a Raspberry Pi's memory or SD card."""

    def unbound(data: dict[str, Any]) -> None:
        data["services"]["influxdb"].pop("deploy")
        data["services"]["influxdb"].pop("logging")

    copy.edit_compose(unbound)
    assert checks.resource_problems(copy.stack) == [
        "influxdb has no log rotation (logging.options.max-size)",
        "influxdb has no memory limit",
    ]


def test_stack_too_large_for_a_pi_is_caught(copy: StackCopy) -> None:
    """The limits of a profile's services must leave a 4 GB Pi room for its OS."""
    copy.edit_compose(
        lambda data: service("homeassistant")(data)["deploy"]["resources"]["limits"].update(
            memory="2g"
        )
    )
    problems = checks.resource_problems(copy.stack)
    assert [problem.split(" may use")[0] for problem in problems] == [
        "profile simulation",
        "profile hardware",
    ]


def test_memory_sizes_are_read_as_compose_reads_them() -> None:
    """Compose's units: bytes, k, m and g, with an optional b."""
    assert checks.memory_bytes("128M") == 128 * 1024**2
    assert checks.memory_bytes("1g") == 1024**3
    assert checks.memory_bytes("512mb") == 512 * 1024**2
    assert checks.memory_bytes("1000") == 1000
    with pytest.raises(ValueError, match="not a memory size"):
        checks.memory_bytes("lots")


def test_data_outside_named_volumes_is_caught(copy: StackCopy) -> None:
    """InfluxDB's data in the container's layer would vanish at the first upgrade."""
    copy.edit_compose(
        lambda data: service("influxdb")(data).update(volumes=["influxdb_config:/etc/influxdb2"])
    )
    assert checks.volume_problems(copy.stack) == [
        "influxdb keeps /var/lib/influxdb2 outside a named volume"
    ]


def test_undeclared_volume_and_missing_bind_source_are_caught(copy: StackCopy) -> None:
    """A volume must be declared, and a bind-mounted folder must exist."""

    def break_volumes(data: dict[str, Any]) -> None:
        data["volumes"].pop("grafana_data")
        data["services"]["grafana"]["volumes"][0] = "./grafana/provisionning:/etc/grafana/p:ro"

    copy.edit_compose(break_volumes)
    assert checks.volume_problems(copy.stack) == [
        "grafana mounts ./grafana/provisionning, which does not exist",
        "grafana mounts volume grafana_data, which is not declared",
    ]


def test_unknown_bridge_setting_is_caught(copy: StackCopy) -> None:
    """A misspelt variable is silently ignored by the bridge: the check names it."""
    copy.replace("docker-compose.yml", "INFLUXDB_URL:", "INFLUX_URL:")
    assert checks.settings_problems(copy.stack) == [
        "bridge: INFLUX_URL is not a setting of the bridge"
    ]


def test_bridge_writing_another_measurement_is_caught(copy: StackCopy) -> None:
    """The dashboards read the schema's state measurement: the bridge must write that one."""
    copy.replace(
        "docker-compose.yml", "INFLUXDB_MEASUREMENT: zigbee2mqtt", "INFLUXDB_MEASUREMENT: z2m"
    )
    (problem,) = checks.settings_problems(copy.stack)
    assert problem.startswith("bridge writes states to 'z2m'")


def test_image_tags_are_read_from_references() -> None:
    """A registry port is not a tag; a digest does not hide the tag."""
    assert checks.image_tag("ghcr.io/home-assistant/home-assistant:2026.10.4") == "2026.10.4"
    assert checks.image_tag("registry.local:5000/mosquitto") is None
    assert checks.image_tag("eclipse-mosquitto:2.0.22@sha256:abc") == "2.0.22"
