"""The stack's broker: password authentication, no anonymous access, one account per client."""

import getpass
from pathlib import Path
import shutil
import subprocess

from .credentials import Credentials
from .layout import StackLayout

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"

# Least privilege, as in the Docker stack: its ACL, plus an account for the developer's own tools
# (mosquitto_sub, the end-to-end tests) that the Docker stack does not have.
SHARED_ACL = Path("compose") / "mosquitto" / "acl"
DEVELOPER_ACL = """
# Native stack only: the developer's tools and the end-to-end tests.
user developer
topic readwrite #
"""


def write_broker_config(layout: StackLayout, credentials: Credentials) -> Path:
    """Write the configuration, hashed passwords and ACL; return the configuration's path."""
    folder = layout.root / "mosquitto"
    folder.mkdir(parents=True, exist_ok=True)
    passwords = folder / "passwords"
    passwords.touch(mode=0o600)
    passwords.chmod(0o600)
    passwords.write_text(
        "".join(f"{user}:{secret}\n" for user, secret in credentials.mqtt_passwords.items())
    )
    subprocess.run([MOSQUITTO_PASSWD, "-U", str(passwords)], check=True, capture_output=True)
    acl = folder / "acl"
    acl.write_text((layout.repo / SHARED_ACL).read_text(encoding="utf-8") + DEVELOPER_ACL)
    config = folder / "mosquitto.conf"
    # `user`: started as root, Mosquitto would switch to `mosquitto` and lose this private folder.
    config.write_text(
        f"user {getpass.getuser()}\n"
        f"listener {layout.mqtt_port} {layout.host}\n"
        "allow_anonymous false\n"
        f"password_file {passwords}\n"
        f"acl_file {acl}\n"
        "persistence true\n"
        f"persistence_location {folder}/\n"
        # Zigbee2MQTT publishes states at QoS 0: queue them for the bridge's persistent session,
        "queue_qos0_messages true\n"
        # at its subscription's QoS 1, so that what it has not acknowledged survives its crash.
        "upgrade_outgoing_qos true\n"
        "max_queued_messages 100000\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
        "log_type notice\n"
        "connection_messages true\n"
    )
    return config
