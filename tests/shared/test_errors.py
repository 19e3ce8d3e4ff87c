"""The exception tree: callers decide by branch, and messages name the record."""

from __future__ import annotations

import pytest

from shared import errors as e


@pytest.mark.parametrize(
    ("cls", "branch"),
    [
        (e.ThrottledError, e.RetryableError),
        (e.TransientServiceError, e.RetryableError),
        (e.AuthenticationError, e.FatalError),
        (e.UnreachableError, e.FatalError),
        (e.SourceError, e.FatalError),
        (e.TargetError, e.FatalError),
        (e.SchemaError, e.FatalError),
        (e.StageError, e.FatalError),
        (e.MappingNotConfirmedError, e.FatalError),
        (e.ReconciliationGateError, e.FatalError),
        (e.NotBuiltError, e.FatalError),
        (e.TransformError, e.RecordError),
        (e.RejectedByTargetError, e.RecordError),
    ],
)
def test_each_error_sits_on_the_branch_that_says_what_to_do(
    cls: type[e.MigrationError], branch: type[e.MigrationError]
) -> None:
    assert issubclass(cls, branch)
    assert issubclass(cls, e.MigrationError)
    others = {e.RetryableError, e.FatalError, e.RecordError} - {branch}
    assert not any(issubclass(cls, other) for other in others)


def test_record_errors_carry_what_quarantine_needs() -> None:
    err = e.TransformError(
        "contact 003xx0000012AbCAAU: emailaddress1 'bob@' is not an email address",
        reason_code="INVALID_EMAIL",
        field="Email",
        value="bob@",
        hint="correct the address in Salesforce",
        object_name="Contact",
        record_id="003xx0000012AbCAAU",
    )
    data = err.to_dict()
    assert data["reason_code"] == "INVALID_EMAIL"
    assert data["record_id"] == "003xx0000012AbCAAU"
    assert data["value"] == "bob@"
    assert "003xx0000012AbCAAU" in str(err)


def test_target_rejection_keeps_the_server_code() -> None:
    err = e.RejectedByTargetError(
        "account 001...: choice out of range", server_code="0x8004431A", field="industrycode"
    )
    assert err.reason_code == "TARGET_REJECTED"
    assert err.to_dict()["server_code"] == "0x8004431A"


def test_retryable_errors_carry_retry_after() -> None:
    err = e.ThrottledError("429", retry_after=7.5, status=429)
    assert err.retry_after == 7.5
    assert err.status == 429


def test_exit_codes() -> None:
    assert e.ConfigError(["x: bad"]).exit_code == 2
    assert e.NotBuiltError("later").exit_code == 3
    assert e.StageError("disk full").exit_code == 1
