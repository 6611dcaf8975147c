"""The container image's recipe passes hadolint and keeps the contract with the stack."""

from pathlib import Path
import shutil
import subprocess

DOCKERFILE = Path(__file__).resolve().parents[2] / "bridge" / "Dockerfile"


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
