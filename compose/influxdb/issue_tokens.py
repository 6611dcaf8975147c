"""Issue each InfluxDB client of the stack its own least-privilege token.

./scripts/stack runs this after InfluxDB's first-start setup, with the bridge's image (Python's
standard library only) on the Compose network. InfluxDB generates token values itself (its API
takes none from the caller), so the tokens cannot be written to compose/.env beforehand: this
prints `NAME=token` for each token it issued, and ./scripts/stack saves them there.

A token already in .env is kept while InfluxDB still holds it, active, with exactly its
permissions; otherwise a new one is issued and the older authorizations with the same
description are revoked, so no forgotten token keeps access. Only this step sees the admin token.

Environment: INFLUXDB_URL, INFLUXDB_ADMIN_TOKEN, INFLUXDB_ORG, INFLUXDB_BUCKET, and the tokens
saved so far (INFLUXDB_BRIDGE_TOKEN, INFLUXDB_HOMEASSISTANT_TOKEN, INFLUXDB_GRAFANA_TOKEN).
"""

from collections.abc import Mapping
from dataclasses import dataclass
import json
import os
import sys
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Role:
    """One client: the variable its token lives in and what it may do with the bucket."""

    variable: str
    client: str
    actions: tuple[str, ...]

    def description(self, bucket: str) -> str:
        """How the authorization is named in InfluxDB's UI (and found again)."""
        return f"Energy Edge {self.client}: {' and '.join(self.actions)} bucket {bucket}"


ROLES = (
    # The bridge writes readings and answers /api/history with Flux queries.
    Role("INFLUXDB_BRIDGE_TOKEN", "bridge", ("read", "write")),
    # Home Assistant's InfluxDB export only writes.
    Role("INFLUXDB_HOMEASSISTANT_TOKEN", "Home Assistant", ("write",)),
    # Grafana's dashboards only read.
    Role("INFLUXDB_GRAFANA_TOKEN", "Grafana", ("read",)),
)


class InfluxDBError(Exception):
    """InfluxDB refused a request or could not be reached; the message says which."""


class InfluxDB:
    """The few calls of InfluxDB 2's HTTP API this step needs, with the admin token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        """Send one request; return its decoded JSON (None for an empty answer)."""
        request = Request(  # noqa: S310 (the URL comes from the stack's own settings)
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                content = response.read()
        except HTTPError as error:
            raise InfluxDBError(f"{method} {path}: HTTP {error.code}: {reason(error)}") from error
        except (URLError, TimeoutError) as error:
            raise InfluxDBError(f"{method} {path}: InfluxDB is unreachable: {error}") from error
        return json.loads(content) if content else None


def reason(error: HTTPError) -> str:
    """InfluxDB's own message from an error answer (`{"code": ..., "message": ...}`)."""
    try:
        return str(json.loads(error.read())["message"])
    except ValueError, KeyError, TypeError:
        return str(error.reason)


def permissions(role: Role, org_id: str, bucket_id: str) -> list[dict[str, Any]]:
    """The role's permissions: its actions on the one bucket, nothing else."""
    return [
        {"action": action, "resource": {"type": "buckets", "id": bucket_id, "orgID": org_id}}
        for action in role.actions
    ]


def grants(authorization: Mapping[str, Any]) -> set[tuple[str, str, str | None]]:
    """What an authorization allows, as (action, resource type, resource id)."""
    return {
        (permission["action"], permission["resource"]["type"], permission["resource"].get("id"))
        for permission in authorization.get("permissions", [])
    }


def issue_tokens(
    influxdb: InfluxDB, org: str, bucket: str, saved: Mapping[str, str]
) -> dict[str, str]:
    """Make sure each role has a working token; return the variables whose token is new."""
    orgs = influxdb.call("GET", "/api/v2/orgs?" + urlencode({"org": org}))["orgs"]
    if not orgs:
        raise InfluxDBError(f"organization {org!r} does not exist (INFLUXDB_ORG)")
    org_id = str(orgs[0]["id"])
    buckets = influxdb.call(
        "GET", "/api/v2/buckets?" + urlencode({"orgID": org_id, "name": bucket})
    )["buckets"]
    if not buckets:
        raise InfluxDBError(f"bucket {bucket!r} does not exist in {org!r} (INFLUXDB_BUCKET)")
    bucket_id = str(buckets[0]["id"])
    existing = influxdb.call("GET", "/api/v2/authorizations?" + urlencode({"orgID": org_id}))[
        "authorizations"
    ]
    issued = {}
    for role in ROLES:
        wanted = permissions(role, org_id, bucket_id)
        description = role.description(bucket)
        token = saved.get(role.variable, "")
        still_valid = token and any(
            authorization.get("token") == token
            and authorization.get("status") == "active"
            and grants(authorization) == grants({"permissions": wanted})
            for authorization in existing
        )
        if not still_valid:
            created = influxdb.call(
                "POST",
                "/api/v2/authorizations",
                {
                    "orgID": org_id,
                    "status": "active",
                    "description": description,
                    "permissions": wanted,
                },
            )
            token = issued[role.variable] = str(created["token"])
            print(f"issued the {role.client}'s token ({description})", file=sys.stderr)
        for authorization in existing:
            if (
                authorization.get("description") == description
                and authorization.get("token") != token
            ):
                influxdb.call("DELETE", f"/api/v2/authorizations/{quote(authorization['id'])}")
                print(f"revoked an older token: {description}", file=sys.stderr)
    return issued


def main(environ: Mapping[str, str] = os.environ) -> int:
    """Print `NAME=token` for each token issued; 1 with InfluxDB's reason when it fails."""
    influxdb = InfluxDB(environ["INFLUXDB_URL"], environ["INFLUXDB_ADMIN_TOKEN"])
    try:
        issued = issue_tokens(
            influxdb, environ["INFLUXDB_ORG"], environ["INFLUXDB_BUCKET"], environ
        )
    except InfluxDBError as error:
        print(f"InfluxDB tokens: {error}", file=sys.stderr)
        return 1
    for variable, token in issued.items():
        print(f"{variable}={token}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
