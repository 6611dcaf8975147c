"""InfluxDB tokens: the admin token stays with InfluxDB; each client gets its own, least-privilege.

InfluxDB 2 cannot run here. The wiring is checked statically, and compose/influxdb/issue_tokens.py
is run as ./scripts/stack runs it, against a server answering with InfluxDB 2's documented API
responses (GET /api/v2/orgs, /api/v2/buckets, /api/v2/authorizations; POST and DELETE
/api/v2/authorizations). What no test here runs: the script inside the bridge's image on the
Compose network (`docker compose run`), and a real InfluxDB enforcing the permissions.
"""

from collections.abc import Iterator
import json
import os
from pathlib import Path
import subprocess
import sys
from typing import Any

import pytest

from tests.bridge.recorded_influxdb import RecordedInfluxDB, Request, Response, error
from tests.stack import checks
from tests.stack.checks import Stack
from tests.stack.conftest import StackCopy

ISSUE_TOKENS = checks.REPO / "compose/influxdb/issue_tokens.py"
ADMIN_TOKEN = "admin-token-from-dotenv"  # noqa: S105
ORG_ID = "0a1b2c3d4e5f6071"
BUCKET_ID = "8e0cc79097d0afb5"
JSON = {"Content-Type": "application/json; charset=utf-8"}


def answer(status: int, body: dict[str, Any]) -> Response:
    """A JSON answer as InfluxDB sends it."""
    return Response(status, json.dumps(body).encode(), JSON)


# InfluxDB 2's answers (formats of its OpenAPI description, OSS flavour).
ORGS = answer(
    200,
    {
        "links": {"self": "/api/v2/orgs"},
        "orgs": [{"id": ORG_ID, "name": "energy-edge", "description": "", "links": {}}],
    },
)
BUCKETS = answer(
    200,
    {
        "links": {"self": "/api/v2/buckets?descending=false&limit=20&name=energy&offset=0"},
        "buckets": [
            {
                "id": BUCKET_ID,
                "orgID": ORG_ID,
                "type": "user",
                "name": "energy",
                "retentionRules": [{"type": "expire", "everySeconds": 15724800}],
            }
        ],
    },
)
NO_BUCKET = answer(200, {"links": {"self": "/api/v2/buckets"}, "buckets": []})


def authorization(
    identifier: str, token: str, description: str, actions: tuple[str, ...], status: str = "active"
) -> dict[str, Any]:
    """One authorization as GET /api/v2/authorizations lists it (OSS shows the token)."""
    return {
        "id": identifier,
        "token": token,
        "status": status,
        "description": description,
        "orgID": ORG_ID,
        "org": "energy-edge",
        "userID": "0a1b2c3d4e5f6099",
        "user": "admin",
        "permissions": [
            {
                "action": action,
                "resource": {
                    "type": "buckets",
                    "id": BUCKET_ID,
                    "orgID": ORG_ID,
                    "name": "energy",
                    "org": "energy-edge",
                },
            }
            for action in actions
        ],
        "links": {"self": f"/api/v2/authorizations/{identifier}"},
    }


def authorizations(*listed: dict[str, Any]) -> Response:
    """GET /api/v2/authorizations."""
    return answer(
        200, {"links": {"self": "/api/v2/authorizations"}, "authorizations": list(listed)}
    )


def created(request_number: int) -> Response:
    """POST /api/v2/authorizations: 201 with the token InfluxDB generated."""
    token = f"generated-{request_number}-Xq7vN2kLpR9sT4wY6zA1bC3dE5fG8hJ0==="
    return answer(201, {"id": f"0b{request_number:014d}", "token": token, "status": "active"})


ADMIN_ONLY = authorizations(
    {
        **authorization("0a00000000000001", ADMIN_TOKEN, "admin's Token", ()),
        "permissions": [{"action": "read", "resource": {"type": "authorizations"}}],
    }
)
BRIDGE = "Energy Edge bridge: read and write bucket energy"
HOME_ASSISTANT = "Energy Edge Home Assistant: write bucket energy"
GRAFANA = "Energy Edge Grafana: read bucket energy"
HELD = {
    "INFLUXDB_BRIDGE_TOKEN": "held-bridge-token==",
    "INFLUXDB_HOMEASSISTANT_TOKEN": "held-ha-token==",
    "INFLUXDB_GRAFANA_TOKEN": "held-grafana-token==",
}
HELD_AUTHORIZATIONS = (
    authorization("0c00000000000001", HELD["INFLUXDB_BRIDGE_TOKEN"], BRIDGE, ("read", "write")),
    authorization(
        "0c00000000000002", HELD["INFLUXDB_HOMEASSISTANT_TOKEN"], HOME_ASSISTANT, ("write",)
    ),
    authorization("0c00000000000003", HELD["INFLUXDB_GRAFANA_TOKEN"], GRAFANA, ("read",)),
)


@pytest.fixture
def influxdb() -> Iterator[RecordedInfluxDB]:
    """A server answering as InfluxDB 2."""
    server = RecordedInfluxDB(default=error(500, "internal error", "unexpected request"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def issue(influxdb: RecordedInfluxDB, **saved: str) -> subprocess.CompletedProcess[str]:
    """Run the script as ./scripts/stack does: the bridge's environment plus the admin token."""
    return subprocess.run(
        [sys.executable, str(ISSUE_TOKENS)],
        env={
            "PATH": os.environ["PATH"],
            "INFLUXDB_URL": influxdb.url,
            "INFLUXDB_ORG": "energy-edge",
            "INFLUXDB_BUCKET": "energy",
            "INFLUXDB_ADMIN_TOKEN": ADMIN_TOKEN,
            **saved,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def posted(request: Request) -> tuple[str, set[tuple[str, str, str, str]]]:
    """A POST /api/v2/authorizations: its description and (action, type, id, orgID) grants."""
    body = json.loads(request.body)
    assert (body["orgID"], body["status"]) == (ORG_ID, "active")
    return body["description"], {
        (
            permission["action"],
            permission["resource"]["type"],
            permission["resource"]["id"],
            permission["resource"]["orgID"],
        )
        for permission in body["permissions"]
    }


def test_a_new_database_gets_one_token_per_client_each_limited_to_the_bucket(
    influxdb: RecordedInfluxDB,
) -> None:
    """Bridge: write and read; Home Assistant: write; Grafana: read; nothing beyond the bucket."""
    influxdb.answer(ORGS, BUCKETS, ADMIN_ONLY, created(1), created(2), created(3))
    result = issue(influxdb)
    assert result.returncode == 0, result.stderr
    assert [(request.method, request.path) for request in influxdb.requests] == [
        ("GET", "/api/v2/orgs"),
        ("GET", "/api/v2/buckets"),
        ("GET", "/api/v2/authorizations"),
        ("POST", "/api/v2/authorizations"),
        ("POST", "/api/v2/authorizations"),
        ("POST", "/api/v2/authorizations"),
    ]
    assert influxdb.requests[1].query == {"orgID": [ORG_ID], "name": ["energy"]}
    assert all(
        request.headers["Authorization"] == f"Token {ADMIN_TOKEN}" for request in influxdb.requests
    )
    bucket = ("buckets", BUCKET_ID, ORG_ID)
    assert [posted(request) for request in influxdb.requests[3:]] == [
        (BRIDGE, {("read", *bucket), ("write", *bucket)}),
        (HOME_ASSISTANT, {("write", *bucket)}),
        (GRAFANA, {("read", *bucket)}),
    ]
    assert result.stdout.splitlines() == [
        f"INFLUXDB_BRIDGE_TOKEN={json.loads(created(1).body)['token']}",
        f"INFLUXDB_HOMEASSISTANT_TOKEN={json.loads(created(2).body)['token']}",
        f"INFLUXDB_GRAFANA_TOKEN={json.loads(created(3).body)['token']}",
    ]
    assert ADMIN_TOKEN not in result.stdout + result.stderr


def test_tokens_influxdb_still_holds_are_kept(influxdb: RecordedInfluxDB) -> None:
    """Every later `up`: nothing issued, nothing revoked, .env unchanged."""
    influxdb.answer(ORGS, BUCKETS, authorizations(*HELD_AUTHORIZATIONS))
    result = issue(influxdb, **HELD)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert [request.method for request in influxdb.requests] == ["GET", "GET", "GET"]


def test_a_lost_token_is_replaced_and_the_older_one_revoked(influxdb: RecordedInfluxDB) -> None:
    """A token .env lost (or never had) is issued again; the one nobody holds stops working."""
    influxdb.answer(
        ORGS,
        BUCKETS,
        authorizations(*HELD_AUTHORIZATIONS),
        created(1),
        Response(204),
    )
    result = issue(influxdb, **{**HELD, "INFLUXDB_GRAFANA_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"INFLUXDB_GRAFANA_TOKEN={json.loads(created(1).body)['token']}"
    ]
    assert [(request.method, request.path) for request in influxdb.requests[3:]] == [
        ("POST", "/api/v2/authorizations"),
        ("DELETE", "/api/v2/authorizations/0c00000000000003"),
    ]


@pytest.mark.parametrize(
    "changed",
    [
        # Deactivated in InfluxDB's UI.
        authorization(
            "0c00000000000002", "held-ha-token==", HOME_ASSISTANT, ("write",), "inactive"
        ),
        # Given more than it needs (read added by hand).
        authorization("0c00000000000002", "held-ha-token==", HOME_ASSISTANT, ("read", "write")),
    ],
)
def test_a_token_that_no_longer_matches_its_role_is_replaced(
    influxdb: RecordedInfluxDB, changed: dict[str, Any]
) -> None:
    """Inactive or widened: Home Assistant gets a new token with write only."""
    bridge, _, grafana = HELD_AUTHORIZATIONS
    influxdb.answer(
        ORGS, BUCKETS, authorizations(bridge, changed, grafana), created(1), Response(204)
    )
    result = issue(influxdb, **HELD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("INFLUXDB_HOMEASSISTANT_TOKEN=generated-1-")
    assert posted(influxdb.requests[3]) == (
        HOME_ASSISTANT,
        {("write", "buckets", BUCKET_ID, ORG_ID)},
    )
    assert influxdb.requests[4].method == "DELETE"


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        (
            [error(401, "unauthorized", "unauthorized access")],
            "GET /api/v2/orgs?org=energy-edge: HTTP 401: unauthorized access",
        ),
        (
            [error(404, "not found", 'organization name "energy-edge" not found')],
            'HTTP 404: organization name "energy-edge" not found',
        ),
        ([ORGS, NO_BUCKET], "bucket 'energy' does not exist in 'energy-edge' (INFLUXDB_BUCKET)"),
    ],
)
def test_a_refusal_stops_the_stack_with_influxdb_s_reason(
    influxdb: RecordedInfluxDB, responses: list[Response], message: str
) -> None:
    """A wrong admin token or a missing bucket: exit 1, the reason, and no token printed."""
    influxdb.answer(*responses)
    result = issue(influxdb)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_unreachable_influxdb_is_said(tmp_path: Path) -> None:
    """No server: exit 1 and say so."""
    result = subprocess.run(
        [sys.executable, str(ISSUE_TOKENS)],
        env={
            "INFLUXDB_URL": "http://127.0.0.1:9",
            "INFLUXDB_ORG": "energy-edge",
            "INFLUXDB_BUCKET": "energy",
            "INFLUXDB_ADMIN_TOKEN": ADMIN_TOKEN,
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "InfluxDB is unreachable" in result.stderr


# --- The stack's wiring -------------------------------------------------------------------


def test_the_stack_passes(stack: Stack) -> None:
    """The repository's stack gives each client its own token and the admin token to no one."""
    assert checks.influxdb_token_problems(stack) == []


@pytest.mark.parametrize("service", ["bridge", "homeassistant", "grafana"])
def test_a_client_given_the_admin_token_is_caught(copy: StackCopy, service: str) -> None:
    """The all-access token in a client would let whoever takes it over delete every bucket."""

    def give_admin_token(compose: dict[str, Any]) -> None:
        environment = compose["services"][service]["environment"]
        environment["INFLUXDB_TOKEN"] = "${INFLUXDB_ADMIN_TOKEN}"  # noqa: S105

    copy.edit_compose(give_admin_token)
    problems = checks.influxdb_token_problems(copy.stack)
    assert f"{service} receives the InfluxDB admin token (INFLUXDB_TOKEN)" in problems


def test_clients_sharing_a_token_are_caught(copy: StackCopy) -> None:
    """Grafana with Home Assistant's token could write; HA's could no longer be revoked alone."""
    copy.replace(
        "docker-compose.yml",
        "INFLUXDB_TOKEN: ${INFLUXDB_GRAFANA_TOKEN}",
        "INFLUXDB_TOKEN: ${INFLUXDB_HOMEASSISTANT_TOKEN}",
    )
    assert checks.influxdb_token_problems(copy.stack) == [
        "grafana: INFLUXDB_HOMEASSISTANT_TOKEN may write the bucket; it needs read",
        "homeassistant and grafana share INFLUXDB_HOMEASSISTANT_TOKEN",
    ]


def test_a_role_given_more_than_its_client_needs_is_caught(copy: StackCopy) -> None:
    """Grafana only reads: a token that may write would let a dashboard's viewer corrupt data."""
    copy.replace(
        "influxdb/issue_tokens.py",
        'Role("INFLUXDB_GRAFANA_TOKEN", "Grafana", ("read",))',
        'Role("INFLUXDB_GRAFANA_TOKEN", "Grafana", ("read", "write"))',
    )
    assert checks.influxdb_token_problems(copy.stack) == [
        "grafana: INFLUXDB_GRAFANA_TOKEN may read and write the bucket; it needs read"
    ]
