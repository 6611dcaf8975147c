"""Run Home Assistant again whenever it asks for a restart, as its container or supervisor would.

`hass` exits with code 100 to be restarted (Settings > Restart, or applying new HTTP settings).
Usage: `python -m scripts.lib.devstack.restarting hass -c CONFIG ...`
"""

import signal
import subprocess
import sys
from types import FrameType

RESTART_EXIT_CODE = 100


def main(command: list[str]) -> int:
    """Run the command until it exits with anything but the restart code, or we are stopped."""
    child: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None:
            child.send_signal(signum)  # HA ignores a second stop request: harmless twice

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        child = subprocess.Popen(command)
        code = child.wait()
        if code != RESTART_EXIT_CODE or stopping:
            return code
        print("==> Home Assistant asked for a restart: starting it again", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
