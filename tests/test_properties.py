"""Property-based tests of the client (hypothesis), over every model and update method the package has.

- Any JSON answer for a model (extra keys, nulls, wrong types, missing keys), alone or in a list answer, decodes to
  exactly what it says, or raises :class:`MalformedResponseError`; nothing else.
- Any status, body and headers decode to JSON or to exactly one typed error: the class the code and status name.
- Arbitrary strings in queries and path segments reach the emulator unchanged.
- ``NOT_GIVEN``, None or a value for each argument of each ``update*`` method gives the body Stack expects: the
  argument left out, ``null``, or the value (asserted on the request the emulator received).

Models and update methods are found by introspection (``stack_auth.models.__all__``, the resources of the apps), so
ones added later are covered without editing this file. Example counts are bounded and the runs derandomized (the
``stack`` hypothesis profile in ``conftest.py``).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import stack_auth.models as models
from stack_auth import AsyncStackClientApp, AsyncStackServerApp, StackServerApp
from stack_auth._decode import decode
from stack_auth._exceptions import KNOWN_ERRORS, MalformedResponseError, StackAuthApiError, status_class
from stack_auth._http import RawResponse
from stack_auth.errors import InvalidArgumentError
from stack_auth.models import NOT_GIVEN, NotGiven, structure, structure_page
from stack_auth.models._converter import wire_name
from stack_auth.testing import Emulator, in_process_app

pytestmark = pytest.mark.anyio

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON = st.recursive(
    JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
)
MILLIS = st.integers(min_value=0, max_value=4_102_444_800_000)  # up to 2100
FIXTURE_HEALTH = [HealthCheck.function_scoped_fixture]  # the fixtures are shared by all examples on purpose


# --- the models --------------------------------------------------------------------------------------------------


def decodable_models() -> list[type[Any]]:
    """Every public model the converter decodes (attrs classes that keep unknown keys in ``extra``)."""
    found = [getattr(models, name) for name in models.__all__]
    return [m for m in found if isinstance(m, type) and attrs.has(m) and "extra" in attrs.fields_dict(m)]


class Unknown(Exception):
    """A field type this test cannot predict the decoding of (a model added later with a new kind of field)."""


class Unfit(Exception):
    """The value does not fit the type: decoding must raise MalformedResponseError."""


def _fields(cls: type[Any]) -> Iterator[tuple[attrs.Attribute[Any], Any]]:
    hints = typing.get_type_hints(cls)
    for f in attrs.fields(cls):
        if f.name != "extra":
            yield f, hints[f.name]


def _optional_of(t: Any) -> Any | None:
    """``X`` for ``X | None`` (None otherwise)."""
    if typing.get_origin(t) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(t) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(t)) == 2:
            return args[0]
    return None


def valid_json(t: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """JSON that fits type ``t`` (raises Unknown for types this test does not know)."""
    inner = _optional_of(t)
    if inner is not None:
        return st.none() | valid_json(inner, depth)
    if t is Any:
        return JSON
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=12),
        bool: st.booleans(),
        int: st.integers(),
        float: st.floats(allow_nan=False, allow_infinity=False) | st.integers(),
        datetime: MILLIS,
    }
    if t in simple:
        return simple[t]
    origin, args = typing.get_origin(t), typing.get_args(t)
    if (origin is tuple and args[1:] == (Ellipsis,)) or (origin is list and len(args) == 1):
        return st.lists(valid_json(args[0], depth + 1), max_size=2)
    if isinstance(t, type) and attrs.has(t) and depth < 3:
        return model_json(t, depth + 1)
    raise Unknown(repr(t))


def field_json(t: Any, depth: int) -> st.SearchStrategy[Any]:
    """A field's value: fitting, null, or any JSON at all (often of the wrong type)."""
    try:
        return st.one_of(valid_json(t, depth), st.none(), JSON)
    except Unknown:
        return JSON


def model_json(cls: type[Any], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """An answer for ``cls``: each field present (any value) or absent, plus unknown keys."""
    wire = {wire_name(f): (f, t) for f, t in _fields(cls)}
    present = {name: field_json(t, depth) for name, (_, t) in wire.items()}
    extra = st.dictionaries(st.text(max_size=8).filter(lambda k: k not in wire), JSON, max_size=2)
    return st.fixed_dictionaries({}, optional=present).flatmap(lambda d: extra.map(lambda e: {**e, **d}))


def expected(t: Any, value: Any) -> Any:
    """What ``value`` must decode to as type ``t`` (raises Unfit when it must not decode, Unknown if unsure)."""
    inner = _optional_of(t)
    if inner is not None:
        return None if value is None else expected(inner, value)
    if t is Any:
        return value
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if t is str or t is bool:
        if type(value) is not t:
            raise Unfit(f"{value!r} is not a {t.__name__}")
        return value
    if t is int:
        if not number or not float(value).is_integer():
            raise Unfit(f"{value!r} is not an integer")
        return int(value)
    if t is float:
        if not number:
            raise Unfit(f"{value!r} is not a number")
        return float(value)
    if t is datetime:
        if not number:
            raise Unfit(f"{value!r} is not a time in milliseconds")
        try:
            return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise Unfit(f"{value!r} is out of range") from None
    origin, args = typing.get_origin(t), typing.get_args(t)
    if (origin is tuple and args[1:] == (Ellipsis,)) or (origin is list and len(args) == 1):
        if not isinstance(value, list):
            raise Unfit(f"{value!r} is not an array")
        return origin(expected(args[0], v) for v in value)
    if isinstance(t, type) and attrs.has(t):
        return expected_model(t, value)
    raise Unknown(repr(t))


def expected_model(cls: type[Any], value: Any) -> Any:
    if not isinstance(value, dict):
        raise Unfit(f"{value!r} is not an object")
    kwargs: dict[str, Any] = {}
    known: set[str] = set()
    for f, t in _fields(cls):
        key = wire_name(f)
        known.add(key)
        if key in value:
            kwargs[f.name] = expected(t, value[key])
        elif f.default is attrs.NOTHING:
            raise Unfit(f"{key} is required")
    obj = cls(**kwargs)
    object.__setattr__(obj, "extra", {k: v for k, v in value.items() if k not in known})
    return obj


def same(a: Any, b: Any) -> bool:
    """Equal, including the ``extra`` of models (attrs equality leaves it out)."""
    if attrs.has(type(a)):
        return (
            type(a) is type(b)
            and all(same(getattr(a, f.name), getattr(b, f.name)) for f in attrs.fields(type(a)) if f.name != "extra")
            and dict(a.extra) == dict(b.extra)
        )
    if isinstance(a, tuple | list):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


def test_the_models_are_found() -> None:
    """The discovery is not vacuous: today's models are in it (new ones join by being exported)."""
    found = set(decodable_models())
    assert {models.ServerUser, models.ClientUser, models.Team, models.SessionInfo, models.SessionTokens} <= found


@pytest.mark.parametrize("cls", decodable_models(), ids=lambda c: c.__name__)
@settings(max_examples=60)
@given(data=st.data())
def test_any_answer_decodes_to_what_it_says_or_raises_malformed(cls: type[Any], data: st.DataObject) -> None:
    answer = data.draw(model_json(cls) | JSON, label="answer")
    try:
        want = expected(cls, answer)
    except Unfit:
        with pytest.raises(MalformedResponseError) as info:
            structure(answer, cls)
        assert info.value.status == 200
        return
    except Unknown:  # a new kind of field: still nothing but a model or MalformedResponseError
        with contextlib.suppress(MalformedResponseError):
            structure(answer, cls)
        return
    got = structure(answer, cls)
    assert same(got, want), (got, want)


def list_json(cls: type[Any]) -> st.SearchStrategy[Any]:
    """A list answer for ``cls``: items (fitting or not), a pagination object (or not), or any JSON at all."""
    cursor = st.fixed_dictionaries({}, optional={"next_cursor": st.none() | st.text(max_size=8) | JSON})
    envelope = st.fixed_dictionaries(
        {}, optional={"items": st.lists(model_json(cls) | JSON, max_size=3) | JSON, "pagination": cursor | JSON}
    )
    return envelope | JSON


@pytest.mark.parametrize("cls", decodable_models(), ids=lambda c: c.__name__)
@settings(max_examples=40)
@given(data=st.data())
def test_any_list_answer_decodes_to_its_items_or_raises_malformed(cls: type[Any], data: st.DataObject) -> None:
    answer = data.draw(list_json(cls), label="answer")
    try:
        if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
            raise Unfit("not a list answer")
        want = [expected(cls, item) for item in answer["items"]]
        pagination = answer.get("pagination") or {}
        if not isinstance(pagination, dict) or not isinstance(pagination.get("next_cursor"), str | None):
            raise Unfit("no readable cursor")
    except Unknown:
        with contextlib.suppress(MalformedResponseError):
            structure_page(answer, cls)
        return
    except Unfit:
        with pytest.raises(MalformedResponseError):
            structure_page(answer, cls)
        return
    page = structure_page(answer, cls)
    assert len(page.items) == len(want) and all(same(a, b) for a, b in zip(page.items, want, strict=True))
    assert page.next_cursor == pagination.get("next_cursor")


@pytest.mark.parametrize(
    ("answer", "where"),
    [
        ({"id": "u", "primary_email_verified": "false"}, "expected a boolean, got a string @ $.primary_email_verified"),
        ({"id": 5}, "expected a string, got an integer @ $.id"),
        ({"id": "u", "oauth_providers": {}}, "expected an array, got an object @ $.oauth_providers"),
        ({"id": "u", "signed_up_at_millis": "yesterday"}, "expected milliseconds since the epoch, got a string"),
        ([], "expected an object, got an array @ $"),
        ({}, "required key missing @ $.id"),
    ],
)
def test_a_wrong_answer_says_where_and_what_was_expected_but_not_the_value(answer: Any, where: str) -> None:
    with pytest.raises(MalformedResponseError) as info:
        structure(answer, models.ServerUser)
    assert where in str(info.value)
    assert "false" not in str(info.value) and "yesterday" not in str(info.value)


# --- error answers -----------------------------------------------------------------------------------------------

HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
CODES = st.sampled_from(sorted(KNOWN_ERRORS)) | HEADER_TEXT


@st.composite
def answers(draw: st.DrawFn) -> RawResponse:
    status = draw(st.integers(min_value=100, max_value=599))
    headers: dict[str, str] = {}
    code = draw(st.none() | CODES)
    if code is not None:
        headers["x-stack-known-error"] = code
    actual = draw(st.none() | st.integers(min_value=100, max_value=599).map(str) | HEADER_TEXT)
    if actual is not None:
        headers["x-stack-actual-status"] = actual
    body_code = draw(st.sampled_from([code]) | CODES | JSON) if draw(st.booleans()) else None
    fields = {"code": body_code, "error": draw(st.text() | JSON), "details": draw(JSON)}
    as_json = draw(st.fixed_dictionaries({}, optional={k: st.just(v) for k, v in fields.items()}) | JSON)
    content = draw(st.just(json.dumps(as_json).encode()) | st.binary(max_size=40) | st.text().map(str.encode))
    return RawResponse(status, httpx.Headers(headers), content)


_STATUS = re.compile(r"[1-5][0-9][0-9]")


def _effective(raw: RawResponse) -> int:
    """The status the answer stands for: ``x-stack-actual-status`` when it is an HTTP status, else the real one."""
    actual = raw.headers.get("x-stack-actual-status")
    return int(actual) if actual is not None and _STATUS.fullmatch(actual) else raw.status


def _body_code(content: bytes) -> str | None:
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


@settings(max_examples=300)
@given(raw=answers())
@example(raw=RawResponse(200, httpx.Headers({}), b"[" * 100_000))
@example(raw=RawResponse(404, httpx.Headers({"x-stack-known-error": "USER_NOT_FOUND"}), b"{" * 100_000))
@example(raw=RawResponse(200, httpx.Headers({"x-stack-actual-status": "-1"}), b"nope"))
@example(raw=RawResponse(200, httpx.Headers({"x-stack-actual-status": "4_0_4"}), b"{}"))
def test_any_answer_decodes_to_json_or_exactly_one_typed_error(raw: RawResponse) -> None:
    status = _effective(raw)
    try:
        data = decode("GET", "http://stack.test/api/v1/x", raw)
    except MalformedResponseError as exc:
        error: StackAuthApiError = exc
    except StackAuthApiError as exc:
        error = exc
    else:
        assert status < 300
        assert data == json.loads(raw.content)
        return
    header = raw.headers.get("x-stack-known-error")
    if status < 300:
        want: type[StackAuthApiError] = MalformedResponseError  # a success body that is not JSON
    elif header is not None and header != _body_code(raw.content):
        want = MalformedResponseError
    else:
        want = KNOWN_ERRORS.get(header or "", status_class(status))
    assert type(error) is want, (type(error), want)
    assert error.status == status
    assert isinstance(error.message, str)
    if status >= 300:
        assert error.code == header


# --- through the emulator: query and path encoding, update bodies -----------------------------------------------


@pytest.fixture
def world(emulator: Emulator) -> dict[str, str]:
    """A user in a team, signed in: ids and tokens."""
    user = emulator.create_user(primary_email="p@example.com", display_name="P")
    team = emulator.create_team("T", creator_user_id=user["id"])
    return {"user_id": user["id"], "team_id": team["id"], **emulator.create_session(user["id"])}


ANY_TEXT = st.text(max_size=30)


# ``app`` (conftest): in-process and over a loopback socket (the SDK's own pool), on asyncio and trio.
@settings(max_examples=40, suppress_health_check=FIXTURE_HEALTH)
@given(text=ANY_TEXT)
@example(text="a b+c&d=e%20f?#/é\x00")
async def test_a_query_string_reaches_the_emulator_unchanged(
    app: AsyncStackServerApp, emulator: Emulator, text: str
) -> None:
    await app.users.list_page(query=text, limit=1)
    seen = emulator.stats.history[-1]
    assert (seen.route, seen.query.get("query")) == ("GET /users", text)


@settings(max_examples=40, suppress_health_check=FIXTURE_HEALTH)
@given(text=ANY_TEXT)
@example(text="a/b")
@example(text="%2F?#é ")
@example(text="..")
async def test_a_path_segment_reaches_the_emulator_unchanged_or_is_refused_before_sending(
    app: AsyncStackServerApp, emulator: Emulator, world: dict[str, str], text: str
) -> None:
    before = emulator.stats.total
    try:
        await app.teams.grant_permission(world["team_id"], world["user_id"], text)
    except InvalidArgumentError:
        assert text in ("", ".", "..")  # no URL can carry these as a path segment
        assert emulator.stats.total == before
        return
    except StackAuthApiError:
        pass  # most strings are not permission ids Stack accepts: what matters is what it received
    seen = emulator.stats.history[-1]
    assert seen.route == "POST /team-permissions/{team_id}/{user_id}/{permission_id}", seen
    assert seen.params == {"team_id": world["team_id"], "user_id": world["user_id"], "permission_id": text}


@settings(max_examples=25, suppress_health_check=FIXTURE_HEALTH)
@given(query=ANY_TEXT, segment=ANY_TEXT.filter(lambda t: t not in ("", ".", "..")))
def test_the_sync_api_encodes_alike(
    sync_app: StackServerApp, emulator: Emulator, world: dict[str, str], query: str, segment: str
) -> None:
    """The generated sync API over a real socket (httpx.Client): the same strings arrive."""
    sync_app.users.list_page(query=query, limit=1)
    assert emulator.stats.history[-1].query.get("query") == query
    with contextlib.suppress(StackAuthApiError):
        sync_app.teams.revoke_permission(world["team_id"], world["user_id"], segment)
    assert emulator.stats.history[-1].params.get("permission_id") == segment


def _arg_values(name: str, annotation: Any) -> st.SearchStrategy[Any] | None:
    """Values of an update argument by its type (ids are UUIDs); None for types this test cannot generate."""
    args = typing.get_args(annotation)
    options = [a for a in args if a is not NotGiven] if args else [annotation]
    nullable = type(None) in options
    kinds = [a for a in options if a is not type(None)]
    if kinds == [str] and name.endswith("_id"):
        value: st.SearchStrategy[Any] = st.uuids().map(str)
    elif kinds == [str]:
        value = st.text(max_size=20)
    elif kinds == [bool]:
        value = st.booleans()
    elif kinds == [Any] or not kinds:
        value = JSON
    else:
        return None
    return st.just(NOT_GIVEN) | (st.none() if nullable else st.nothing()) | value


@attrs.frozen
class UpdateMethod:
    """One partial-update method of a resource (arguments that default to ``NOT_GIVEN``): how to call it."""

    owner: str  # "server" or "client"
    path: str  # e.g. "users.update"
    positional: tuple[str, ...]  # required arguments (ids), positional
    keywords: tuple[str, ...]  # required keyword-only arguments (ids, e.g. a team API key's team_id)
    fields: Mapping[str, st.SearchStrategy[Any]]
    takes_tokens: bool

    def find(self, app: Any) -> Callable[..., Any]:
        resource, method = self.path.split(".")
        bound: Callable[..., Any] = getattr(getattr(app, resource), method)
        return bound


RESOURCES = "stack_auth._async.resources"


def update_methods() -> list[UpdateMethod]:
    """The ``update*`` methods of every resource of the server and client apps that take ``NOT_GIVEN`` arguments
    (``update_password`` is no partial update); found on unopened apps: no I/O."""
    apps = {
        "server": AsyncStackServerApp(project_id="p", secret_server_key="k"),
        "client": AsyncStackClientApp(project_id="p", publishable_client_key="k", token_store=None),
    }
    out: list[UpdateMethod] = []
    for owner, app in apps.items():
        for name in dir(app):
            resource = getattr(app, name) if not name.startswith("_") else None
            if not type(resource).__module__.startswith(RESOURCES):
                continue
            for method_name, fn in inspect.getmembers(type(resource), inspect.iscoroutinefunction):
                if method_name == "update" or method_name.startswith("update_"):
                    out += _describe(owner, f"{name}.{method_name}", fn)
    return out


def _hint(fn: Callable[..., Any], annotation: Any) -> Any:
    """A parameter's annotation, evaluated (one at a time: ``tokens``' alias does not evaluate)."""
    return eval(annotation, fn.__globals__) if isinstance(annotation, str) else annotation


def _describe(owner: str, path: str, fn: Callable[..., Any]) -> list[UpdateMethod]:
    positional: list[str] = []
    keywords: list[str] = []
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for p in inspect.signature(fn).parameters.values():
        if p.name in ("self", "tokens"):
            continue
        if p.default is inspect.Parameter.empty:
            if _hint(fn, p.annotation) is not str:
                return []  # an argument this test cannot make up
            (keywords if p.kind is inspect.Parameter.KEYWORD_ONLY else positional).append(p.name)
        elif p.default is NOT_GIVEN:
            values = _arg_values(p.name, _hint(fn, p.annotation))
            if values is not None:
                fields[p.name] = values
    if not fields:
        return []
    takes_tokens = "tokens" in inspect.signature(fn).parameters
    return [UpdateMethod(owner, path, tuple(positional), tuple(keywords), fields, takes_tokens)]


UPDATE_METHODS = update_methods()


def test_the_update_methods_are_found() -> None:
    found = {(m.owner, m.path) for m in UPDATE_METHODS}
    assert {("server", "users.update"), ("server", "teams.update"), ("client", "current_user.update")} <= found
    users = next(m for m in UPDATE_METHODS if m.path == "users.update")
    assert {"display_name", "client_metadata", "selected_team_id", "primary_email_verified"} <= set(users.fields)


@pytest.mark.parametrize("method", UPDATE_METHODS, ids=lambda m: f"{m.owner}:{m.path}")
@settings(max_examples=40, suppress_health_check=FIXTURE_HEALTH)
@given(data=st.data())
async def test_each_update_argument_is_left_out_sent_as_null_or_sent_as_given(
    emulator: Emulator, world: dict[str, str], method: UpdateMethod, data: st.DataObject
) -> None:
    emu, ids = emulator, world
    args = [ids.get(name, str(uuid.uuid4())) for name in method.positional]
    required = {name: ids.get(name, str(uuid.uuid4())) for name in method.keywords}
    drawn = {name: data.draw(values, label=name) for name, values in method.fields.items()}
    tokens = {"access_token": ids["access_token"], "refresh_token": ids["refresh_token"]}
    kwargs = {**required, **drawn, **({"tokens": tokens} if method.takes_tokens else {})}
    app_class = AsyncStackServerApp if method.owner == "server" else AsyncStackClientApp
    before = emu.stats.total
    async with in_process_app(emu, app_class) as app:
        try:
            await method.find(app)(*args, **kwargs)
        except InvalidArgumentError:
            assert emu.stats.total == before, "a refused argument must not be sent"
            return
        except StackAuthApiError:
            pass  # the emulator may refuse the values: the body it received is what is checked
    assert emu.stats.total == before + 1
    assert emu.stats.history[-1].body == {k: v for k, v in drawn.items() if v is not NOT_GIVEN}


# --- what these properties found, pinned as plain tests ----------------------------------------------------------


def test_a_success_body_nested_too_deep_is_malformed_not_a_recursion_error() -> None:
    with pytest.raises(MalformedResponseError):
        decode("GET", "http://stack.test/api/v1/users", RawResponse(200, httpx.Headers({}), b"[" * 100_000))


@pytest.mark.parametrize("actual", ["-1", "4_0_4", " 404", "40", "1000"])
def test_an_actual_status_header_that_is_not_a_status_is_ignored(actual: str) -> None:
    raw = RawResponse(200, httpx.Headers({"x-stack-actual-status": actual}), b'{"ok": true}')
    assert decode("GET", "http://stack.test/api/v1/users", raw) == {"ok": True}


@pytest.mark.parametrize("segment", [".", ".."])
async def test_a_dot_segment_is_refused_before_anything_is_sent(
    app: AsyncStackServerApp, emulator: Emulator, world: dict[str, str], segment: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=r"other than '\.' and '\.\.'"):
        await app.teams.revoke_permission(world["team_id"], world["user_id"], segment)
    assert emulator.stats.total == 0
