"""A small client of Home Assistant's REST and WebSocket APIs (aiohttp, as HA itself uses)."""

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Mapping
import contextlib
from types import TracebackType
from typing import Any, Self

import aiohttp

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=30)


class HomeAssistantApiError(Exception):
    """Home Assistant answered with an error."""

    def __init__(self, what: str, status: int | str, message: str) -> None:
        super().__init__(f"{what}: {status} {message}".strip())
        self.status = status
        self.message = message


class HomeAssistantClient:
    """REST calls with an optional bearer token; `websocket()` opens an authenticated session."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(timeout=REQUEST_TIMEOUT)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP session (open only inside `async with`)."""
        if self._session is None:
            raise RuntimeError("use the client inside `async with`")
        return self._session

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Any:
        """Call the API; return the decoded JSON body (None when empty); raise on 4xx/5xx."""
        async with self.session.request(
            method, self.base_url + path, json=json, data=form, headers=self._headers()
        ) as response:
            text = await response.text()
            if response.status >= 400:
                raise HomeAssistantApiError(f"{method} {path}", response.status, text[:500])
            if not text:
                return None
            if response.content_type == "application/json":
                return await response.json()
            return text

    async def get(self, path: str) -> Any:
        """GET a path of the API."""
        return await self.request("GET", path)

    async def post(self, path: str, payload: Mapping[str, Any] | None = None) -> Any:
        """POST a JSON body."""
        return await self.request("POST", path, json=payload or {})

    async def delete(self, path: str) -> Any:
        """DELETE a resource."""
        return await self.request("DELETE", path)

    @contextlib.asynccontextmanager
    async def websocket(self) -> AsyncIterator[HomeAssistantWebSocket]:
        """An authenticated WebSocket session."""
        if not self.token:
            raise RuntimeError("the WebSocket API needs an access token")
        url = self.base_url.replace("http", "ws", 1) + "/api/websocket"
        async with self.session.ws_connect(url, max_msg_size=0) as connection:
            socket = HomeAssistantWebSocket(connection)
            await socket.authenticate(self.token)
            yield socket


class HomeAssistantWebSocket:
    """Commands answered by id; events of subscriptions kept until asked for."""

    def __init__(self, connection: aiohttp.ClientWebSocketResponse) -> None:
        self._connection = connection
        self._last_id = 0
        self._events: defaultdict[int, deque[Any]] = defaultdict(deque)

    async def _receive(self) -> dict[str, Any]:
        message = await self._connection.receive_json()
        if not isinstance(message, dict):
            raise HomeAssistantApiError("websocket", "protocol", f"unexpected {message!r}")
        return message

    async def authenticate(self, token: str) -> None:
        """Answer HA's `auth_required` with the token."""
        await self._receive()
        await self._connection.send_json({"type": "auth", "access_token": token})
        answer = await self._receive()
        if answer.get("type") != "auth_ok":
            raise HomeAssistantApiError("websocket auth", "refused", str(answer.get("message")))

    async def command(self, command_type: str, /, **fields: Any) -> Any:
        """Send a command and return its result; raise with HA's error message."""
        self._last_id += 1
        command_id = self._last_id
        await self._connection.send_json({"id": command_id, "type": command_type, **fields})
        while True:
            message = await self._receive()
            if message.get("type") == "event":
                self._events[message["id"]].append(message["event"])
                continue
            if message.get("id") != command_id:
                continue
            if not message.get("success"):
                error = message.get("error") or {}
                raise HomeAssistantApiError(
                    command_type, error.get("code", "error"), error.get("message", "")
                )
            return message.get("result")

    async def subscribe(self, command_type: str, /, **fields: Any) -> int:
        """Start a subscription (e.g. `subscribe_events`); return its id for `next_event`."""
        await self.command(command_type, **fields)
        return self._last_id

    async def next_event(self, subscription: int, within: float) -> Any:
        """The next event of a subscription, waiting at most `within` seconds."""
        async with asyncio.timeout(within):
            while not self._events[subscription]:
                message = await self._receive()
                if message.get("type") == "event":
                    self._events[message["id"]].append(message["event"])
        return self._events[subscription].popleft()
