"""Commands on their way from the API to the broker.

The API never touches the MQTT client: it leaves a command here, and the ingest, which owns the
client, publishes it and settles the command's future once the broker has acknowledged it.
"""

from concurrent.futures import Future
from dataclasses import dataclass, field
import queue


class CommandFailedError(Exception):
    """The broker did not take the command."""


@dataclass(frozen=True, slots=True)
class Command:
    """A payload for a topic, and the future the publisher settles."""

    topic: str
    payload: bytes
    done: Future[None] = field(default_factory=Future)


class Outbox:
    """Commands waiting to be published, in order. Thread-safe."""

    def __init__(self) -> None:
        self._waiting: queue.SimpleQueue[Command] = queue.SimpleQueue()

    def submit(self, topic: str, payload: bytes) -> Future[None]:
        """Queue a command; the future completes when the broker has it."""
        command = Command(topic, payload)
        self._waiting.put(command)
        return command.done

    def take(self) -> list[Command]:
        """Every waiting command, oldest first."""
        commands = []
        while True:
            try:
                commands.append(self._waiting.get_nowait())
            except queue.Empty:
                return commands
