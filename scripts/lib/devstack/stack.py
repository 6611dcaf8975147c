"""`up`, `down` and `status` of the native stack."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
import sys
import time

from .credentials import MQTT_USERS, Credentials
from .homeassistant_api import HomeAssistantApiError
from .layout import LayoutError, StackLayout
from .processes import RecordedProcess, exit_code, recorded, start, stop
from .provision import Say, move_home_assistant, provision
from .services import (
    SERVICES,
    HttpAddress,
    confirmed_address,
    console_script_available,
    prepare_home_assistant,
    record_address,
    service_specs,
)
from .waiting import StackTimeoutError, http_status, port_accepts, port_is_free, wait_until
from .zigbee2mqtt import zigbee2mqtt_online

HA_START_TIMEOUT = 180.0  # the first start compiles translations and creates the database


class StackError(RuntimeError):
    """The stack cannot start; the message says why and what to do."""


def _relative(layout: StackLayout, path: Path) -> str:
    return str(path.relative_to(layout.repo)) if path.is_relative_to(layout.repo) else str(path)


def _log_tail(layout: StackLayout, name: str, lines: int = 15) -> str:
    log = layout.logs / f"{name}.log"
    try:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(f"    | {line}" for line in tail)


def recorded_services(layout: StackLayout) -> dict[str, RecordedProcess]:
    """The services the stack started and has not stopped, by name (from their pid files)."""
    return {name: record for name in SERVICES if (record := recorded(layout.run, name))}


def _gave_up(record: RecordedProcess) -> Callable[[], str | None]:
    def check() -> str | None:
        if record.is_running():
            return None
        code = exit_code(record)
        return "the process exited" + (f" with code {code}" if code is not None else "")

    return check


class Stack:
    """The native stack in one folder (`.dev` unless DEV_STACK_DIR says otherwise)."""

    def __init__(self, layout: StackLayout, say: Say = print) -> None:
        self.layout = layout
        self.say = say

    def status(self) -> int:
        """Say what runs; 0 when the stack runs, 1 when it does not (or only in part)."""
        records = recorded_services(self.layout)
        if not records:
            self.say("the native stack is not running")
            return 1
        for name in SERVICES:
            record = records.get(name)
            if record is None:
                state = "not started"
            elif record.is_running():
                state = f"running (pid {record.pid})"
            else:
                state = "STOPPED (it exited: see its log)"
            self.say(f"  {name:<17}{state}")
        self._print_addresses()
        return 0 if all(record.is_running() for record in records.values()) else 1

    def down(self) -> int:
        """Stop every service this stack started, by the pids it recorded."""
        records = recorded_services(self.layout)
        if not records:
            self.say("the native stack is not running")
        for name in reversed(SERVICES):
            if record := records.get(name):
                was_running = stop(record, self.layout.run)
                self.say(f"{name}: {'stopped' if was_running else 'was not running'}")
        return 0

    def up(self) -> int:
        """Start the stack and set up Home Assistant; say so when it already runs."""
        records = recorded_services(self.layout)
        if records:
            if all(record.is_running() for record in records.values()):
                self.say("the native stack is already running:")
                self.status()
                return 0
            if any(record.is_running() for record in records.values()):
                self.say("the native stack runs only in part:")
                self.status()
                self.say("run ./scripts/dev-stack down, then up")
                return 1
            for record in records.values():  # left by a crash or a reboot
                stop(record, self.layout.run)
        began = time.monotonic()
        started: list[RecordedProcess] = []
        try:
            asyncio.run(self._start(started))
        except (StackError, StackTimeoutError, HomeAssistantApiError, OSError) as error:
            self.say(f"ERROR: {error}")
            self._stop(started)
            return 1
        except BaseException:
            self._stop(started)
            raise
        self.say(f"the native stack is up in {time.monotonic() - began:.0f} s")
        self._print_addresses()
        return 0

    def _stop(self, started: list[RecordedProcess]) -> None:
        for record in reversed(started):
            stop(record, self.layout.run)
        if started:
            self.say("stopped what had been started")

    def _check_ports(self, with_bridge: bool) -> None:
        for variable, port in self.layout.ports.items():
            if variable == "DEV_STACK_BRIDGE_PORT" and not with_bridge:
                continue
            if not port_is_free(self.layout.host, port):
                raise StackError(f"port {port} is in use: choose another with {variable}=<port>")

    def _credentials(self) -> Credentials:
        path = self.layout.credentials_file
        if not path.exists() and (self.layout.ha_config / ".storage" / "onboarding").exists():
            raise StackError(
                f"{_relative(self.layout, path)} is gone but Home Assistant was set up with it:"
                f" remove {_relative(self.layout, self.layout.root)} to start afresh"
            )
        return Credentials.load_or_create(path)

    async def _start(self, started: list[RecordedProcess]) -> None:
        layout, say = self.layout, self.say
        with_bridge = console_script_available("energy_edge_bridge.__main__")
        with_simulator = console_script_available("energy_edge_sim.__main__")
        self._check_ports(with_bridge)
        layout.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        credentials = self._credentials()
        specs = service_specs(layout, credentials)

        def launch(name: str) -> RecordedProcess:
            record = start(specs[name], layout.run, layout.logs)
            started.append(record)
            return record

        async def ready(
            name: str, record: RecordedProcess, check: Callable[[], Awaitable[object]]
        ) -> None:
            try:
                await wait_until(check, within=30, what=name, gave_up=_gave_up(record))
            except StackTimeoutError as error:
                raise StackError(f"{error}\n{_log_tail(layout, name)}") from None

        broker = launch("mosquitto")
        await ready("mosquitto", broker, lambda: port_accepts(layout.host, layout.mqtt_port))
        say(f"mosquitto: listening on {layout.host}:{layout.mqtt_port} (authenticated)")

        prepare_home_assistant(layout)
        hass = launch("homeassistant")  # the slowest: it boots while the others start

        victoria = launch("victoria-metrics")
        await ready("victoria-metrics", victoria, lambda: _is_200(f"{layout.victoria_url}/health"))
        say(f"victoria-metrics: {layout.victoria_url} (stands in for InfluxDB 2)")

        if with_bridge:
            await self._start_optional(
                "bridge", launch, lambda: http_status(f"{layout.bridge_url}/health")
            )
        else:
            say("bridge: not on this branch yet (energy_edge_bridge cannot be imported): skipped")

        simulator_running = False
        if with_simulator:
            simulator_running = await self._start_optional(
                "simulator",
                launch,
                lambda: asyncio.to_thread(zigbee2mqtt_online, layout, credentials, 1.0),
            )
        else:
            say("simulator: not on this branch yet (energy-edge-sim cannot be imported): skipped")

        desired = HttpAddress(layout.host, layout.ha_port)
        # Where HA listens: its confirmed settings, or new ones it is trying out.
        candidates = {desired, confirmed_address(layout) or desired}
        current = await self._wait_for_home_assistant(hass, candidates)
        if current != desired:
            if not credentials.ha_token:
                raise StackError(f"no saved token to move Home Assistant from {current.url}")
            await move_home_assistant(current.url, credentials.ha_token, desired.host, desired.port)
            say(f"homeassistant: moving from {current.url} to {desired.url} (it restarts)")
            await self._wait_for_home_assistant(hass, {desired})
        say(f"homeassistant: answering on {desired.url}")
        await provision(layout, credentials, simulator_running=simulator_running, say=say)
        record_address(layout, desired)
        prepare_home_assistant(layout)  # its HTTP settings now live in HA's own storage

    async def _wait_for_home_assistant(
        self, hass: RecordedProcess, addresses: set[HttpAddress]
    ) -> HttpAddress:
        """Wait until HA's frontend answers on one of the addresses; return that one."""

        async def answering() -> HttpAddress | None:
            for address in addresses:
                # The frontend is set up after onboarding: both answer from then on.
                if await _is_200(f"{address.url}/manifest.json"):
                    return address
            return None

        try:
            return await wait_until(
                answering,
                within=HA_START_TIMEOUT,
                what="Home Assistant on " + " or ".join(sorted(a.url for a in addresses)),
                interval=0.5,
                gave_up=_gave_up(hass),
            )
        except StackTimeoutError as error:
            raise StackError(f"{error}\n{_log_tail(self.layout, 'homeassistant')}") from None

    async def _start_optional(
        self,
        name: str,
        launch: Callable[[str], RecordedProcess],
        check: Callable[[], Awaitable[object]],
    ) -> bool:
        """Start a part other issues deliver; warn instead of failing when it does not come up."""
        record = launch(name)
        try:
            await wait_until(check, within=30, what=name, gave_up=_gave_up(record))
        except StackTimeoutError as error:
            stop(record, self.layout.run)
            log = _relative(self.layout, self.layout.logs / f"{name}.log")
            self.say(f"{name}: NOT RUNNING ({error}); see {log}")
            return False
        self.say(f"{name}: running")
        return True

    def _print_addresses(self) -> None:
        layout = self.layout
        credentials = _relative(layout, layout.credentials_file)
        users = ", ".join(MQTT_USERS)
        bridge = recorded_services(layout).get("bridge")
        bridge_note = "Bearer token: bridge_api_token"
        if bridge is None or not bridge.is_running():
            bridge_note = "not running"
        for line in (
            f"  Home Assistant   {layout.ha_url}  (user `owner`; password, token: {credentials})",
            f"  bridge API       {layout.bridge_url}/docs  ({bridge_note})",
            f"  VictoriaMetrics  {layout.victoria_url}  (InfluxDB v2 write API at /api/v2/write)",
            f"  MQTT             {layout.host}:{layout.mqtt_port}  (users {users})",
            f"  credentials      {credentials} (mode 600)",
            f"  logs             {_relative(layout, layout.logs)}/",
        ):
            self.say(line)


async def _is_200(url: str) -> bool:
    return await http_status(url) == 200


def stack_from_environment() -> Stack | None:
    """The stack DEV_STACK_* describe, reporting on stdout; None (said why) if they are bad."""
    try:
        layout = StackLayout.from_environment()
    except LayoutError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return None
    return Stack(layout, say=lambda line: print(line, flush=True))
