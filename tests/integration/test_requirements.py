"""Home Assistant meets the integration's requirement with the library this repository installs:
with pip enabled, as the native stack runs `hass`, loading Energy Edge installs nothing."""

from pathlib import Path
import tomllib

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from homeassistant.requirements import RequirementsNotFound, async_process_requirements
from homeassistant.setup import async_setup_component
import pytest

from custom_components.energy_edge.const import DOMAIN

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pip_enabled_offline(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """Home Assistant may install requirements (the harness forbids it by default), but uv, which
    it runs for that, has neither network nor cache: any install it tries fails."""
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_NO_CACHE", "1")
    hass.config.skip_pip = False


@pytest.mark.usefixtures("pip_enabled_offline")
async def test_the_installed_library_meets_the_manifest_s_requirement(
    hass: HomeAssistant,
) -> None:
    """The manifest requires the library at the version protocol/pyproject.toml gives it, the
    workspace installs that version (editable), and Home Assistant's own check accepts it: the
    integration's requirements are processed without any install."""
    library = tomllib.loads((ROOT / "protocol" / "pyproject.toml").read_text())["project"]
    requirement = f"{library['name']}=={library['version']}"
    assert (await async_get_integration(hass, DOMAIN)).requirements == [requirement]
    await async_process_requirements(hass, DOMAIN, [requirement])
    with pytest.raises(RequirementsNotFound):  # another version would be installed: it fails here
        await async_process_requirements(hass, DOMAIN, [f"{library['name']}==0.0.1"])
    assert await async_setup_component(hass, DOMAIN, {})
