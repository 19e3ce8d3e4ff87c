"""The stage contract, run unchanged against the directory and the Blob (Azurite) backend."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from shared.errors import StageError
from shared.stage.base import Stage
from shared.stage.keys import file_key, raw_batch_key

RECORDS: list[dict[str, Any]] = [
    {"Id": "003000000000001AAA", "LastName": "O'Brien", "Owner.Email": "ana@x.com"},
    {"Id": "003000000000002AAA", "LastName": "Zoë 東京", "Amount": 1.5, "IsDeleted": False},
    {"Id": "003000000000003AAA", "LastName": None, "Account.Name": None},
]


def test_batch_round_trip_with_manifest(stage: Stage) -> None:
    key = raw_batch_key("run1", "Contact", 0)
    manifest = stage.write_batch(key, iter(RECORDS), {"last_id": "003000000000003AAA"})
    assert manifest["count"] == 3
    assert len(manifest["sha256"]) == 64
    assert manifest["last_id"] == "003000000000003AAA"
    assert stage.batch_manifest(key) == manifest
    assert list(stage.read_batch(key)) == RECORDS
    assert stage.list_batches("run1/raw/Contact/") == [key]


def test_same_records_give_same_checksum_on_every_backend(stage: Stage) -> None:
    # Byte-identical batches let a directory stage be copied to Blob and still verify.
    a = stage.write_batch("r/raw/A/00000", RECORDS)
    b = stage.write_batch("r/raw/B/00000", RECORDS)
    assert a["sha256"] == b["sha256"]
    stored = stage.get_bytes("r/raw/A/00000.jsonl.gz")
    assert hashlib.sha256(stored).hexdigest() == a["sha256"]
    assert len(stored) == a["bytes"]


def test_empty_batch_is_complete(stage: Stage) -> None:
    manifest = stage.write_batch("r/raw/Lead/00000", [])
    assert manifest["count"] == 0
    assert list(stage.read_batch("r/raw/Lead/00000")) == []


def test_failing_record_source_leaves_no_batch(stage: Stage) -> None:
    def broken() -> Iterator[dict[str, Any]]:
        yield RECORDS[0]
        raise ConnectionError("source dropped mid-batch")

    with pytest.raises(ConnectionError):
        stage.write_batch("r/raw/Contact/00001", broken())
    assert stage.batch_manifest("r/raw/Contact/00001") is None
    assert stage.list_batches("r/") == []
    assert stage.list_keys("r/") == []


def test_rewriting_a_batch_never_pairs_old_manifest_with_new_data(stage: Stage) -> None:
    key = "r/raw/Contact/00000"
    stage.write_batch(key, RECORDS)

    def broken() -> Iterator[dict[str, Any]]:
        yield RECORDS[0]
        raise ConnectionError("dropped")

    with pytest.raises(ConnectionError):
        stage.write_batch(key, broken())
    # The old manifest was withdrawn before the new data was written.
    assert stage.batch_manifest(key) is None
    assert key not in stage.list_batches("r/")


def test_data_without_manifest_is_not_a_batch(stage: Stage) -> None:
    stage.write_batch("r/raw/Contact/00000", RECORDS)
    stage.delete("r/raw/Contact/00000.manifest.json")
    assert stage.list_batches("r/raw/Contact/") == []
    with pytest.raises(StageError, match="missing or incomplete"):
        list(stage.read_batch("r/raw/Contact/00000"))


def test_corrupt_batch_is_refused_before_any_record_is_read(stage: Stage) -> None:
    stage.write_batch("r/raw/Contact/00000", RECORDS)
    other = stage.write_batch("r/raw/Contact/00001", RECORDS[:1])
    stage.put_bytes("r/raw/Contact/00000.jsonl.gz", stage.get_bytes("r/raw/Contact/00001.jsonl.gz"))
    assert other["count"] == 1
    reader = stage.read_batch("r/raw/Contact/00000")
    with pytest.raises(StageError, match="sha256"):
        next(reader)


def test_unserialisable_record_is_named(stage: Stage) -> None:
    with pytest.raises(StageError, match=r"record #2 \(Id 003B\)"):
        stage.write_batch("r/raw/X/00000", [{"Id": "003A"}, {"Id": "003B", "v": object()}])
    assert stage.list_batches("r/") == []


def test_stream_round_trip_and_listing(stage: Stage) -> None:
    key = file_key("run1", "ContentVersion", "068000000000001AAA")
    chunks = [b"%PDF-1.7\n", bytes(range(256)) * 1000, b"end"]
    size = stage.put_stream(key, iter(chunks))
    assert size == sum(len(c) for c in chunks)
    with stage.open_read(key) as fh:
        assert fh.read(9) == b"%PDF-1.7\n"
        rest = fh.read()
    assert rest == b"".join(chunks)[9:]
    assert stage.exists(key)
    assert stage.list_keys("run1/files/") == [key]
    assert stage.list_keys("run1/fil") == [key]
    assert stage.list_keys("run2/") == []


def test_bytes_missing_and_delete(stage: Stage) -> None:
    stage.put_bytes("r/reports/a.json", b"{}")
    assert stage.get_bytes("r/reports/a.json") == b"{}"
    stage.delete("r/reports/a.json")
    stage.delete("r/reports/a.json")  # deleting twice is fine
    assert not stage.exists("r/reports/a.json")
    with pytest.raises(StageError, match="does not exist"):
        stage.get_bytes("r/reports/a.json")
    with pytest.raises(StageError, match="does not exist"):
        stage.open_read("r/reports/a.json")


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs", "a//b", "a/./b", "a/.hidden", "a\\b"])
def test_unsafe_keys_are_refused(stage: Stage, bad: str) -> None:
    with pytest.raises(StageError, match="not valid"):
        stage.put_bytes(bad, b"x")


def test_batches_list_sorted(stage: Stage) -> None:
    for n in (2, 0, 1):
        stage.write_batch(raw_batch_key("r", "Account", n), [{"Id": str(n)}])
    stage.write_batch(raw_batch_key("r", "Contact", 0), [{"Id": "c"}])
    assert stage.list_batches("r/raw/Account/") == [
        "r/raw/Account/00000",
        "r/raw/Account/00001",
        "r/raw/Account/00002",
    ]


def test_interrupted_stream_leaves_no_object(stage: Stage) -> None:
    def dropped() -> Iterator[bytes]:
        yield b"x" * 70_000
        raise ConnectionError("download dropped")

    key = file_key("run1", "Attachment", "00P000000000001AAA")
    with pytest.raises(ConnectionError):
        stage.put_stream(key, dropped())
    assert not stage.exists(key)
    assert stage.list_keys("run1/") == []
