"""Bounded waits: every wait of the stack has a deadline and says what it waited for."""

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
import socket
import time

import aiohttp


class StackTimeoutError(TimeoutError):
    """Something the stack waited for did not happen in time."""


async def wait_until[T](
    check: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    interval: float = 0.25,
    gave_up: Callable[[], str | None] = lambda: None,
) -> T:
    """Poll `check` until it returns a value other than None or False.

    `gave_up` is asked between polls: a message from it (e.g. "the process exited") ends the
    wait at once instead of waiting for the deadline.
    """
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result is not None and result is not False:
            return result
        if reason := gave_up():
            raise StackTimeoutError(f"{what}: {reason}")
        if time.monotonic() >= deadline:
            raise StackTimeoutError(f"{what}: not after {within:.0f} s")
        await asyncio.sleep(interval)


def port_is_free(host: str, port: int) -> bool:
    """Nothing listens on the port (so a service of ours can bind it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


async def port_accepts(host: str, port: int) -> bool:
    """Something accepts TCP connections on the port."""
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection(host, port)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True
    return False


async def http_status(url: str) -> int | None:
    """The HTTP status of a GET, or None when nothing answers."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(url) as response,
        ):
            return response.status
    except aiohttp.ClientError, TimeoutError:
        return None
