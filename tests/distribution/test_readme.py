"""The README tells each kind of user how to install Energy Edge, step by step."""

from pathlib import Path
import re

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY_URL = "https://github.com/energy-edge/energy-edge"


def installation_sections() -> dict[str, str]:
    """The subsections of the README's "Installing Energy Edge", by heading."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Installing Energy Edge\n", 1)[1].split("\n## ", 1)[0]
    parts = re.split(r"^### (.+)$", section, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_each_kind_of_user_has_numbered_steps() -> None:
    """Home Assistant OS, HACS and Docker users each find their own subsection with steps."""
    sections = installation_sections()
    for user in ("Home Assistant OS users", "HACS users", "Docker users"):
        (heading,) = [heading for heading in sections if heading.startswith(user)]
        steps = re.findall(r"^(\d+)\. ", sections[heading], re.MULTILINE)
        assert steps[:3] == ["1", "2", "3"], heading


def test_the_steps_name_the_real_repository_and_images() -> None:
    """The URL to add is the repository's, and the image is the one the workflows publish."""
    sections = "\n".join(installation_sections().values())
    assert f"`{REPOSITORY_URL}`" in sections
    assert re.search(r"ghcr\.io/energy-edge/energy-edge-bridge:\d+\.\d+\.\d+\n", sections)
    manifest = (ROOT / "custom_components" / "energy_edge" / "manifest.json").read_text()
    assert f"{REPOSITORY_URL}/issues" in manifest
