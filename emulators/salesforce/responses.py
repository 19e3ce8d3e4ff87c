"""HTTP plumbing shared by the emulator's resources: JSON and error responses, faults.

A dropped connection is simulated the way a network failure looks to a client: the response
declares a body length and the connection closes before the body is complete.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from emulators.salesforce.errors import SalesforceApiError

__all__ = ["DroppedConnection", "api_error", "json_response"]

JSON_TYPE = "application/json;charset=UTF-8"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response encoded as Salesforce does (UTF-8, no ASCII escaping)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)


def api_error(exc: SalesforceApiError, headers: dict[str, str] | None = None) -> Response:
    """The REST error body ``[{"message", "errorCode"}]`` with the error's status."""
    return json_response(exc.body(), status=exc.status or 400, headers=headers)


class DroppedConnection(Response):
    """Announce a body, send part of it, then stop: the client sees the connection drop."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200, media_type=JSON_TYPE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", JSON_TYPE.encode()),
                    (b"content-length", b"4096"),
                ],
            }
        )
        # Part of the body, then return without finishing: the server closes the connection.
        await send({"type": "http.response.body", "body": b'{"totalSize":', "more_body": True})
