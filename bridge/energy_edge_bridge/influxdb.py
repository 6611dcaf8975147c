"""InfluxDB 2's HTTP API, the two calls the bridge makes: write line protocol, query Flux.

Plain urllib3 rather than influxdb-client: the bridge needs two requests, and the client
library's imports (reactivex, and numpy when installed) would take a third of the bridge's
memory budget on a Raspberry Pi.
"""

from collections.abc import Iterable
from dataclasses import dataclass
import json
from urllib.parse import urlencode
import zlib

import urllib3

_WRITE_TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)
_QUERY_TIMEOUT = urllib3.Timeout(connect=5.0, read=60.0)
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # the gzip format, which Content-Encoding: gzip names
_MAX_MESSAGE = 500  # characters of an error body kept in messages and logs


class DatabaseUnreachableError(Exception):
    """No HTTP answer: refused connection, timeout, DNS or TLS failure."""


class QueryError(Exception):
    """InfluxDB answered a query with an error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """InfluxDB's answer to a write request."""

    status: int
    message: str = ""
    retry_after_s: float | None = None

    @property
    def written(self) -> bool:
        """The points are stored."""
        return 200 <= self.status < 300

    @property
    def data_refused(self) -> bool:
        """The points themselves are refused: sending them again cannot succeed.

        401, 403 (token), 404 (organisation or bucket) and 429 (rate limit) are problems of the
        set-up or of the moment: the points wait in the spool until they are fixed.
        """
        return 400 <= self.status < 500 and self.status not in {401, 403, 404, 408, 429}


class InfluxDB:
    """One InfluxDB 2 organisation and bucket, reached over HTTP(S). Thread-safe."""

    def __init__(self, url: str, token: str, org: str, bucket: str) -> None:
        self.url = url.rstrip("/")
        self._write_url = f"{self.url}/api/v2/write?" + urlencode(
            {"org": org, "bucket": bucket, "precision": "ns"}
        )
        self._query_url = f"{self.url}/api/v2/query?" + urlencode({"org": org})
        self._authorization = f"Token {token}"
        # One immediate retry covers a kept-alive connection the server has closed (writing
        # the same points twice is harmless: InfluxDB overwrites identical points). Answers,
        # 503 and 429 included, come back to the writer, which decides how long to wait.
        self._http = urllib3.PoolManager(
            maxsize=2,
            retries=urllib3.Retry(
                total=1,
                allowed_methods=None,
                redirect=False,
                respect_retry_after_header=False,
                raise_on_status=False,
            ),
        )

    def write(self, parts: Iterable[bytes]) -> WriteOutcome:
        """Write line protocol (nanosecond timestamps), gzip-compressed piece by piece."""
        compressor = zlib.compressobj(1, zlib.DEFLATED, _GZIP_WBITS)
        compressed = [compressor.compress(part) for part in parts]
        compressed.append(compressor.flush())
        response = self._post(
            self._write_url,
            b"".join(compressed),
            {
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Encoding": "gzip",
                "Accept": "application/json",
            },
            _WRITE_TIMEOUT,
        )
        return WriteOutcome(
            response.status,
            "" if response.status < 300 else _error_message(response.data),
            _retry_after(response.headers.get("Retry-After")),
        )

    def query(self, flux: str) -> str:
        """Run a Flux query; returns InfluxDB's annotated CSV."""
        request = {
            "query": flux,
            "type": "flux",
            "dialect": {
                "header": True,
                "delimiter": ",",
                "annotations": ["datatype", "group", "default"],
            },
        }
        response = self._post(
            self._query_url,
            json.dumps(request).encode(),
            {
                "Content-Type": "application/json",
                "Accept": "application/csv",
                "Accept-Encoding": "gzip",
            },
            _QUERY_TIMEOUT,
        )
        if response.status != 200:
            raise QueryError(response.status, _error_message(response.data))
        return response.data.decode()

    def _post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: urllib3.Timeout
    ) -> urllib3.BaseHTTPResponse:
        try:
            return self._http.request(
                "POST",
                url,
                body=body,
                headers={"Authorization": self._authorization, **headers},
                timeout=timeout,
            )
        except urllib3.exceptions.HTTPError as error:
            raise DatabaseUnreachableError(f"{self.url}: {error}") from error


def _error_message(body: bytes) -> str:
    """InfluxDB's `{"code": ..., "message": ...}`, or the start of whatever else came."""
    text = body.decode(errors="replace")
    try:
        message = json.loads(text).get("message")
    except ValueError, AttributeError:
        message = None
    return (message if isinstance(message, str) and message else text.strip())[:_MAX_MESSAGE]


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
