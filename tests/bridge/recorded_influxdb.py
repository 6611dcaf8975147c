"""An HTTP server answering as InfluxDB 2 does, with responses recorded in InfluxDB's documented
formats (JSON errors, annotated CSV).

InfluxDB 2 cannot be installed on these machines. VictoriaMetrics stands in for the write path;
what it cannot show (InfluxDB's own refusals: 401, 404, 413, 422, 429, 503, and Flux queries
with their annotated CSV answers) is served from here, and every request is kept for checks.
"""

from collections import deque
from dataclasses import dataclass, field
import gzip
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import json
from pathlib import Path
import threading
import time
from urllib.parse import parse_qs, urlsplit

RECORDINGS = Path(__file__).parent / "recordings"


@dataclass(frozen=True)
class Response:
    """One recorded answer."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, code: str, message: str, **headers: str) -> Response:
    """InfluxDB 2's error body: `{"code": ..., "message": ...}`."""
    return Response(
        status,
        json.dumps({"code": code, "message": message}).encode(),
        {"Content-Type": "application/json; charset=utf-8", **headers},
    )


def csv(name: str) -> Response:
    """A recorded annotated CSV answer to a Flux query."""
    return Response(
        200, (RECORDINGS / name).read_bytes(), {"Content-Type": "text/csv; charset=utf-8"}
    )


# What InfluxDB 2 answers when it refuses a write (from its API documentation).
BAD_LINE = error(400, "invalid", "unable to parse 'not line protocol': missing fields")
UNAUTHORIZED = error(401, "unauthorized", "unauthorized access")
NO_BUCKET = error(404, "not found", 'bucket "energy" not found')
TOO_LARGE = error(413, "request too large", "unable to read data: points batch is too large")
BEYOND_RETENTION = error(
    422,
    "unprocessable entity",
    "failure writing points to database: partial write: points beyond retention policy dropped=1",
)
TOO_MANY = error(429, "too many requests", "rate limited", **{"Retry-After": "1"})
UNAVAILABLE = error(503, "unavailable", "service unavailable", **{"Retry-After": "1"})
INTERNAL = error(500, "internal error", "engine: cache-max-memory-size exceeded")
WRITTEN = Response(204)


@dataclass(frozen=True)
class Request:
    """A request as received (the body decompressed)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received: float = field(default_factory=time.monotonic)


class RecordedInfluxDB:
    """Answers with queued recorded responses, then `default`; keeps every request."""

    def __init__(self, default: Response = WRITTEN) -> None:
        self.default = default
        self.requests: list[Request] = []
        self._queue: deque[Response] = deque()
        self._lock = threading.Lock()
        recorded = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.respond("GET")

            def do_POST(self) -> None:
                self.respond("POST")

            def do_DELETE(self) -> None:
                self.respond("DELETE")

            def respond(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                parts = urlsplit(self.path)
                response = recorded.take(
                    Request(method, parts.path, parse_qs(parts.query), dict(self.headers), body)
                )
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, as INFLUXDB_URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, *responses: Response) -> None:
        """Queue responses for the next requests."""
        with self._lock:
            self._queue.extend(responses)

    def take(self, request: Request) -> Response:
        """Record a request; the response for it."""
        with self._lock:
            self.requests.append(request)
            return self._queue.popleft() if self._queue else self.default

    def written_lines(self) -> list[str]:
        """Every line of every write request received, whatever the answer."""
        return [
            text
            for request in self.requests
            if request.path == "/api/v2/write"
            for text in request.body.decode().splitlines()
        ]

    def start(self) -> None:
        """Serve in a thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
