"""`./scripts/screenshots` saves the README's pictures of the running stack: one PNG per page,
at the width and height the page is shown in."""

from pathlib import Path
import struct

import pytest

from scripts.lib.devstack.browser import browser_available
from scripts.lib.devstack.screenshots import WIDTH, take_screenshots
from tests.e2e.conftest import NativeStack

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PAGES = {  # file: height in pixels
    "integrations.png": 800,
    "energy-edge-integration.png": 800,
    "bridge-api.png": 800,
    "plug-device.png": 800,
    "hub-device.png": 800,
    "energy-dashboard.png": 1000,
    "options-loads.png": 1400,
    "logbook-shed.png": 800,
}


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (its first chunk, IHDR)."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_every_page_of_the_stack_is_saved_as_a_png(
    native_stack: NativeStack, tmp_path: Path
) -> None:
    """HA's integration pages, the plug's and the hub's pages, the options' Loads step, the
    Energy dashboard, the logbook with a load Energy Edge shed and the bridge's /docs, each as
    `<page>.png` (without the pause for animations: only the pictures need it)."""
    if missing := browser_available():
        pytest.skip(f"Chromium for the screenshots is {missing}: run ./scripts/setup")
    said: list[str] = []
    saved = take_screenshots(native_stack.layout, tmp_path, said.append, settle=0)
    assert {path.name for path in saved} == PAGES.keys(), said
    for path in saved:
        assert png_size(path) == (WIDTH, PAGES[path.name])
    saves = [line for line in said if line.startswith("saved ")]
    assert saves == [f"saved {path}" for path in saved], said
