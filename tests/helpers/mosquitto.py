"""A real Mosquitto broker for tests: authenticated, on a free port, restartable."""

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
import getpass
from pathlib import Path
import secrets
import shutil
import socket
import subprocess
import time

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    """Return a TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Block until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@dataclass
class Broker:
    """One Mosquitto process with password authentication and no anonymous access."""

    workdir: Path
    port: int = field(default_factory=free_port)
    username: str = "energy-edge-test"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    extra_users: dict[str, str] = field(default_factory=dict)
    # As the stacks' brokers: QoS 0 publishes reach a QoS 1 subscriber (the bridge) at QoS 1.
    upgrade_outgoing_qos: bool = True
    acl_file: Path | None = None  # without one, every user may do everything
    process: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        """Where the broker's configuration is written."""
        return self.workdir / "mosquitto.conf"

    def _write_config(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        passwords = self.workdir / "passwords"
        passwords.write_text("")
        for user, password in {self.username: self.password, **self.extra_users}.items():
            subprocess.run(
                [MOSQUITTO_PASSWD, "-b", str(passwords), user, password],
                check=True,
                capture_output=True,
            )
        passwords.chmod(0o600)
        # Stay the current user: run as root, Mosquitto would switch to `mosquitto`
        # and lose access to this private folder.
        self.config_path.write_text(
            f"user {getpass.getuser()}\n"
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {passwords}\n"
            + (f"acl_file {self.acl_file}\n" if self.acl_file else "")
            + "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "max_queued_messages 1000000\n"
            f"upgrade_outgoing_qos {str(self.upgrade_outgoing_qos).lower()}\n"
            "log_dest stderr\n"
            "log_type error\n"
            "log_type warning\n"
        )

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        if not self.config_path.exists():
            self._write_config()
        log = (self.workdir / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config_path)], stdout=log, stderr=log
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the broker gracefully (it saves its persistent state)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self, downtime: float = 0.0) -> None:
        """Stop, stay down for a while, and start again on the same port."""
        self.stop()
        time.sleep(downtime)
        self.start()


@contextlib.contextmanager
def running_broker(workdir: Path) -> Iterator[Broker]:
    """A started broker, stopped at the end of the block."""
    broker = Broker(workdir)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
