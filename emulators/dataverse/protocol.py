"""Transport-neutral request and reply objects, so ``$batch`` parts run through the same code."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from emulators.dataverse.errors import DataverseFault, payload_error

API_PREFIX = "/api/data/v9.2/"


@dataclass
class ApiRequest:
    """One Web API call: path relative to the service root, raw query, lower-cased headers."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    caller: str
    base_url: str
    content_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_target(
        cls,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        caller: str,
        base_url: str,
    ) -> ApiRequest:
        """Build from a request target such as ``contacts(…)?$select=x`` (relative to root)."""
        path, _, qs = target.partition("?")
        query = dict(parse_qsl(qs, keep_blank_values=True))
        return cls(method.upper(), unquote(path), query, headers, body, caller, base_url)

    def json(self, entity_set: str = "") -> Any:
        """The JSON body, or the real payload error when it is not JSON."""
        if not self.body:
            return {}
        try:
            return json.loads(self.body)
        except ValueError:
            raise payload_error(
                entity_set,
                "Microsoft.OData.ODataException: Invalid JSON. "
                "The request body could not be parsed.",
            ) from None

    def prefer(self) -> str:
        """The ``Prefer`` header (lower-cased)."""
        return self.headers.get("prefer", "").lower()

    @property
    def annotations(self) -> bool:
        """True when the client asked for ``odata.include-annotations``."""
        return "odata.include-annotations" in self.prefer()

    def wanted_annotations(self) -> AnnotationFilter:
        """Which instance annotations to return, from ``odata.include-annotations="…"``."""
        header = self.headers.get("prefer", "")
        match = re.search(r'odata\.include-annotations="?([^";]*)"?', header, re.IGNORECASE)
        return AnnotationFilter(
            tuple(p.strip() for p in match.group(1).split(",")) if match else ()
        )

    def url(self, path: str) -> str:
        """An absolute URL under the service root."""
        return self.base_url + path


@dataclass(frozen=True)
class AnnotationFilter:
    """Annotation names (or ``*`` / ``Namespace.*`` patterns) a client asked for."""

    patterns: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def wants(self, name: str) -> bool:
        """True if the annotation ``name`` (without the leading ``@``) was asked for."""
        for pattern in self.patterns:
            if pattern == "*" or pattern == name:
                return True
            if pattern.endswith("*") and name.startswith(pattern[:-1]):
                return True
        return False


@dataclass
class ApiReply:
    """Status, JSON (or raw text) body and headers of a reply."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        """The body as bytes (JSON unless it is already text/bytes)."""
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()

    def content_type(self) -> str | None:
        """The media type of the body."""
        if self.body is None:
            return None
        if isinstance(self.body, bytes | str):
            return self.headers.get("content-type", "text/plain")
        return "application/json; odata.metadata=minimal"


def fault_reply(fault: DataverseFault, annotations: bool = False) -> ApiReply:
    """The reply of a refused request."""
    return ApiReply(fault.status, fault.body(annotations), dict(fault.headers))
