"""The stack's shell scripts pass shellcheck, and shellcheck catches a broken copy."""

from pathlib import Path
import shutil
import subprocess

from tests.stack.checks import REPO

SCRIPTS = ("scripts/stack", "compose/mosquitto/start.sh", "compose/homeassistant/start.sh")


def shellcheck(*paths: Path) -> subprocess.CompletedProcess[str]:
    """Run shellcheck as ./scripts/test does."""
    return subprocess.run(
        ["shellcheck", "-x", *map(str, paths)], capture_output=True, text=True, check=False
    )


def test_the_stack_scripts_pass_shellcheck() -> None:
    """No warning in any of the stack's scripts."""
    result = shellcheck(*(REPO / script for script in SCRIPTS))
    assert result.returncode == 0, result.stdout


def test_an_unquoted_variable_is_caught(tmp_path: Path) -> None:
    """A copy with an unquoted expansion fails, naming the rule."""
    broken = tmp_path / "start.sh"
    shutil.copy(REPO / "compose/mosquitto/start.sh", broken)
    broken.write_text(broken.read_text().replace('mkdir -p "$auth_dir"', "mkdir -p $auth_dir"))
    result = shellcheck(broken)
    assert result.returncode == 1
    assert "SC2086" in result.stdout
