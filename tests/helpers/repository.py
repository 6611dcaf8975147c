"""The repository's files as git sees them: tracked ones and new ones it does not ignore."""

from pathlib import Path
import subprocess

ROOT = Path(__file__).resolve().parents[2]


def repository_files(*patterns: str) -> list[str]:
    """Paths relative to the repository's root, matching `patterns` (every file without)."""
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
