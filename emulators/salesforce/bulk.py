"""Bulk API 2.0 query jobs: create, poll, page CSV results by locator, abort, delete.

A job's SOQL is checked when the job is created (a bad query is a 400, as in Salesforce) and
evaluated on the first poll, which then reports ``JobComplete`` with
``numberRecordsProcessed``. Results are streamed as CSV pages of ``maxRecords`` rows
(default 50,000) with ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (``null`` on the last
page). Jobs live in memory for the life of the server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from emulators.salesforce.errors import SalesforceApiError
from emulators.salesforce.queries import QueryService, new_locator
from emulators.salesforce.soql.compiler import CompiledQuery
from emulators.salesforce.soql.records import DELIMITERS, csv_lines, fetch_rows

__all__ = ["DEFAULT_MAX_RECORDS", "BulkJobs"]

DEFAULT_MAX_RECORDS = 50_000
_FETCH = 2000
_LINE_ENDINGS = {"LF": "\n", "CRLF": "\r\n"}


@dataclass
class _Job:
    info: dict[str, Any]
    plan: CompiledQuery
    rowids: list[int] | None = None
    locators: dict[str, int] = field(default_factory=dict)


class BulkJobs:
    """The org's Bulk API 2.0 query jobs."""

    def __init__(self, queries: QueryService, user_id: str) -> None:
        self.queries = queries
        self.user_id = user_id
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def create(self, body: dict[str, Any], api_version: str) -> dict[str, Any]:
        """Create a query job from the JSON body of ``POST jobs/query``."""
        operation = body.get("operation")
        if operation not in ("query", "queryAll"):
            raise SalesforceApiError(
                400, "INVALIDJOB", f"Invalid job operation: {operation!r}; use query or queryAll"
            )
        soql = body.get("query")
        if not isinstance(soql, str) or not soql.strip():
            raise SalesforceApiError(400, "INVALIDJOB", "The query is required")
        delimiter = str(body.get("columnDelimiter", "COMMA"))
        ending = str(body.get("lineEnding", "LF"))
        if delimiter not in DELIMITERS or ending not in _LINE_ENDINGS:
            raise SalesforceApiError(
                400, "INVALIDJOB", f"Unsupported columnDelimiter/lineEnding: {delimiter}/{ending}"
            )
        plan = self.queries.plan(
            soql, self.queries.store.schema, include_deleted=operation == "queryAll", bulk=True
        )
        stamp = self.queries.store.clock.stamp()
        job_id = new_locator("750")
        info = {
            "id": job_id,
            "operation": operation,
            "object": plan.obj.name,
            "createdById": self.user_id,
            "createdDate": stamp,
            "systemModstamp": stamp,
            "state": "UploadComplete",
            "concurrencyMode": "Parallel",
            "contentType": "CSV",
            "apiVersion": float(api_version),
            "lineEnding": ending,
            "columnDelimiter": delimiter,
        }
        with self._lock:
            self._jobs[job_id] = _Job(info, plan)
        return dict(info)

    def _job(self, job_id: str) -> _Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return job

    def status(self, job_id: str) -> dict[str, Any]:
        """``GET jobs/query/{id}``: runs the query on first poll, then reports JobComplete."""
        job = self._job(job_id)
        if job.rowids is None and job.info["state"] == "UploadComplete":
            job.rowids = self.queries.matching_rowids(job.plan)
            job.info.update(
                state="JobComplete",
                systemModstamp=self.queries.store.clock.stamp(),
                numberRecordsProcessed=len(job.rowids),
                retries=0,
                totalProcessingTime=1,
            )
        return dict(job.info)

    def abort(self, job_id: str) -> dict[str, Any]:
        """``PATCH jobs/query/{id}`` with ``{"state": "Aborted"}``."""
        job = self._job(job_id)
        if job.info["state"] in ("JobComplete", "Failed", "Aborted"):
            raise SalesforceApiError(
                400, "INVALIDJOB", f"Job is already in a terminal state: {job.info['state']}"
            )
        job.info["state"] = "Aborted"
        return dict(job.info)

    def delete(self, job_id: str) -> None:
        """``DELETE jobs/query/{id}``."""
        self._job(job_id)
        with self._lock:
            self._jobs.pop(job_id, None)

    def list(self) -> dict[str, Any]:
        """``GET jobs/query``."""
        with self._lock:
            records = [dict(j.info) for j in self._jobs.values()]
        return {"done": True, "records": records, "nextRecordsUrl": None}

    def results(
        self, job_id: str, locator: str | None, max_records: int | None
    ) -> tuple[int, str, Iterator[str]]:
        """One page of CSV: (number of records, next locator or "null", CSV text in blocks)."""
        job = self._job(job_id)
        if job.info["state"] != "JobComplete" or job.rowids is None:
            raise SalesforceApiError(
                409, "INVALIDJOB", f"Job is not complete: state is {job.info['state']}"
            )
        start = 0
        if locator:
            if locator not in job.locators:
                raise SalesforceApiError(400, "INVALIDLOCATOR", f"Invalid locator: {locator}")
            start = job.locators[locator]
        size = max_records if max_records and max_records > 0 else DEFAULT_MAX_RECORDS
        chunk = job.rowids[start : start + size]
        end = start + len(chunk)
        next_locator = "null"
        if end < len(job.rowids):
            next_locator = new_locator("")[:12]
            job.locators[next_locator] = end
        delimiter = DELIMITERS[job.info["columnDelimiter"]]
        ending = _LINE_ENDINGS[job.info["lineEnding"]]

        def lines() -> Iterator[str]:
            yield from csv_lines(job.plan, [], delimiter=delimiter, line_ending=ending)
            for i in range(0, len(chunk), _FETCH):
                rows = fetch_rows(self.queries.store, job.plan, chunk[i : i + _FETCH])
                # One string per block of rows: one write to the socket, not one per line.
                yield "".join(
                    csv_lines(job.plan, rows, delimiter=delimiter, line_ending=ending, header=False)
                )

        return len(chunk), next_locator, lines()
