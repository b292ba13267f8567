"""The error tree (generated from known-errors.json) and the decoding of every kind of error answer."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from stack_auth import errors
from stack_auth._decode import decode
from stack_auth._http import RawResponse

KNOWN = json.loads((Path(__file__).resolve().parents[1] / "stack_auth" / "_data" / "known-errors.json").read_text())
STATUS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError", 404: "NotFoundError",
          409: "ConflictError", 429: "RateLimitError"}  # fmt: skip


def class_name(code: str) -> str:
    return "".join(p.capitalize() for p in code.split("_"))


def raw(status: int, body: bytes | str | dict[str, object], **headers: str) -> RawResponse:
    content = json.dumps(body).encode() if isinstance(body, dict) else body.encode() if isinstance(body, str) else body
    return RawResponse(status, httpx.Headers(headers), content)


@pytest.mark.parametrize("entry", KNOWN, ids=[e["code"] for e in KNOWN])
def test_each_known_code_has_a_class_in_the_hierarchy(entry: dict[str, object]) -> None:
    cls = getattr(errors, class_name(str(entry["code"])))
    assert cls.code_for_class == entry["code"]
    assert cls.default_status == entry["status"]
    assert errors.KNOWN_ERRORS[str(entry["code"])] is cls
    if entry["parent"]:
        assert issubclass(cls, getattr(errors, class_name(str(entry["parent"]))))
    status = entry["status"]
    if isinstance(status, int):
        expected = "InternalServerError" if status >= 500 else STATUS.get(status)
        if expected:
            assert issubclass(cls, getattr(errors, expected))


def test_catching_a_base_code_catches_its_children() -> None:
    answer = raw(
        401, {"code": "ACCESS_TOKEN_EXPIRED", "error": "expired"}, **{"x-stack-known-error": "ACCESS_TOKEN_EXPIRED"}
    )
    with pytest.raises(errors.InvalidAccessToken) as info:
        decode("GET", "https://x/api/v1/users/me", answer)
    assert isinstance(info.value, errors.AccessTokenExpired)
    assert isinstance(info.value, errors.AuthenticationError)
    assert (info.value.status, info.value.code, info.value.message) == (401, "ACCESS_TOKEN_EXPIRED", "expired")


def test_real_sample_errors_decode_to_their_classes(samples: dict[str, dict[str, object]]) -> None:
    count = 0
    for name, sample in samples.items():
        if not name.startswith("error:"):
            continue
        headers = dict(sample["headers"])  # type: ignore[call-overload]
        answer = raw(int(sample["status"]), sample["body"], **headers)  # type: ignore[call-overload,arg-type]
        method, url = str(sample["request"]).split(" ", 1)
        with pytest.raises(errors.StackAuthApiError) as info:
            decode(method, url, answer)
        code = sample["body"]["code"]  # type: ignore[index]
        assert type(info.value) is errors.KNOWN_ERRORS[code]
        assert info.value.status == int(headers.get("x-stack-actual-status", sample["status"]))  # type: ignore[arg-type]
        assert (info.value.method, info.value.url) == (method, url)
        count += 1
    assert count >= 10


def test_unknown_code_is_a_typed_error_with_that_code() -> None:
    answer = raw(
        409, {"code": "SOMETHING_NEW", "error": "new", "details": {"a": 1}}, **{"x-stack-known-error": "SOMETHING_NEW"}
    )
    with pytest.raises(errors.ConflictError) as info:
        decode("POST", "u", answer)
    assert type(info.value) is errors.ConflictError
    assert (info.value.code, info.value.details) == ("SOMETHING_NEW", {"a": 1})


def test_html_error_page_gives_a_short_readable_excerpt() -> None:
    page = (
        "<html><head><style>b{}</style></head><body><h1>502 Bad Gateway</h1>" + "<p>nginx</p>" * 200 + "</body></html>"
    )
    with pytest.raises(errors.InternalServerError) as info:
        decode("GET", "u", raw(502, page, **{"content-type": "text/html"}))
    assert info.value.message.startswith("502 Bad Gateway nginx")
    assert len(info.value.message) <= 200 and "<" not in info.value.message
    assert info.value.code is None


@pytest.mark.parametrize("status", [400, 500])
def test_empty_error_body(status: int) -> None:
    with pytest.raises(errors.StackAuthApiError) as info:
        decode("GET", "u", raw(status, b""))
    assert info.value.message == "(empty body)"
    assert info.value.status == status


def test_empty_or_garbage_success_body_is_malformed() -> None:
    for body in (b"", b"{not json"):
        with pytest.raises(errors.MalformedResponseError, match="expected a JSON body"):
            decode("GET", "u", raw(200, body))


def test_header_and_body_code_mismatch_is_an_error_not_a_guess() -> None:
    answer = raw(404, {"code": "TEAM_NOT_FOUND", "error": "x"}, **{"x-stack-known-error": "USER_NOT_FOUND"})
    with pytest.raises(errors.MalformedResponseError, match=r"USER_NOT_FOUND.*TEAM_NOT_FOUND"):
        decode("GET", "u", answer)
    missing = raw(404, "User not found", **{"x-stack-known-error": "USER_NOT_FOUND"})
    with pytest.raises(errors.MalformedResponseError, match="no code in the body"):
        decode("GET", "u", missing)


def test_override_error_status_uses_the_actual_status() -> None:
    answer = raw(200, {"code": "USER_NOT_FOUND", "error": "User not found."},
                 **{"x-stack-known-error": "USER_NOT_FOUND", "x-stack-actual-status": "404"})  # fmt: skip
    with pytest.raises(errors.UserNotFound) as info:
        decode("GET", "u", answer)
    assert info.value.status == 404
    assert decode("GET", "u", raw(200, {"ok": 1}, **{"x-stack-actual-status": "200"})) == {"ok": 1}


def test_rate_limit_json_without_code() -> None:
    with pytest.raises(errors.RateLimitError) as info:
        decode("GET", "u", raw(429, {"message": "Too many requests"}, **{"retry-after": "2"}))
    assert info.value.message == "Too many requests" and info.value.code is None


def test_error_repr_and_str_carry_no_headers() -> None:
    answer = raw(401, {"code": "INVALID_SECRET_SERVER_KEY", "error": "bad key"},
                 **{"x-stack-known-error": "INVALID_SECRET_SERVER_KEY", "set-cookie": "secret-cookie"})  # fmt: skip
    with pytest.raises(errors.InvalidSecretServerKey) as info:
        decode("GET", "https://api/api/v1/users", answer)
    assert "secret-cookie" not in repr(info.value) + str(info.value)
    assert str(info.value) == "401 INVALID_SECRET_SERVER_KEY: bad key (GET https://api/api/v1/users)"
