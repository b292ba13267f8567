"""The emulator checked by a tool that does not know it: schemathesis, driven by Stack's own OpenAPI documents.

Every operation of ``openapi-server.json`` and ``openapi-client.json`` that the emulator serves (taken from its
router, so routes added later are covered without touching this file) gets generated requests (valid and invalid
bodies, queries and path parameters, schemathesis' coverage cases) with the server's or the client's access headers.
Each answer must:

- not be a 5xx;
- when 2xx, have a status the document lists and conform to the document's schema in Stack's reading
  (:func:`stack_auth.testing.openapi.stack_reading`: types nullable, bare objects any JSON);
- when 4xx, be in Stack's error format: a known error (``x-stack-known-error`` equal to the JSON body's ``code``,
  a string ``error``, the status known-errors.json gives the code) or a plain-text message.

Each example runs on a fresh seeded emulator. Path and query parameters named like an id (``user_id``, ``team_id``,
...) also take the seeded ids, and every operation may carry the seeded user's access token, so the success paths
and the signed-in paths run too. The budget is bounded: ``STACK_CONFORMANCE_EXAMPLES`` examples
per operation in the fuzzing phase (default 8 in the test suite; ``nox -s conformance`` runs 40), a fixed seed,
no example database.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

import anyio
import jsonschema
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from stack_auth._exceptions import KNOWN_ERRORS
from stack_auth.testing import Emulator
from stack_auth.testing.app import ROUTER
from stack_auth.testing.defaults import API_PREFIX
from stack_auth.testing.openapi import load_document, nullable_schema, stack_reading

try:  # tests/ as a package (tests/__init__.py) or as plain modules
    from .emulator_helpers import client_for, spec_dir
except ImportError:
    from emulator_helpers import client_for, spec_dir  # type: ignore[no-redef]

EXAMPLES = int(os.environ.get("STACK_CONFORMANCE_EXAMPLES", "8"))
_PARAM = re.compile(r"\{[^}]*\}")


def _template_shape(template: str) -> str:
    """``/users/{user_id}`` and ``/users/{id}`` are the same route."""
    return _PARAM.sub("{}", template)


#: Fixed, so every run sends the same requests (another seed explores further: ``STACK_CONFORMANCE_SEED=7``).
SEED = int(os.environ.get("STACK_CONFORMANCE_SEED", "13"))
#: Parameters whose names say which seeded object they take (others keep what schemathesis generates).
SEEDED_KINDS = ("user_id", "team_id", "id", "permission_id", "project_id", "contact_channel_id")


@dataclass(frozen=True)
class World:
    """A fresh emulator with two users, a team and two sessions; ``ids`` by the parameter names that take them.

    The seed makes every world alike (same ids, same signing key), so the document can offer the ids and the
    access token before the run, and each example still starts from the same untouched state.
    """

    emulator: Emulator
    ids: dict[str, list[str]]
    access_token: str


def seeded_world(*, read_channels: bool = False) -> World:
    """A fresh world; ``read_channels`` also reads the users' contact channel ids over HTTP (done once, for WORLD:
    the seed makes them the same in every world)."""
    emu = Emulator(seed=SEED, password_hash_iterations=1, access_token_lifetime=24 * 3600)
    alice = emu.create_user(
        primary_email="alice@example.com", primary_email_auth_enabled=True, password="alice-password", display_name="A"
    )
    bob = emu.create_user(primary_email="bob@example.com", display_name="Bob")
    team = emu.create_team("Team", creator_user_id=alice["id"])
    emu.add_team_member(team["id"], bob["id"])
    current = emu.create_session(alice["id"])
    other = emu.create_session(alice["id"])
    personal_team = (emu.get_user(alice["id"]) or {})["selected_team_id"]
    ids = {
        "user_id": [alice["id"], bob["id"], "me"],
        "team_id": [team["id"], personal_team],
        "id": [other["session_id"], current["session_id"]],
        "permission_id": ["$update_team", "$read_members", "team_admin"],
        "project_id": [emu.project_id],
    }
    if read_channels:
        ids["contact_channel_id"] = anyio.run(_channel_ids, emu, [alice["id"], bob["id"]])
    return World(emu, ids, current["access_token"])


async def _channel_ids(emu: Emulator, user_ids: list[str]) -> list[str]:
    async with client_for(emu) as client:
        lists = [
            (await client.get("/api/v1/contact-channels", params={"user_id": u}, headers=emu.headers())).json()
            for u in user_ids
        ]
    return [channel["id"] for answer in lists for channel in answer["items"]]


WORLD = seeded_world(read_channels=True)


def _with_seeded_values(parameter: dict[str, Any]) -> dict[str, Any]:
    """An id parameter that also takes the seeded ids (``anyOf``), so generated requests reach existing objects."""
    name = parameter.get("name")
    if parameter.get("in") not in ("path", "query") or name not in SEEDED_KINDS:
        return parameter
    return {**parameter, "schema": {"anyOf": [parameter.get("schema", {}), {"enum": WORLD.ids[name]}]}}


def _access_token_header() -> dict[str, Any]:
    """Signed in or not: an optional header whose valid value is the seeded user's token."""
    return {"name": "x-stack-access-token", "in": "header", "required": False, "schema": {"enum": [WORLD.access_token]}}


def emulated_document(kind: str) -> dict[str, Any]:
    """The operations of ``openapi-<kind>.json`` the emulator's router serves, answers in Stack's reading.

    Two defects of the generated documents are mended: path parameters are required (some say ``required: false``,
    which OpenAPI forbids), and ``servers`` points at ``/api/v1``. Id parameters also take the seeded ids, and each
    operation may carry the seeded user's access token.
    """
    doc = load_document(spec_dir() / f"openapi-{kind}.json")
    served = {(method, _template_shape(template)) for method, template in ROUTER.routes()}
    paths: dict[str, Any] = {}
    for template, operations in doc["paths"].items():
        kept: dict[str, Any] = {}
        for method, operation in operations.items():
            if (method.upper(), _template_shape(template)) not in served:
                continue
            parameters = [
                _with_seeded_values({**p, "required": True} if p.get("in") == "path" else p)
                for p in operation.get("parameters", [])
            ]
            if not any(p.get("in") == "header" and p["name"].lower() == "x-stack-access-token" for p in parameters):
                parameters.append(_access_token_header())
            kept[method] = {**operation, "parameters": parameters, "responses": stack_reading(operation["responses"])}
        if kept:
            paths[template] = kept
    return {
        "openapi": doc["openapi"],
        "info": {"title": f"Stack REST API ({kind} access, emulated routes)", "version": "1"},
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
    }


def _config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    )


SERVER = schemathesis.openapi.from_dict(emulated_document("server"), config=_config())
CLIENT = schemathesis.openapi.from_dict(emulated_document("client"), config=_config())


def stack_error_format(ctx: Any, response: Any, case: Any) -> None:
    """2xx: a documented status. 4xx: a known error (header = body code, status of the code) or plain text.

    Schemathesis also sends methods the path does not document: those get Stack's plain-text 405, except
    ``OPTIONS``, which Stack's middleware answers as a CORS preflight (200, empty body).
    """
    status = response.status_code
    headers = {k.lower(): v[0] if isinstance(v, list) else v for k, v in response.headers.items()}
    content_type = headers.get("content-type", "")
    if 200 <= status < 300:
        operation = case.operation.schema.raw_schema["paths"][case.operation.path].get(case.method.lower())
        if operation is None:
            assert case.method.upper() == "OPTIONS", f"{case.method} is not documented here but answered {status}"
            assert status == 200 and not response.content, (status, response.content[:100])
            return
        assert str(status) in operation["responses"], f"{status} is not documented ({sorted(operation['responses'])})"
        return
    code = headers.get("x-stack-known-error")
    if code is None:
        assert content_type.startswith("text/plain"), f"{status} without x-stack-known-error: {content_type!r}"
        assert response.text.strip(), f"{status}: empty plain-text error"
        return
    assert content_type.startswith("application/json"), f"known error {code} as {content_type!r}"
    body = json.loads(response.text)
    assert isinstance(body, dict), body
    assert body.get("code") == code, f"x-stack-known-error {code} but body code {body.get('code')!r}"
    assert isinstance(body.get("error"), str), body
    assert set(body) <= {"code", "error", "details"}, sorted(body)
    assert isinstance(body.get("details", {}), dict), body
    known = KNOWN_ERRORS.get(code)
    assert known is not None, f"{code} is not in known-errors.json"
    assert known.default_status == status, f"{code} answered {status}, known-errors.json says {known.default_status}"


CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance, stack_error_format]


def _run(case: Any, kind: str) -> None:
    world = seeded_world()
    assert all(WORLD.ids[k] == v for k, v in world.ids.items()), "the seeded worlds differ: examples would differ"
    response = case.call(app=world.emulator.asgi_app, headers=world.emulator.headers(kind))
    case.validate_response(response, checks=CHECKS)


# One pytest item runs every operation of a document: its timeout grows with the budget.
TIMEOUT = pytest.mark.timeout(120 + 10 * EXAMPLES)


@SERVER.parametrize()
@TIMEOUT
def test_server_access(case: Any) -> None:
    _run(case, "server")


@CLIENT.parametrize()
@TIMEOUT
def test_client_access(case: Any) -> None:
    _run(case, "client")


@pytest.mark.parametrize("kind", ["server", "client"])
def test_the_run_covers_every_documented_route_the_emulator_serves(kind: str) -> None:
    """The filter follows the router: each served route the document has is in the run, and nothing else."""
    full = load_document(spec_dir() / f"openapi-{kind}.json")["paths"]
    run = emulated_document(kind)["paths"]
    in_run = {(m.upper(), _template_shape(t)) for t, ops in run.items() for m in ops}
    documented = {(m.upper(), _template_shape(t)) for t, ops in full.items() for m in ops}
    served = {(m, _template_shape(t)) for m, t in ROUTER.routes()}
    assert in_run == documented & served
    assert {("GET", "/users/me"), ("PATCH", "/teams/{}")} <= in_run  # not vacuous: today's routes are in it


def test_every_world_starts_alike_with_existing_objects_to_name() -> None:
    again = seeded_world(read_channels=True)
    assert again.ids == WORLD.ids
    assert all(v is not None for values in WORLD.ids.values() for v in values)
    assert len(WORLD.ids["contact_channel_id"]) == 2  # alice's and bob's primary emails


def test_stack_reading_takes_nulls_and_any_json_where_stack_does() -> None:
    """Metadata is yup ``mixed`` (any JSON; the real server echoes ``[1, 2]``), written ``{"type": "object"}``."""
    schema = {
        "type": "object",
        "properties": {"client_metadata": {"type": "object"}, "selected_team": {"type": "object", "properties": {}}},
    }
    read = stack_reading(schema)
    ok = jsonschema.Draft202012Validator(read)
    assert ok.is_valid({"client_metadata": [1, 2], "selected_team": None})
    assert not ok.is_valid({"selected_team": [1, 2]})  # a real object stays an object (or null)
    assert not jsonschema.Draft202012Validator(nullable_schema(schema)).is_valid({"client_metadata": [1, 2]})
