"""Classification: what the caller does next follows from the class, never from text."""

from __future__ import annotations

import email.utils

import httpx
import pytest

from shared.dataverse.classify import classify, parse_retry_after
from shared.errors import (
    AuthenticationError,
    RejectedByTargetError,
    TargetError,
    ThrottledError,
    TransientServiceError,
    UnreachableError,
)


def response(status: int, code: str = "", message: str = "m", **headers: str) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": message}}, headers=headers
    )


def test_429_is_throttled_with_retry_after_seconds() -> None:
    err = classify(
        response(429, "0x80072322", "Number of requests exceeded", **{"Retry-After": "7"}),
        object_name="account",
    )
    assert isinstance(err, ThrottledError)
    assert err.retry_after == 7.0
    assert err.status == 429
    assert "0x80072322" in err.message and "account" in err.message


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(when, now=1_000_000) == pytest.approx(30.0)
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient(status: int) -> None:
    assert isinstance(classify(response(status)), TransientServiceError)


def test_401_is_authentication_and_names_what_to_check() -> None:
    err = classify(response(401, message="invalid token"))
    assert isinstance(err, AuthenticationError)
    assert "application user" in err.message


def test_record_level_400_keeps_server_code_and_message() -> None:
    err = classify(
        response(400, "0x8004431A", "The picklist value is out of the range."),
        object_name="contact",
        record_id="6f1f",
    )
    assert isinstance(err, RejectedByTargetError)
    assert err.server_code == "0x8004431a"
    assert err.reason_code == "TARGET_REJECTED"
    assert "picklist value is out of the range" in err.message
    assert err.record_id == "6f1f"


def test_missing_lookup_and_disabled_owner_have_their_own_reason_codes() -> None:
    missing = classify(response(404, "0x80040217", "account With Id = x Does Not Exist"))
    assert isinstance(missing, RejectedByTargetError)
    assert missing.reason_code == "TARGET_LOOKUP_MISSING"
    owner = classify(response(400, "0x8004022b", "The specified owner has been disabled."))
    assert isinstance(owner, RejectedByTargetError)
    assert owner.reason_code == "OWNER_DISABLED_AT_WRITE"


def test_privilege_denied_is_not_one_records_fault() -> None:
    assert isinstance(classify(response(403, "0x80040220", "missing prvCreate")), TargetError)
    assert not isinstance(
        classify(response(403, "0x80040220", "missing prvCreate")), RejectedByTargetError
    )
    assert isinstance(classify(response(405, "0x80040315")), TargetError)


def test_non_json_error_body_still_classified() -> None:
    err = classify(httpx.Response(502, text="<html>Bad gateway</html>"))
    assert isinstance(err, TransientServiceError)
    assert "Bad gateway" in err.message


def test_transport_failures() -> None:
    request = httpx.Request("GET", "https://org.example/api/data/v9.2/WhoAmI")
    assert isinstance(classify(httpx.ConnectError("refused", request=request)), UnreachableError)
    assert isinstance(classify(httpx.ReadTimeout("slow", request=request)), TransientServiceError)
    assert isinstance(
        classify(httpx.RemoteProtocolError("dropped", request=request)), TransientServiceError
    )
