"""Who may reach what, checked before any work is done for a request.

An ASGI middleware in front of the whole API: the token is checked on the request's headers,
before its body is read or a route runs, and a body is read only up to a small limit (413
past it), so that a request without the token, or with a huge body, costs almost nothing.
"""

from collections.abc import Callable
import json
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Commands are a few properties; nothing the API takes comes near this.
MAX_BODY_BYTES = 64 * 1024
UNAUTHORIZED = "a valid token is required: Authorization: Bearer <BRIDGE_API_TOKEN>"


class AccessGuard:
    """Refuses requests without the token (401) on every path but the public ones, and
    bodies over `max_body_bytes` (413)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        is_public: Callable[[str], bool],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._app = app
        self._token = token.encode() if token is not None else None
        self._is_public = is_public
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then hand it on with its body, already read."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if not (self._is_public(scope["path"]) or self._authorized(headers)):
            await _answer(send, 401, UNAUTHORIZED, [(b"www-authenticate", b"Bearer")])
            return
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self._max_body_bytes:
            await _answer(send, 413, self._too_large)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client left
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self._max_body_bytes:  # chunked: no length declared
                await _answer(send, 413, self._too_large)
                return
        await self._app(scope, _replay(bytes(body), receive), send)

    @property
    def _too_large(self) -> str:
        return f"the request body is larger than {self._max_body_bytes} bytes"

    def _authorized(self, headers: dict[bytes, bytes]) -> bool:
        if self._token is None:
            return True  # BRIDGE_ALLOW_INSECURE_API
        scheme, _, credentials = headers.get(b"authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and secrets.compare_digest(
            credentials.strip(), self._token
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then what the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(
    send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A JSON problem, as the API's other errors: {"detail": "..."}."""
    content = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
